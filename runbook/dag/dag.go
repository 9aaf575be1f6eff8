// Package dag is a directed graph of named nodes kept in insertion order,
// and its walk. It knows nothing of steps or hosts: the runbook builds it,
// validation asks it for cycles, the dry-run prints its order, and the run
// walks it (Walk: each node once its needs are done, at its places, with
// what a failure skips).
package dag

import "sort"

// Graph holds nodes in the order they were added; that order breaks every
// tie, so the same runbook always yields the same walk and the same output.
type Graph struct {
	nodes []string
	index map[string]int
	deps  [][]int // deps[i]: nodes that i needs
}

// New returns an empty graph.
func New() *Graph { return &Graph{index: map[string]int{}} }

// Add adds a node; adding a name twice is a no-op returning false.
func (g *Graph) Add(name string) bool {
	if _, ok := g.index[name]; ok {
		return false
	}
	g.index[name] = len(g.nodes)
	g.nodes = append(g.nodes, name)
	g.deps = append(g.deps, nil)
	return true
}

// Has reports whether name is a node.
func (g *Graph) Has(name string) bool { _, ok := g.index[name]; return ok }

// Connect records that node needs dep. Both must have been added.
func (g *Graph) Connect(node, dep string) {
	i, j := g.index[node], g.index[dep]
	for _, d := range g.deps[i] {
		if d == j {
			return
		}
	}
	g.deps[i] = append(g.deps[i], j)
	sort.Ints(g.deps[i])
}

// Nodes returns the nodes in insertion order.
func (g *Graph) Nodes() []string { return append([]string(nil), g.nodes...) }

// Needs returns what node needs directly, in insertion order.
func (g *Graph) Needs(node string) []string {
	var out []string
	for _, d := range g.deps[g.index[node]] {
		out = append(out, g.nodes[d])
	}
	return out
}

// Edges returns every (node, dep) pair, ordered by node then dep.
func (g *Graph) Edges() [][2]string {
	var out [][2]string
	for i, ds := range g.deps {
		for _, d := range ds {
			out = append(out, [2]string{g.nodes[i], g.nodes[d]})
		}
	}
	return out
}

// Ancestors returns everything node needs, directly or not.
func (g *Graph) Ancestors(node string) map[string]bool {
	seen := map[string]bool{}
	var walk func(i int)
	walk = func(i int) {
		for _, d := range g.deps[i] {
			if !seen[g.nodes[d]] {
				seen[g.nodes[d]] = true
				walk(d)
			}
		}
	}
	walk(g.index[node])
	return seen
}

// Order returns a topological order (dependencies first), preferring
// insertion order among nodes that are ready together. It returns false if
// the graph has a cycle.
func (g *Graph) Order() ([]string, bool) {
	pending := make([]int, len(g.nodes))
	users := make([][]int, len(g.nodes))
	for i, ds := range g.deps {
		pending[i] = len(ds)
		for _, d := range ds {
			users[d] = append(users[d], i)
		}
	}
	var ready []int
	for i := range g.nodes {
		if pending[i] == 0 {
			ready = append(ready, i)
		}
	}
	var out []string
	for len(ready) > 0 {
		sort.Ints(ready)
		i := ready[0]
		ready = ready[1:]
		out = append(out, g.nodes[i])
		for _, u := range users[i] {
			if pending[u]--; pending[u] == 0 {
				ready = append(ready, u)
			}
		}
	}
	return out, len(out) == len(g.nodes)
}

// Cycles returns each cycle once, as a path that starts at its earliest node
// and ends back at it, so one report names every step involved.
func (g *Graph) Cycles() [][]string {
	// Tarjan's strongly connected components.
	n := len(g.nodes)
	index, low := make([]int, n), make([]int, n)
	for i := range index {
		index[i] = -1
	}
	onStack := make([]bool, n)
	var stack []int
	var comps [][]int
	next := 0
	var strong func(v int)
	strong = func(v int) {
		index[v], low[v] = next, next
		next++
		stack = append(stack, v)
		onStack[v] = true
		for _, w := range g.deps[v] {
			if index[w] < 0 {
				strong(w)
				low[v] = min(low[v], low[w])
			} else if onStack[w] {
				low[v] = min(low[v], index[w])
			}
		}
		if low[v] == index[v] {
			var comp []int
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp = append(comp, w)
				if w == v {
					break
				}
			}
			comps = append(comps, comp)
		}
	}
	for v := 0; v < n; v++ {
		if index[v] < 0 {
			strong(v)
		}
	}
	var cycles [][]string
	for _, comp := range comps {
		in := map[int]bool{}
		for _, v := range comp {
			in[v] = true
		}
		sort.Ints(comp)
		start := comp[0]
		if len(comp) == 1 && !contains(g.deps[start], start) {
			continue
		}
		cycles = append(cycles, g.path(start, in))
	}
	sort.Slice(cycles, func(i, j int) bool { return g.index[cycles[i][0]] < g.index[cycles[j][0]] })
	return cycles
}

// path finds a way from start back to itself inside one component.
func (g *Graph) path(start int, in map[int]bool) []string {
	prev := map[int]int{}
	queue := []int{start}
	seen := map[int]bool{}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for _, w := range g.deps[v] {
			if !in[w] {
				continue
			}
			if w == start {
				var back []string
				for u := v; u != start; u = prev[u] {
					back = append(back, g.nodes[u])
				}
				out := []string{g.nodes[start]}
				for i := len(back) - 1; i >= 0; i-- {
					out = append(out, back[i])
				}
				return append(out, g.nodes[start])
			}
			if !seen[w] {
				seen[w] = true
				prev[w] = v
				queue = append(queue, w)
			}
		}
	}
	return []string{g.nodes[start], g.nodes[start]}
}

func contains(xs []int, x int) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
