package dag

import (
	"context"
	"sync"
	"time"
)

// Outcome is how a node ended at one place (a host, for a runbook: the
// graph knows them only as names).
type Outcome uint8

const (
	// Done: its dependents go on at that place.
	Done Outcome = iota
	// Blocked: not done, though not through a fault of the place's (a
	// place it works with failed): its dependents there are skipped, and
	// the place does not count towards MaxFail.
	Blocked
	// Failed: its dependents there are skipped, and the place counts
	// towards MaxFail.
	Failed
)

// Skip is why a node does not run at a place. Exactly one of its parts
// is set.
type Skip struct {
	// Gate is the visitor's own reason (Visitor.Gate).
	Gate string
	// Interrupted: the walk's context ended first.
	Interrupted bool
	// Stop is set once more places failed than MaxFail allows.
	Stop *Stop
	// Need is a need not done: at At, or (At "") at a place the node
	// does not run at, whose work it depends on all the same (the master's
	// checkpoint, for the standby).
	Need, At string
}

// Stop says why a walk starts no new node.
type Stop struct {
	Failed int    // places failed when it stopped
	Last   string // the place whose failure stopped it
}

// Visitor is what a walk is given: where each node runs, and the work.
// Its methods are called from several goroutines at once.
type Visitor interface {
	// Places are where node runs in this walk, in order.
	Places(node string) []string
	// Ran reports whether node is bound to place at all, in this walk or
	// not: a need that ran only at other places must be done at all of
	// them.
	Ran(node, place string) bool
	// Always nodes (clean-up) run where their needs failed, after a stop
	// and after the walk's context ended (on a context of their own,
	// bounded by Options.AlwaysWithin); only Gate keeps them from a place.
	Always(node string) bool
	// Gate is the visitor's own reason a node must not start at place, or
	// "". It is asked first, for every node.
	Gate(node, place string) string
	// Together says node's places are one piece of work (one question to
	// an operator): it is visited once, on all of them, and its outcome
	// holds for each.
	Together(node string, places []string) bool
	// Visit does node's work at places (one, unless Together) and says how
	// it ended.
	Visit(ctx context.Context, node string, places []string) Outcome
	// Skipped is told of each place a node does not run at, or once,
	// with place "", when that is every place of the node.
	Skipped(node, place string, why Skip)
	// NoPlaces is told of a node that has no place in this walk.
	NoPlaces(node string)
}

// Options bound a walk.
type Options struct {
	// Forks is how many places are worked on at once, over all nodes; at
	// least 1.
	Forks int
	// MaxFail is how many places may fail before no new node starts
	// (but Always ones); below 0, any number.
	MaxFail int
	// AlwaysWithin bounds an Always node started after the walk's context
	// ended: clean-up that hangs must not keep an interrupted walk alive.
	AlwaysWithin time.Duration
	// Visit, when set, are the nodes walked; the others are taken as done
	// without a visit (a run --from a step).
	Visit map[string]bool
}

// Walk is one walk of a graph: what failed where, so far.
type Walk struct {
	g *Graph
	o Options

	mu     sync.Mutex
	bad    map[string]map[string]bool // node → places where it is not done
	failed map[string]bool            // places where a node failed
	stop   *Stop
}

// NewWalk prepares a walk of g.
func NewWalk(g *Graph, o Options) *Walk {
	if o.Forks < 1 {
		o.Forks = 1
	}
	return &Walk{g: g, o: o, bad: map[string]map[string]bool{}, failed: map[string]bool{}}
}

// Failed reports whether a node failed at place so far in the walk.
func (w *Walk) Failed(place string) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed[place]
}

// Run starts every node as soon as the nodes it needs have finished at all
// their places, in the graph's order among those ready together, and
// returns once every node has finished or been skipped. A node does not
// start at a place where something it needs is not done, and is skipped
// there (once for the node when that is every place); after ctx ends or
// the walk stops, no node but the Always ones starts.
func (w *Walk) Run(ctx context.Context, v Visitor) {
	order, _ := w.g.Order()
	const (
		pending = iota
		running
		finished
	)
	state := map[string]int{}
	for _, n := range order {
		if w.o.Visit != nil && !w.o.Visit[n] {
			state[n] = finished
		}
	}
	// An Always node (clean-up) starts after every other node it does
	// not lead to: with --only the steps before it are not visited, and
	// it must not log out while the one step chosen still runs.
	after := map[string][]string{}
	for _, n := range order {
		if !v.Always(n) {
			continue
		}
		below := w.downstream(order, n)
		for _, m := range order {
			if m != n && !v.Always(m) && !below[m] {
				after[n] = append(after[n], m)
			}
		}
	}
	done := make(chan string)
	inflight := 0
	forks := make(chan struct{}, w.o.Forks)
	for {
		for _, n := range order {
			if state[n] != pending {
				continue
			}
			ready := true
			for _, d := range w.g.Needs(n) {
				ready = ready && state[d] == finished
			}
			for _, d := range after[n] {
				ready = ready && state[d] == finished
			}
			if !ready {
				continue
			}
			state[n] = running
			inflight++
			go func(n string) {
				w.node(ctx, v, n, forks)
				done <- n
			}(n)
		}
		if inflight == 0 {
			return
		}
		state[<-done] = finished
		inflight--
	}
}

