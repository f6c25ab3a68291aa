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

// Group places wf on workers with FaaSFlow's critical-path grouping,
// followed by greedy merging, placement by affinity and a guard against
// doing worse than round-robin.
//
// Groups are kept within a capacity limit: the largest worker's Slots
// (InstancesPerFunction per function) and MemoryMB (the sum of the
// functions' MemoryMB). When neither is limited (some worker has no Slots
// and some, maybe another, no MemoryMB), FaaSFlow's cap by worker capacity
// would let one group take the whole workflow, so a group may instead hold
// an even share of the functions per worker, ceil(functions / workers),
// but at least as many as the longest path of the workflow has functions:
// one invocation never runs two functions of a path at once, so keeping a
// chain together takes no parallelism away. That share (in slots) is then
// also how far Group fills a worker without a slot limit before it prefers
// others.
//
// Grouping runs in two phases. Each function starts in a group of its own.
// First, Group repeatedly finds the critical path of the workflow, where a
// function costs its expected run time (Synthetic.Seconds, else 0) and an
// edge between two groups costs its bytes divided by the bandwidth (an
// edge inside a group costs nothing), and merges the two groups joined by
// the heaviest edge on the path whose merged group still fits the limit.
// An edge whose groups do not fit is not tried again; the next heaviest
// edge on the path is. Edges of 0 bytes are never merged, as that cannot
// shorten the path. This phase stops when no edge on the critical path can
// be merged. Second, to keep the data off the critical path local too,
// Group repeatedly merges the two groups with the most bytes between them
// (the sum of their edges) whose merged group fits the limit, until no
// two groups joined by bytes fit together.
//
// Groups are then assigned, largest (by slots, then memory) first, each
// to the worker with room for it to which it sends or from which it
// receives the most bytes among the groups already placed; ties go to the
// worker with the most free slots, then the fewest slots in use, then the
// lowest ID. A group that fits no worker whole is placed over workers
// without a slot limit beyond their even share if it can, else split over
// the workers with room (the roomiest filled first, each with the functions
// most connected to what it holds), and only when the workers' room cannot
// hold it all does it go to the one with the fewest slots in use, which
// GroupExplained reports.
//
// Last, Group compares the bytes the placement sends between workers with
// those of round-robin over the same workers (as Place does it) and, when
// round-robin sends fewer and fits the workers' capacities, returns
// round-robin's placement instead, which GroupExplained reports. Ties are
// broken by function names and worker IDs, so the result depends only on
// the inputs.
func Group(wf *workflow.Workflow, workers []Worker, opt Options) (map[string]string, error) {
	r, err := group(wf, workers, opt)
	return r.table, err
}

// GroupExplained is Group that also returns the placement's Explanation,
// with a warning for each group that had to go on a worker without room
// for it, or one saying that round-robin was chosen instead.
func GroupExplained(wf *workflow.Workflow, workers []Worker, opt Options) (map[string]string, Explanation, error) {
	r, err := group(wf, workers, opt)
	if err != nil {
		return nil, Explanation{}, err
	}
	e := Explain(wf, r.table)
	e.Warnings = append(e.Warnings, r.warnings...)
	return r.table, e, nil
}

// grouped is what group returns.
type grouped struct {
	table    map[string]string
	warnings []string
	// guarded reports that the final guard returned round-robin's
	// placement because the groups' placement sent more bytes between
	// workers; groupBytes and rrBytes are the two placements' bytes.
	guarded             bool
	groupBytes, rrBytes int64
}

