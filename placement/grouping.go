package placement

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/faasflow/faasflow-go/workflow"
)

// DefaultBandwidth is the network bandwidth between workers that Group
// assumes when Options.Bandwidth is 0: 50 MB/s, in bytes per second.
const DefaultBandwidth = 50e6

// Options tune Group.
type Options struct {
	// Bandwidth is the network bandwidth between workers in bytes per
	// second; it turns the bytes of an edge between groups into seconds on
	// the critical path. 0 means DefaultBandwidth.
	Bandwidth float64
	// InstancesPerFunction is how many of a worker's slots each function
	// takes. 0 means 1.
	InstancesPerFunction int
}

// Group places wf on workers with FaaSFlow's critical-path grouping.
//
// Each function starts in a group of its own. Group then repeatedly finds
// the critical path of the workflow, where a function costs its expected
// run time (Synthetic.Seconds, else 0) and an edge between two groups
// costs its bytes divided by the bandwidth (an edge inside a group costs
// nothing), and merges the two groups joined by the heaviest edge on the
// path whose merged group still fits the largest worker: at most its
// Slots, InstancesPerFunction per function, and at most its MemoryMB, the
// sum of the functions' MemoryMB. An edge whose groups do not fit is not
// tried again; the next heaviest edge on the path is. Edges of 0 bytes are
// never merged, as that cannot shorten the path. Grouping stops when no
// edge on the critical path can be merged.
//
// Groups are then assigned, largest (by slots) first, each to the worker
// with the most free slots that has room for it. A group that fits no
// worker goes to the one with the fewest slots in use rather than failing;
// GroupExplained reports it. Ties are broken by function names and worker
// IDs, so the result depends only on the inputs.
func Group(wf *workflow.Workflow, workers []Worker, opt Options) (map[string]string, error) {
	table, _, err := group(wf, workers, opt)
	return table, err
}

// GroupExplained is Group that also returns the placement's Explanation,
// with a warning for each group that had to go on a worker without room
// for it.
func GroupExplained(wf *workflow.Workflow, workers []Worker, opt Options) (map[string]string, Explanation, error) {
	table, warnings, err := group(wf, workers, opt)
	if err != nil {
		return nil, Explanation{}, err
	}
	e := Explain(wf, table)
	e.Warnings = append(e.Warnings, warnings...)
	return table, e, nil
}

func group(wf *workflow.Workflow, workers []Worker, opt Options) (map[string]string, []string, error) {
	if err := checkWorkers(workers); err != nil {
		return nil, nil, err
	}
	bandwidth := opt.Bandwidth
	switch {
	case bandwidth == 0:
		bandwidth = DefaultBandwidth
	case bandwidth < 0 || math.IsNaN(bandwidth) || math.IsInf(bandwidth, 0):
		return nil, nil, fmt.Errorf("grouping bandwidth %v is not a positive number of bytes per second", opt.Bandwidth)
	}
	perFunction := opt.InstancesPerFunction
	switch {
	case perFunction == 0:
		perFunction = 1
	case perFunction < 0:
		return nil, nil, fmt.Errorf("grouping instances per function %d is negative: use 0 for the default of 1", perFunction)
	}
	g := newGrouper(wf, bandwidth, perFunction)
	slotCap, memCap := largest(workers)
	g.merge(slotCap, memCap)
	table, warnings := g.assign(workers)
	return table, warnings, nil
}

func checkWorkers(workers []Worker) error {
	if len(workers) == 0 {
		return fmt.Errorf("no workers are registered: start some with `faasflow cluster up`")
	}
	seen := map[string]bool{}
	for i, w := range workers {
		switch {
		case w.ID == "":
			return fmt.Errorf("worker %d has no ID", i)
		case seen[w.ID]:
			return fmt.Errorf("worker %q is listed twice", w.ID)
		case w.Slots < 0 || w.MemoryMB < 0:
			return fmt.Errorf("worker %q has negative capacity (%d slots, %d MiB): use 0 for unlimited", w.ID, w.Slots, w.MemoryMB)
		}
		seen[w.ID] = true
	}
	return nil
}

