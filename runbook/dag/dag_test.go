package dag

import (
	"reflect"
	"testing"
)

func build(nodes []string, edges ...[2]string) *Graph {
	g := New()
	for _, n := range nodes {
		g.Add(n)
	}
	for _, e := range edges {
		g.Connect(e[0], e[1])
	}
	return g
}

func TestOrderPrefersInsertionOrder(t *testing.T) {
	g := build([]string{"a", "b", "c", "d"}, [2]string{"b", "d"}, [2]string{"c", "a"})
	got, ok := g.Order()
	if !ok || !reflect.DeepEqual(got, []string{"a", "c", "d", "b"}) {
		t.Fatalf("Order = %v, %v", got, ok)
	}
}

func TestCycles(t *testing.T) {
	// a needs c, c needs b, b needs a: one cycle; d needs itself; e is fine.
	g := build([]string{"a", "b", "c", "d", "e"},
		[2]string{"a", "c"}, [2]string{"c", "b"}, [2]string{"b", "a"}, [2]string{"d", "d"}, [2]string{"e", "a"})
	want := [][]string{{"a", "c", "b", "a"}, {"d", "d"}}
	if got := g.Cycles(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Cycles = %v, want %v", got, want)
	}
	if _, ok := g.Order(); ok {
		t.Fatal("Order succeeded on a cyclic graph")
	}
}

func TestAncestors(t *testing.T) {
	g := build([]string{"a", "b", "c", "x"}, [2]string{"b", "a"}, [2]string{"c", "b"})
	if got := g.Ancestors("c"); !reflect.DeepEqual(got, map[string]bool{"a": true, "b": true}) {
		t.Fatalf("Ancestors(c) = %v", got)
	}
	if len(g.Cycles()) != 0 {
		t.Fatal("acyclic graph reported a cycle")
	}
}