func group(wf *workflow.Workflow, workers []Worker, opt Options) (grouped, error) {
	if err := checkWorkers(workers); err != nil {
		return grouped{}, err
	}
	bandwidth := opt.Bandwidth
	switch {
	case bandwidth == 0:
		bandwidth = DefaultBandwidth
	case bandwidth < 0 || math.IsNaN(bandwidth) || math.IsInf(bandwidth, 0):
		return grouped{}, fmt.Errorf("grouping bandwidth %v is not a positive number of bytes per second", opt.Bandwidth)
	}
	perFunction := opt.InstancesPerFunction
	switch {
	case perFunction == 0:
		perFunction = 1
	case perFunction < 0:
		return grouped{}, fmt.Errorf("grouping instances per function %d is negative: use 0 for the default of 1", perFunction)
	}
	es := edges(wf)
	g := newGrouper(wf, es, bandwidth, perFunction)
	slotCap, memCap := largest(workers)
	share := 0 // the even share in slots, when nothing limits a group
	if slotCap == 0 && memCap == 0 {
		n := len(g.names)
		share = perFunction * max(1, (n+len(workers)-1)/len(workers), g.longestPath())
		slotCap = share
	}
	g.merge(slotCap, memCap)
	g.greedy(slotCap, memCap)
	table, warnings := g.assign(workers, share)
	return guard(wf, es, workers, perFunction, table, warnings), nil
}

// guard returns the grouping's table, or round-robin's (as Place makes
// it) when that sends fewer bytes between workers and overloads no worker.
// es are wf's edges.
func guard(wf *workflow.Workflow, es []Edge, workers []Worker, perFunction int, table map[string]string, warnings []string) grouped {
	r := grouped{table: table, warnings: warnings}
	rr, err := Place(wf, workers, RoundRobin, nil)
	if err != nil {
		return r
	}
	r.groupBytes, r.rrBytes = crossBytes(es, table), crossBytes(es, rr)
	if r.rrBytes >= r.groupBytes || !fitsWorkers(wf, workers, perFunction, rr) {
		return r
	}
	r.table, r.guarded = rr, true
	r.warnings = []string{fmt.Sprintf(
		"grouping would send %d bytes between workers and round-robin sends %d: placed round-robin",
		r.groupBytes, r.rrBytes)}
	return r
}

// crossBytes is the sum of the bytes of the edges whose ends table puts on
// different workers.
func crossBytes(es []Edge, table map[string]string) int64 {
	var sum int64
	for _, e := range es {
		if table[e.From] != table[e.To] {
			sum += e.Bytes
		}
	}
	return sum
}

// fitsWorkers reports whether table gives no worker more slots or memory
// than it has.
func fitsWorkers(wf *workflow.Workflow, workers []Worker, perFunction int, table map[string]string) bool {
	usedSlots, usedMemory := map[string]int{}, map[string]int{}
	for _, f := range wf.Functions {
		usedSlots[table[f.Name]] += perFunction
		usedMemory[table[f.Name]] += f.MemoryMB
	}
	for _, w := range workers {
		if (w.Slots > 0 && usedSlots[w.ID] > w.Slots) || (w.MemoryMB > 0 && usedMemory[w.ID] > w.MemoryMB) {
			return false
		}
	}
	return true
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
	names       []string
	seconds     []float64
	memory      []int // function → MiB
	perFunction int
	edges       []arc
	into        [][]int      // function → indices of the edges into it
	adj         [][]neighbor // function → the functions it shares bytes with

	groupOf []int    // function → group ID
	members [][]int  // group ID → its functions (empty when merged away)
	gSlots  []int    // group ID → slots
	gMemory []int    // group ID → MiB
	gName   []string // group ID → the least name of its functions

	dist []float64 // scratch for criticalPath
	prev []int
}

type arc struct {
	from, to int
	bytes    int64
	cost     float64 // seconds when the edge crosses groups
	blocked  bool    // its groups did not fit together
}

type neighbor struct {
	f     int
	bytes int64
}