// largest returns the largest worker's slots and memory, each 0 when some
// worker has no limit.
func largest(workers []Worker) (slots, memoryMB int) {
	unlimitedSlots, unlimitedMemory := false, false
	for _, w := range workers {
		unlimitedSlots = unlimitedSlots || w.Slots == 0
		unlimitedMemory = unlimitedMemory || w.MemoryMB == 0
		slots = max(slots, w.Slots)
		memoryMB = max(memoryMB, w.MemoryMB)
	}
	if unlimitedSlots {
		slots = 0
	}
	if unlimitedMemory {
		memoryMB = 0
	}
	return slots, memoryMB
}

// grouper holds the workflow as a DAG of function indices in topological
// order, and the groups built over it. A group's ID is the index of one of
// its functions.
type grouper struct {
	names   []string
	seconds []float64
	edges   []arc
	into    [][]int // function → indices of the edges into it

	groupOf []int   // function → group ID
	members [][]int // group ID → its functions (empty when merged away)
	gSlots  []int   // group ID → slots
	gMemory []int   // group ID → MiB

	dist []float64 // scratch for criticalPath
	prev []int
}

type arc struct {
	from, to int
	bytes    int64
	cost     float64 // seconds when the edge crosses groups
	blocked  bool    // its groups did not fit together
}

func newGrouper(wf *workflow.Workflow, bandwidth float64, perFunction int) *grouper {
	n := len(wf.Order)
	g := &grouper{
		names:   wf.Order,
		seconds: make([]float64, n),
		into:    make([][]int, n),
		groupOf: make([]int, n),
		members: make([][]int, n),
		gSlots:  make([]int, n),
		gMemory: make([]int, n),
		dist:    make([]float64, n),
		prev:    make([]int, n),
	}
	index := make(map[string]int, n)
	for i, name := range wf.Order {
		index[name] = i
		f := wf.Function(name)
		if f.Synthetic != nil {
			g.seconds[i] = f.Synthetic.Seconds
		}
		g.groupOf[i] = i
		g.members[i] = []int{i}
		g.gSlots[i] = perFunction
		g.gMemory[i] = f.MemoryMB
	}
	for _, e := range edges(wf) {
		from, to := index[e.From], index[e.To]
		g.into[to] = append(g.into[to], len(g.edges))
		g.edges = append(g.edges, arc{from: from, to: to, bytes: e.Bytes, cost: float64(e.Bytes) / bandwidth})
	}
	return g
}

// merge merges groups along the critical path until no edge on it can be
// merged within slotCap and memCap (0 = unlimited).
func (g *grouper) merge(slotCap, memCap int) {
	for {
		var candidates []int
		for _, ei := range g.criticalPath() {
			e := g.edges[ei]
			if e.bytes > 0 && !e.blocked && g.groupOf[e.from] != g.groupOf[e.to] {
				candidates = append(candidates, ei)
			}
		}
		sort.Slice(candidates, func(i, j int) bool {
			a, b := g.edges[candidates[i]], g.edges[candidates[j]]
			if a.bytes != b.bytes {
				return a.bytes > b.bytes
			}
			if a.from != b.from {
				return g.names[a.from] < g.names[b.from]
			}
			return g.names[a.to] < g.names[b.to]
		})
		merged := false
		for _, ei := range candidates {
			e := &g.edges[ei]
			a, b := g.groupOf[e.from], g.groupOf[e.to]
			if (slotCap > 0 && g.gSlots[a]+g.gSlots[b] > slotCap) || (memCap > 0 && g.gMemory[a]+g.gMemory[b] > memCap) {
				// Groups only grow, so these two will never fit together.
				e.blocked = true
				continue
			}
			g.join(a, b)
			merged = true
			break
		}
		if !merged {
			return
		}
	}
}

// criticalPath returns the indices of the edges on the longest path, given
// the current groups, from its last edge to its first. Functions are
// indexed in topological order, so one pass computes every function's
// longest path ending in it.
func (g *grouper) criticalPath() []int {
	end := -1
	for v := range g.names {
		best, via := 0.0, -1
		for _, ei := range g.into[v] {
			e := g.edges[ei]
			d := g.dist[e.from]
			if g.groupOf[e.from] != g.groupOf[v] {
				d += e.cost
			}
			if d > best {
				best, via = d, ei
			}
		}
		g.dist[v] = best + g.seconds[v]
		g.prev[v] = via
		if end < 0 || g.dist[v] > g.dist[end] {
			end = v
		}
	}
	var path []int
	for v := end; v >= 0 && g.prev[v] >= 0; v = g.edges[g.prev[v]].from {
		path = append(path, g.prev[v])
	}
	return path
}