// downstream is the set of nodes that need n, directly or through others.
func (w *Walk) downstream(order []string, n string) map[string]bool {
	below := map[string]bool{n: true}
	for _, m := range order { // the order puts every need before its node
		for _, d := range w.g.Needs(m) {
			if below[d] {
				below[m] = true
			}
		}
	}
	delete(below, n)
	return below
}

// node runs n at each of its places where nothing it needs failed, at
// most Forks at a time over the walk.
func (w *Walk) node(ctx context.Context, v Visitor, n string, forks chan struct{}) {
	always := v.Always(n)
	if always && ctx.Err() != nil && w.o.AlwaysWithin > 0 {
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.o.AlwaysWithin)
		defer cancel()
		ctx = c
	}
	all := v.Places(n)
	if len(all) == 0 {
		v.NoPlaces(n)
		return
	}
	var places []string
	whys := map[string]*Skip{}
	for _, p := range all {
		if why := w.blocked(ctx, v, n, p, always); why != nil {
			whys[p] = why
		} else {
			places = append(places, p)
		}
	}
	if len(places) == 0 {
		// Skipped at every place: said once, with the first reason.
		v.Skipped(n, "", *whys[all[0]])
		for _, p := range all {
			w.mark(n, p, Blocked)
		}
		return
	}
	for _, p := range all {
		if why := whys[p]; why != nil {
			v.Skipped(n, p, *why)
			w.mark(n, p, Blocked)
		}
	}
	if len(places) == 1 || v.Together(n, places) {
		// One visit: no fan-out, one goroutine hop less.
		forks <- struct{}{}
		defer func() { <-forks }()
		out := v.Visit(ctx, n, places)
		for _, p := range places {
			w.mark(n, p, out)
		}
		return
	}
	var wg sync.WaitGroup
	for _, p := range places {
		wg.Add(1)
		go func(p string) {
			defer wg.Done()
			select {
			case forks <- struct{}{}:
			case <-ctx.Done():
				v.Skipped(n, p, Skip{Interrupted: true})
				w.mark(n, p, Blocked)
				return
			}
			defer func() { <-forks }()
			if why := w.blocked(ctx, v, n, p, always); why != nil {
				// The walk stopped while this place waited for a fork.
				v.Skipped(n, p, *why)
				w.mark(n, p, Blocked)
				return
			}
			w.mark(n, p, v.Visit(ctx, n, []string{p}))
		}(p)
	}
	wg.Wait()
}

// blocked says why n must not start at place p, or nil. A need that ran
// at p must be done there; a need that ran only elsewhere must be done
// everywhere it ran.
func (w *Walk) blocked(ctx context.Context, v Visitor, n, p string, always bool) *Skip {
	if why := v.Gate(n, p); why != "" {
		return &Skip{Gate: why}
	}
	if always {
		return nil
	}
	if ctx.Err() != nil {
		return &Skip{Interrupted: true}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.stop != nil {
		return &Skip{Stop: w.stop}
	}
	for _, d := range w.g.Needs(n) {
		bad := w.bad[d]
		if len(bad) == 0 {
			continue
		}
		if bad[p] {
			return &Skip{Need: d, At: p}
		}
		if !v.Ran(d, p) {
			return &Skip{Need: d}
		}
	}
	return nil
}

// mark records how n ended at p, and stops the walk once more places
// failed than MaxFail allows.
func (w *Walk) mark(n, p string, out Outcome) {
	if out == Done {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.bad[n] == nil {
		w.bad[n] = map[string]bool{}
	}
	w.bad[n][p] = true
	if out != Failed {
		return
	}
	w.failed[p] = true
	if w.o.MaxFail >= 0 && len(w.failed) > w.o.MaxFail && w.stop == nil {
		w.stop = &Stop{Failed: len(w.failed), Last: p}
	}
}