// newGrouper makes a grouper for wf, whose edges are es.
func newGrouper(wf *workflow.Workflow, es []Edge, bandwidth float64, perFunction int) *grouper {
	n := len(wf.Order)
	g := &grouper{
		names:       wf.Order,
		seconds:     make([]float64, n),
		memory:      make([]int, n),
		perFunction: perFunction,
		into:        make([][]int, n),
		adj:         make([][]neighbor, n),
		groupOf:     make([]int, n),
		members:     make([][]int, n),
		gSlots:      make([]int, n),
		gMemory:     make([]int, n),
		gName:       make([]string, n),
		dist:        make([]float64, n),
		prev:        make([]int, n),
	}
	index := make(map[string]int, n)
	for i, name := range wf.Order {
		index[name] = i
		f := wf.Function(name)
		if f.Synthetic != nil {
			g.seconds[i] = f.Synthetic.Seconds
		}
		g.memory[i] = f.MemoryMB
		g.groupOf[i] = i
		g.members[i] = []int{i}
		g.gSlots[i] = perFunction
		g.gMemory[i] = f.MemoryMB
		g.gName[i] = name
	}
	for _, e := range es {
		from, to := index[e.From], index[e.To]
		g.into[to] = append(g.into[to], len(g.edges))
		g.edges = append(g.edges, arc{from: from, to: to, bytes: e.Bytes, cost: float64(e.Bytes) / bandwidth})
		if e.Bytes > 0 {
			g.adj[from] = append(g.adj[from], neighbor{to, e.Bytes})
			g.adj[to] = append(g.adj[to], neighbor{from, e.Bytes})
		}
	}
	return g
}

// longestPath returns the number of functions on the longest path of the
// workflow, counting every edge.
func (g *grouper) longestPath() int {
	depth := make([]int, len(g.names))
	longest := 0
	for v := range g.names {
		d := 0
		for _, ei := range g.into[v] {
			d = max(d, depth[g.edges[ei].from])
		}
		depth[v] = d + 1
		longest = max(longest, depth[v])
	}
	return longest
}