// join moves the smaller group's functions into the larger one.
func (g *grouper) join(a, b int) {
	if len(g.members[a]) < len(g.members[b]) || (len(g.members[a]) == len(g.members[b]) && b < a) {
		a, b = b, a
	}
	for _, f := range g.members[b] {
		g.groupOf[f] = a
	}
	g.members[a] = append(g.members[a], g.members[b]...)
	g.gSlots[a] += g.gSlots[b]
	g.gMemory[a] += g.gMemory[b]
	g.members[b] = nil
	g.gSlots[b], g.gMemory[b] = 0, 0
}

// assign puts each group on a worker and returns the table and a warning
// for each group that fitted on none.
func (g *grouper) assign(workers []Worker) (map[string]string, []string) {
	type bundle struct {
		names         []string
		slots, memory int
	}
	var groups []bundle
	for id, fs := range g.members {
		if len(fs) == 0 {
			continue
		}
		gr := bundle{slots: g.gSlots[id], memory: g.gMemory[id]}
		for _, f := range fs {
			gr.names = append(gr.names, g.names[f])
		}
		sort.Strings(gr.names)
		groups = append(groups, gr)
	}
	sort.Slice(groups, func(i, j int) bool {
		a, b := groups[i], groups[j]
		if a.slots != b.slots {
			return a.slots > b.slots
		}
		if a.memory != b.memory {
			return a.memory > b.memory
		}
		return a.names[0] < b.names[0]
	})

	ws := append([]Worker(nil), workers...)
	sort.Slice(ws, func(i, j int) bool { return ws[i].ID < ws[j].ID })
	usedSlots := make([]int, len(ws))
	usedMemory := make([]int, len(ws))
	// roomier reports whether worker i has more free slots than worker j,
	// counting unlimited as most; among equals, fewer slots in use.
	roomier := func(i, j int) bool {
		ui, uj := ws[i].Slots == 0, ws[j].Slots == 0
		if ui != uj {
			return ui
		}
		if !ui {
			if fi, fj := ws[i].Slots-usedSlots[i], ws[j].Slots-usedSlots[j]; fi != fj {
				return fi > fj
			}
		}
		return usedSlots[i] < usedSlots[j]
	}

	table := make(map[string]string, len(g.names))
	var warnings []string
	for _, gr := range groups {
		best := -1
		for i, w := range ws {
			fits := (w.Slots == 0 || usedSlots[i]+gr.slots <= w.Slots) &&
				(w.MemoryMB == 0 || usedMemory[i]+gr.memory <= w.MemoryMB)
			if fits && (best < 0 || roomier(i, best)) {
				best = i
			}
		}
		overflow := best < 0
		if overflow {
			best = 0
			for i := range ws {
				if usedSlots[i] < usedSlots[best] {
					best = i
				}
			}
		}
		usedSlots[best] += gr.slots
		usedMemory[best] += gr.memory
		for _, name := range gr.names {
			table[name] = ws[best].ID
		}
		if overflow {
			warnings = append(warnings, fmt.Sprintf(
				"no worker has room for group %s (%d slots, %d MiB): placed on %s, the least loaded, which now holds %s slots and %s MiB",
				strings.Join(gr.names, ", "), gr.slots, gr.memory, ws[best].ID,
				ofCapacity(usedSlots[best], ws[best].Slots), ofCapacity(usedMemory[best], ws[best].MemoryMB)))
		}
	}
	return table, warnings
}

// ofCapacity writes "used/capacity", or "used (unlimited)" for capacity 0.
func ofCapacity(used, capacity int) string {
	if capacity == 0 {
		return fmt.Sprintf("%d (unlimited)", used)
	}
	return fmt.Sprintf("%d/%d", used, capacity)
}
