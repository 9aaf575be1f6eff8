package dag

import (
	"context"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// visitor is a walk's visitor from tables: where each node runs, how it
// ends at each place, and a record of what the walk did.
type visitor struct {
	places   map[string][]string
	bound    map[string][]string // Ran; defaults to places
	outcome  map[string]Outcome  // "node@place" → outcome; Done by default
	always   map[string]bool
	gate     map[string]string // "node@place" → reason
	together map[string]bool
	onVisit  func(ctx context.Context, node string)

	mu            sync.Mutex
	visited       []string // "node@place,place"
	skipped       []string // "node@place: why"
	ctxErr        map[string]error
	running, most atomic.Int32
}

func (v *visitor) Places(n string) []string { return v.places[n] }
func (v *visitor) Ran(n, p string) bool {
	bound := v.places[n]
	if b, ok := v.bound[n]; ok {
		bound = b
	}
	for _, q := range bound {
		if q == p {
			return true
		}
	}
	return false
}
func (v *visitor) Always(n string) bool                { return v.always[n] }
func (v *visitor) Gate(n, p string) string             { return v.gate[n+"@"+p] }
func (v *visitor) Together(n string, ps []string) bool { return v.together[n] }
func (v *visitor) NoPlaces(n string)                   { v.skip(n, "", "no places") }
func (v *visitor) Skipped(n, p string, why Skip)       { v.skip(n, p, describe(why)) }
func (v *visitor) skip(n, p, why string) {
	v.mu.Lock()
	v.skipped = append(v.skipped, n+"@"+p+": "+why)
	v.mu.Unlock()
}
func (v *visitor) Visit(ctx context.Context, n string, ps []string) Outcome {
	if r := v.running.Add(1); r > v.most.Load() {
		v.most.Store(r)
	}
	defer v.running.Add(-1)
	if v.onVisit != nil {
		v.onVisit(ctx, n)
	}
	v.mu.Lock()
	v.visited = append(v.visited, fmt.Sprintf("%s@%s", n, join(ps)))
	if v.ctxErr == nil {
		v.ctxErr = map[string]error{}
	}
	v.ctxErr[n] = ctx.Err()
	v.mu.Unlock()
	return v.outcome[n+"@"+ps[0]]
}

func join(ps []string) string {
	s := ""
	for i, p := range ps {
		if i > 0 {
			s += ","
		}
		s += p
	}
	return s
}

func describe(why Skip) string {
	switch {
	case why.Gate != "":
		return "gate " + why.Gate
	case why.Interrupted:
		return "interrupted"
	case why.Stop != nil:
		return fmt.Sprintf("stopped after %d, last %s", why.Stop.Failed, why.Stop.Last)
	case why.At != "":
		return "need " + why.Need + " at " + why.At
	}
	return "need " + why.Need + " elsewhere"
}

func (v *visitor) result() ([]string, []string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	vs, ss := append([]string(nil), v.visited...), append([]string(nil), v.skipped...)
	sort.Strings(vs)
	sort.Strings(ss)
	return vs, ss
}

func check(t *testing.T, v *visitor, visited, skipped []string) {
	t.Helper()
	vs, ss := v.result()
	if !reflect.DeepEqual(vs, visited) {
		t.Errorf("visited %q, want %q", vs, visited)
	}
	if !reflect.DeepEqual(ss, skipped) {
		t.Errorf("skipped %q, want %q", ss, skipped)
	}
}

// A failure skips the node's dependents at that place only; a need that
// ran only elsewhere must be done there; a node skipped at every place is
// said once, and its own dependents are skipped for it, once.
func TestWalkSkipsDependentsOnce(t *testing.T) {
	g := build([]string{"a", "b", "c", "m", "s", "t"},
		[2]string{"b", "a"}, [2]string{"s", "m"}, [2]string{"t", "s"}, [2]string{"c", "b"})
	v := &visitor{
		places: map[string][]string{"a": {"p1", "p2"}, "b": {"p1", "p2"}, "c": {"p1", "p2"},
			"m": {"p1"}, "s": {"p2"}, "t": {"p2"}},
		outcome: map[string]Outcome{"a@p1": Failed, "m@p1": Failed},
	}
	NewWalk(g, Options{Forks: 4, MaxFail: -1}).Run(context.Background(), v)
	check(t, v, []string{"a@p1", "a@p2", "b@p2", "c@p2", "m@p1"}, []string{
		"b@p1: need a at p1", "c@p1: need b at p1",
		"s@: need m elsewhere", "t@: need s at p2",
	})
}

// MaxFail counts failed places, not blocked ones; past it no new node
// starts, but an Always node still runs, where its needs failed too.
func TestWalkMaxFail(t *testing.T) {
	g := build([]string{"a", "b", "c", "z"}, [2]string{"b", "a"}, [2]string{"c", "b"}, [2]string{"z", "c"})
	v := &visitor{
		places:  map[string][]string{"a": {"p1", "p2", "p3"}, "b": {"p2"}, "c": {"p3"}, "z": {"p1", "p2", "p3"}},
		outcome: map[string]Outcome{"a@p1": Blocked, "b@p2": Failed},
		always:  map[string]bool{"z": true},
	}
	w := NewWalk(g, Options{Forks: 1, MaxFail: 0})
	w.Run(context.Background(), v)
	check(t, v, []string{"a@p1", "a@p2", "a@p3", "b@p2", "z@p1", "z@p2", "z@p3"},
		[]string{"c@: stopped after 1, last p2"})
	if !w.Failed("p2") || w.Failed("p1") {
		t.Errorf("Failed: p1 %v, p2 %v; want only p2", w.Failed("p1"), w.Failed("p2"))
	}
}

// After the context ends no node starts (each is skipped as interrupted),
// and an Always node runs on a context of its own, bounded; the visitor's
// gate keeps it from a place all the same.
func TestWalkInterruptedRunsAlways(t *testing.T) {
	g := build([]string{"a", "b", "z"}, [2]string{"b", "a"}, [2]string{"z", "b"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	v := &visitor{
		places: map[string][]string{"a": {"p1"}, "b": {"p1", "p2"}, "z": {"p1", "p2"}},
		always: map[string]bool{"z": true},
		gate:   map[string]string{"z@p2": "never reached"},
		onVisit: func(_ context.Context, n string) {
			if n == "a" {
				cancel()
			}
		},
	}
	NewWalk(g, Options{Forks: 2, MaxFail: -1, AlwaysWithin: time.Minute}).Run(ctx, v)
	check(t, v, []string{"a@p1", "z@p1"}, []string{"b@: interrupted", "z@p2: gate never reached"})
	if err := v.ctxErr["z"]; err != nil {
		t.Errorf("the always node ran on an ended context: %v", err)
	}
}

// Together visits a node once for all its places, and its outcome holds
// for each; Forks bounds the places worked on at once over all nodes; the
// nodes left out of Options.Visit are taken as done.
func TestWalkTogetherForksAndSelection(t *testing.T) {
	g := build([]string{"pre", "a", "b", "c"}, [2]string{"a", "pre"}, [2]string{"c", "a"})
	release := make(chan struct{})
	v := &visitor{
		places:   map[string][]string{"pre": {"p1"}, "a": {"p1", "p2", "p3"}, "b": {"p1", "p2", "p3"}, "c": {"p1", "p2"}},
		outcome:  map[string]Outcome{"a@p1": Failed},
		together: map[string]bool{"a": true},
		onVisit: func(_ context.Context, n string) {
			if n == "b" {
				select {
				case <-release:
				case <-time.After(50 * time.Millisecond):
				}
			}
		},
	}
	NewWalk(g, Options{Forks: 2, MaxFail: -1, Visit: map[string]bool{"a": true, "b": true, "c": true}}).Run(context.Background(), v)
	check(t, v, []string{"a@p1,p2,p3", "b@p1", "b@p2", "b@p3"}, []string{"c@: need a at p1"})
	if most := v.most.Load(); most > 2 {
		t.Errorf("%d visits at once with Forks 2", most)
	}
}

// An Always node starts after every other node of the walk it does not
// lead to, even one it does not need: with --only, the steps between the
// one chosen and the clean-up are not visited, and the clean-up (a logout)
// must not run while the chosen step still does. A node that needs the
// Always one still runs after it, not never.
func TestWalkAlwaysLast(t *testing.T) {
	g := build([]string{"a", "b", "z", "after"}, [2]string{"b", "a"}, [2]string{"z", "b"}, [2]string{"after", "z"})
	var aDone, zDone atomic.Bool
	v := &visitor{
		places: map[string][]string{"a": {"p1"}, "b": {"p1"}, "z": {"p1"}, "after": {"p1"}},
		always: map[string]bool{"z": true},
	}
	v.onVisit = func(_ context.Context, n string) {
		switch n {
		case "a":
			time.Sleep(20 * time.Millisecond)
			aDone.Store(true)
		case "z":
			if !aDone.Load() {
				t.Error("the always node started while a still ran")
			}
			zDone.Store(true)
		case "after":
			if !zDone.Load() {
				t.Error("a node needing the always one started before it")
			}
		}
	}
	NewWalk(g, Options{Forks: 2, MaxFail: -1, Visit: map[string]bool{"a": true, "z": true, "after": true}}).Run(context.Background(), v)
	check(t, v, []string{"a@p1", "after@p1", "z@p1"}, nil)
}