// fits reports whether groups a and b merged fit within slotCap and memCap
// (0 = unlimited).
func (g *grouper) fits(a, b, slotCap, memCap int) bool {
	return (slotCap == 0 || g.gSlots[a]+g.gSlots[b] <= slotCap) && (memCap == 0 || g.gMemory[a]+g.gMemory[b] <= memCap)
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
			if !g.fits(a, b, slotCap, memCap) {
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

// greedy merges, as long as any fit within slotCap and memCap, the two
// groups with the most bytes between them; ties go to the pair whose
// least function names come first.
//
// Groups only grow, so two groups that do not fit together never will:
// greedy keeps the pairs that fit in a heap, by the bytes between them,
// and pushes the pairs of a merged group anew.
func (g *grouper) greedy(slotCap, memCap int) {
	n := len(g.names)
	// rank orders functions by name; a group's rank is its least.
	byName := make([]int, n)
	for i := range byName {
		byName[i] = i
	}
	sort.Slice(byName, func(i, j int) bool { return g.names[byName[i]] < g.names[byName[j]] })
	rank := make([]int, n) // group ID → rank
	for r, f := range byName {
		rank[f] = r
	}
	for id, fs := range g.members {
		for _, f := range fs {
			rank[id] = min(rank[id], rank[f])
		}
	}

	between := make([]map[int]int64, n) // group ID → neighbour group → bytes
	version := make([]int, n)           // group ID → merges it took part in
	var h pairHeap
	push := func(a, b int) {
		if !g.fits(a, b, slotCap, memCap) {
			return
		}
		if rank[b] < rank[a] {
			a, b = b, a
		}
		h.push(groupPair{bytes: between[a][b], rankA: rank[a], rankB: rank[b], a: a, b: b, va: version[a], vb: version[b]})
	}
	for _, e := range g.edges {
		a, b := g.groupOf[e.from], g.groupOf[e.to]
		if e.bytes == 0 || a == b {
			continue
		}
		for _, x := range [2]int{a, b} {
			if between[x] == nil {
				between[x] = map[int]int64{}
			}
		}
		between[a][b] += e.bytes
		between[b][a] += e.bytes
	}
	for a, m := range between {
		for b := range m {
			if a < b {
				push(a, b)
			}
		}
	}
	for len(h) > 0 {
		p := h.pop()
		if p.va != version[p.a] || p.vb != version[p.b] || !g.fits(p.a, p.b, slotCap, memCap) {
			continue // a group changed since, or the other did and grew
		}
		kept := g.join(p.a, p.b)
		gone := p.a + p.b - kept
		version[kept]++
		version[gone]++
		rank[kept] = min(rank[kept], rank[gone])
		delete(between[kept], gone)
		for c, bytes := range between[gone] {
			if c == kept {
				continue
			}
			between[kept][c] += bytes
			between[c][kept] += bytes
			delete(between[c], gone)
		}
		between[gone] = nil
		for c := range between[kept] {
			push(kept, c)
		}
	}
}

// groupPair is two groups, the bytes between them and their ranks when
// pushed; va and vb are the groups' versions then.
type groupPair struct {
	bytes        int64
	rankA, rankB int
	a, b         int
	va, vb       int
}

// before reports whether p pops before q: more bytes, then lower ranks.
func (p groupPair) before(q groupPair) bool {
	if p.bytes != q.bytes {
		return p.bytes > q.bytes
	}
	if p.rankA != q.rankA {
		return p.rankA < q.rankA
	}
	return p.rankB < q.rankB
}

// pairHeap is a binary heap of pairs, the first to pop at the top.
type pairHeap []groupPair

func (h *pairHeap) push(p groupPair) {
	*h = append(*h, p)
	s := *h
	for i := len(s) - 1; i > 0; {
		up := (i - 1) / 2
		if !s[i].before(s[up]) {
			break
		}
		s[i], s[up] = s[up], s[i]
		i = up
	}
}

func (h *pairHeap) pop() groupPair {
	s := *h
	top := s[0]
	last := len(s) - 1
	s[0] = s[last]
	s = s[:last]
	for i := 0; ; {
		first, l, r := i, 2*i+1, 2*i+2
		if l < len(s) && s[l].before(s[first]) {
			first = l
		}
		if r < len(s) && s[r].before(s[first]) {
			first = r
		}
		if first == i {
			break
		}
		s[i], s[first] = s[first], s[i]
		i = first
	}
	*h = s
	return top
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

// join moves the smaller group's functions into the larger one and
// returns the larger one's ID.
func (g *grouper) join(a, b int) int {
	if len(g.members[a]) < len(g.members[b]) || (len(g.members[a]) == len(g.members[b]) && b < a) {
		a, b = b, a
	}
	for _, f := range g.members[b] {
		g.groupOf[f] = a
	}
	g.members[a] = append(g.members[a], g.members[b]...)
	g.gSlots[a] += g.gSlots[b]
	g.gMemory[a] += g.gMemory[b]
	g.gName[a] = min(g.gName[a], g.gName[b])
	g.members[b] = nil
	g.gSlots[b], g.gMemory[b] = 0, 0
	return a
}

// placer puts functions on workers for assign.
type placer struct {
	g  *grouper
	ws []Worker // by ID
	// limit is how many slots a worker is filled to: its Slots, or the
	// even share for a worker without a slot limit (0 = no limit). soft
	// marks the even shares, which may be exceeded.
	limit      []int
	soft       []bool
	usedSlots  []int
	usedMemory []int
	where      []int // function → worker index, -1 while unplaced
}

// assign puts each group on a worker and returns the table and a warning
// for each group that fitted on none. share is the even share of slots a
// worker without a slot limit is filled to (0 = no limit).
func (g *grouper) assign(workers []Worker, share int) (map[string]string, []string) {
	var groups []int
	for id, fs := range g.members {
		if len(fs) == 0 {
			continue
		}
		sort.Slice(fs, func(i, j int) bool { return g.names[fs[i]] < g.names[fs[j]] })
		groups = append(groups, id)
	}
	sort.Slice(groups, func(i, j int) bool {
		a, b := groups[i], groups[j]
		if g.gSlots[a] != g.gSlots[b] {
			return g.gSlots[a] > g.gSlots[b]
		}
		if g.gMemory[a] != g.gMemory[b] {
			return g.gMemory[a] > g.gMemory[b]
		}
		return g.gName[a] < g.gName[b]
	})

	p := &placer{
		g:          g,
		ws:         append([]Worker(nil), workers...),
		limit:      make([]int, len(workers)),
		soft:       make([]bool, len(workers)),
		usedSlots:  make([]int, len(workers)),
		usedMemory: make([]int, len(workers)),
		where:      make([]int, len(g.names)),
	}
	sort.Slice(p.ws, func(i, j int) bool { return p.ws[i].ID < p.ws[j].ID })
	for i, w := range p.ws {
		p.limit[i] = w.Slots
		if w.Slots == 0 {
			p.limit[i], p.soft[i] = share, share > 0
		}
	}
	for f := range p.where {
		p.where[f] = -1
	}

	var warnings []string
	for _, id := range groups {
		fs := g.members[id]
		if i := p.pick(fs, func(i int) bool { return p.fits(i, fs) }); i >= 0 {
			p.put(fs, i)
			continue
		}
		// Past an even share rather than split the group.
		if i := p.pick(fs, func(i int) bool { return p.soft[i] && p.fitsMemory(i, fs) }); i >= 0 {
			p.put(fs, i)
			continue
		}
		rest := p.split(fs)
		if len(rest) == 0 {
			continue
		}
		best := 0
		for i := range p.ws {
			if p.usedSlots[i] < p.usedSlots[best] {
				best = i
			}
		}
		p.put(rest, best)
		names := make([]string, len(rest))
		for k, f := range rest {
			names[k] = g.names[f]
		}
		warnings = append(warnings, fmt.Sprintf(
			"no worker has room for group %s (%d slots, %d MiB): placed on %s, the least loaded, which now holds %s slots and %s MiB",
			strings.Join(names, ", "), p.slots(rest), p.memory(rest), p.ws[best].ID,
			ofCapacity(p.usedSlots[best], p.ws[best].Slots), ofCapacity(p.usedMemory[best], p.ws[best].MemoryMB)))
	}

	table := make(map[string]string, len(g.names))
	for f, i := range p.where {
		table[g.names[f]] = p.ws[i].ID
	}
	return table, warnings
}

func (p *placer) slots(fs []int) int { return len(fs) * p.g.perFunction }

func (p *placer) memory(fs []int) int {
	sum := 0
	for _, f := range fs {
		sum += p.g.memory[f]
	}
	return sum
}

// fits reports whether worker i has room for the functions fs.
func (p *placer) fits(i int, fs []int) bool {
	return (p.limit[i] == 0 || p.usedSlots[i]+p.slots(fs) <= p.limit[i]) && p.fitsMemory(i, fs)
}

func (p *placer) fitsMemory(i int, fs []int) bool {
	return p.ws[i].MemoryMB == 0 || p.usedMemory[i]+p.memory(fs) <= p.ws[i].MemoryMB
}

// free is worker i's free slots, math.MaxInt when it has no limit.
func (p *placer) free(i int) int {
	if p.limit[i] == 0 {
		return math.MaxInt
	}
	return p.limit[i] - p.usedSlots[i]
}

// roomier reports whether worker i has more free slots than worker j;
// among equals, fewer slots in use.
func (p *placer) roomier(i, j int) bool {
	if fi, fj := p.free(i), p.free(j); fi != fj {
		return fi > fj
	}
	return p.usedSlots[i] < p.usedSlots[j]
}

// affinity returns the bytes between the functions fs and those already
// on each worker.
func (p *placer) affinity(fs []int) []int64 {
	bytes := make([]int64, len(p.ws))
	for _, f := range fs {
		for _, nb := range p.g.adj[f] {
			if w := p.where[nb.f]; w >= 0 {
				bytes[w] += nb.bytes
			}
		}
	}
	return bytes
}

// pick returns the worker, among those ok accepts, with the most bytes to
// the functions fs, then the roomiest, then the first by ID; -1 if ok
// accepts none.
func (p *placer) pick(fs []int, ok func(i int) bool) int {
	bytes := p.affinity(fs)
	best := -1
	for i := range p.ws {
		if !ok(i) {
			continue
		}
		if best < 0 || bytes[i] > bytes[best] || (bytes[i] == bytes[best] && p.roomier(i, best)) {
			best = i
		}
	}
	return best
}

func (p *placer) put(fs []int, i int) {
	for _, f := range fs {
		p.where[f] = i
	}
	p.usedSlots[i] += p.slots(fs)
	p.usedMemory[i] += p.memory(fs)
}

// split places the functions fs (in name order), which no worker has room
// for together, over the workers that have room: it fills the roomiest
// worker (ties by bytes to fs, then ID) with the functions most connected
// to what it holds, and so on until the rest fits on one worker. It
// returns the functions it could not place: none, or all of fs when the
// workers' room cannot hold them.
func (p *placer) split(fs []int) []int {
	freeSlots, freeMemory := 0, 0
	for i := range p.ws {
		if p.limit[i] == 0 {
			freeSlots = math.MaxInt
		} else if freeSlots < math.MaxInt {
			freeSlots += max(0, p.free(i)) / p.g.perFunction * p.g.perFunction
		}
		if p.ws[i].MemoryMB == 0 {
			freeMemory = math.MaxInt
		} else if freeMemory < math.MaxInt {
			freeMemory += max(0, p.ws[i].MemoryMB-p.usedMemory[i])
		}
	}
	if freeSlots < p.slots(fs) || freeMemory < p.memory(fs) {
		return fs
	}
	rest := append([]int(nil), fs...)
	for len(rest) > 0 {
		if i := p.pick(rest, func(i int) bool { return p.fits(i, rest) }); i >= 0 {
			p.put(rest, i)
			return nil
		}
		bytes := p.affinity(rest)
		target := -1
		for i := range p.ws {
			if !p.takesOne(i, rest) {
				continue
			}
			if target < 0 || p.roomier(i, target) || (!p.roomier(target, i) && bytes[i] > bytes[target]) {
				target = i
			}
		}
		if target < 0 {
			return rest
		}
		piece := p.carve(rest, target)
		if len(piece) == 0 {
			return rest
		}
		p.put(piece, target)
		kept := rest[:0]
		for _, f := range rest {
			if p.where[f] < 0 {
				kept = append(kept, f)
			}
		}
		rest = kept
	}
	return nil
}

// takesOne reports whether worker i has room for some function of fs.
func (p *placer) takesOne(i int, fs []int) bool {
	for _, f := range fs {
		if p.fits(i, []int{f}) {
			return true
		}
	}
	return false
}

// carve returns the functions of fs to put on worker i: starting from the
// one with the most bytes to what i holds (then to the rest of fs), it
// adds the function with the most bytes to i and the functions chosen
// until i has no room for more. Ties go to the first in fs.
func (p *placer) carve(fs []int, i int) []int {
	in := make(map[int]bool, len(fs))
	for _, f := range fs {
		in[f] = true
	}
	score := make(map[int]int64, len(fs)) // bytes to i and to the chosen
	var inner map[int]int64               // bytes within fs, for the seed
	for _, f := range fs {
		for _, nb := range p.g.adj[f] {
			if p.where[nb.f] == i {
				score[f] += nb.bytes
			}
		}
	}
	chosen := map[int]bool{}
	var piece []int
	slots, memory := p.usedSlots[i], p.usedMemory[i]
	for {
		best := -1
		for _, f := range fs {
			if chosen[f] || (p.limit[i] > 0 && slots+p.g.perFunction > p.limit[i]) ||
				(p.ws[i].MemoryMB > 0 && memory+p.g.memory[f] > p.ws[i].MemoryMB) {
				continue
			}
			if best < 0 || score[f] > score[best] {
				best = f
				continue
			}
			if len(piece) == 0 && score[f] == score[best] {
				if inner == nil {
					inner = make(map[int]int64, len(fs))
					for _, h := range fs {
						for _, nb := range p.g.adj[h] {
							if in[nb.f] {
								inner[h] += nb.bytes
							}
						}
					}
				}
				if inner[f] > inner[best] {
					best = f
				}
			}
		}
		if best < 0 {
			return piece
		}
		chosen[best] = true
		piece = append(piece, best)
		slots += p.g.perFunction
		memory += p.g.memory[best]
		for _, nb := range p.g.adj[best] {
			if in[nb.f] {
				score[nb.f] += nb.bytes
			}
		}
	}
}

// ofCapacity writes "used/capacity", or "used (unlimited)" for capacity 0.
func ofCapacity(used, capacity int) string {
	if capacity == 0 {
		return fmt.Sprintf("%d (unlimited)", used)
	}
	return fmt.Sprintf("%d/%d", used, capacity)
}
