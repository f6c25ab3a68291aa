package placement

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/faasflow/faasflow-go/workflow"
)

func parse(t testing.TB, src string) *workflow.Workflow {
	t.Helper()
	wf, err := workflow.ParseNative([]byte(src), "x.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return wf
}

// weigh sets the declared sizes ("function.output" → bytes), run times
// and foreach item counts (function → value) and memory of wf's functions.
func weigh(t testing.TB, wf *workflow.Workflow, sizes map[string]int64, seconds map[string]float64, items, memoryMB map[string]int) {
	t.Helper()
	for key, size := range sizes {
		fn, out, _ := strings.Cut(key, ".")
		f := wf.Function(fn)
		if f == nil || f.Output(out) == nil {
			t.Fatalf("no output %s", key)
		}
		f.Output(out).Size = size
	}
	synthetic := func(name string) *workflow.Synthetic {
		f := wf.Function(name)
		if f == nil {
			t.Fatalf("no function %s", name)
		}
		if f.Synthetic == nil {
			f.Synthetic = &workflow.Synthetic{}
		}
		return f.Synthetic
	}
	for name, s := range seconds {
		synthetic(name).Seconds = s
	}
	for name, n := range items {
		synthetic(name).Items = n
	}
	for name, mb := range memoryMB {
		wf.Function(name).MemoryMB = mb
	}
}

const chain4 = `
name: chain
inputs: {x: a.in}
functions:
  a: {inputs: [in], outputs: {out: b.in}}
  b: {inputs: [in], outputs: {out: c.in}}
  c: {inputs: [in], outputs: {out: d.in}}
  d: {inputs: [in], outputs: {out: $result}}
`

const diamond = `
name: diamond
inputs: {x: a.in}
functions:
  a: {inputs: [in], outputs: {left: b.in, right: c.in}}
  b: {inputs: [in], outputs: {out: d.left}}
  c: {inputs: [in], outputs: {out: d.right}}
  d: {inputs: [left, right], outputs: {out: $result}}
`

// fan has a.out going to both b and c, which d joins.
const fan = `
name: fan
inputs: {x: a.in}
functions:
  a: {inputs: [in], outputs: {out: [b.in, c.in]}}
  b: {inputs: [in], outputs: {out: d.left}}
  c: {inputs: [in], outputs: {out: d.right}}
  d: {inputs: [left, right], outputs: {out: $result}}
`

const foreach = `
name: foreach
inputs: {x: split.in}
functions:
  split: {inputs: [in], outputs: {items: {to: work.item, foreach: true}}}
  work: {inputs: [item], outputs: {out: merge.parts}}
  merge: {inputs: {parts: list}, outputs: {out: $result}}
`

const pair = `
name: pair
inputs: {x: a.in}
functions:
  a: {inputs: [in], outputs: {out: b.in}}
  b: {inputs: [in], outputs: {out: $result}}
`

func slots(n int, ids ...string) []Worker {
	ws := make([]Worker, len(ids))
	for i, id := range ids {
		ws[i] = Worker{ID: id, Slots: n}
	}
	return ws
}

func TestGroup(t *testing.T) {
	tests := []struct {
		name     string
		src      string
		sizes    map[string]int64
		seconds  map[string]float64
		items    map[string]int
		memoryMB map[string]int
		workers  []Worker
		opt      Options
		want     map[string]string
		warnings int
	}{
		{
			name:    "chain keeps the ends of its heavy edge together",
			src:     chain4,
			sizes:   map[string]int64{"a.out": 10, "b.out": 1e9, "c.out": 5},
			workers: slots(2, "w0", "w1"),
			want:    map[string]string{"a": "w1", "b": "w0", "c": "w0", "d": "w1"},
		},
		{
			name:    "diamond groups its heavy branch",
			src:     diamond,
			sizes:   map[string]int64{"a.left": 1e8, "b.out": 1e8, "a.right": 1000, "c.out": 1000},
			workers: slots(3, "w0", "w1"),
			want:    map[string]string{"a": "w0", "b": "w0", "d": "w0", "c": "w1"},
		},
		{
			// b-d merges first; then a-c-d is critical and, c-d not
			// fitting, a-c merges.
			name:    "without run times the heavier data path is critical",
			src:     fan,
			sizes:   map[string]int64{"a.out": 1e6, "b.out": 3e6, "c.out": 2e6},
			workers: slots(2, "w0", "w1"),
			want:    map[string]string{"a": "w0", "c": "w0", "b": "w1", "d": "w1"},
		},
		{
			// c-d merges first as c is slow, then a-b by the greedy
			// phase: {a, b} {c, d} sends 4 MB between workers, but
			// round-robin puts a, c and b, d together and sends 3 MB, so
			// the guard takes it (TestGroupGuard).
			name:     "a slow function puts its path first",
			src:      fan,
			sizes:    map[string]int64{"a.out": 1e6, "b.out": 3e6, "c.out": 2e6},
			seconds:  map[string]float64{"c": 10},
			workers:  slots(2, "w0", "w1"),
			want:     map[string]string{"a": "w0", "c": "w0", "b": "w1", "d": "w1"},
			warnings: 1,
		},
		{
			// The same groups on three workers, where round-robin sends
			// 7 MB.
			name:    "a slow function puts its path first on three workers",
			src:     fan,
			sizes:   map[string]int64{"a.out": 1e6, "b.out": 3e6, "c.out": 2e6},
			seconds: map[string]float64{"c": 10},
			workers: slots(2, "w0", "w1", "w2"),
			want:    map[string]string{"a": "w0", "b": "w0", "c": "w1", "d": "w1"},
		},
		{
			// slow-join is the critical path; fast's heavy edge is not
			// on it but the greedy phase keeps it local.
			name: "heavy data off the critical path stays local",
			src: `
name: off
inputs: {x: slow.in, y: fast.in}
functions:
  slow: {inputs: [in], outputs: {out: join.a}}
  fast: {inputs: [in], outputs: {out: join.b}}
  join: {inputs: [a, b], outputs: {out: $result}}
`,
			sizes:   map[string]int64{"slow.out": 1000, "fast.out": 1e8},
			seconds: map[string]float64{"slow": 10},
			workers: slots(3, "w0", "w1"),
			want:    map[string]string{"slow": "w0", "fast": "w0", "join": "w0"},
		},
		{
			// a1-a2, b1-b2 and c1-c2 fill 2 of 3 slots each: c1 goes
			// with a2, which it sends to, and c2 with b2.
			name: "a group that fits no worker whole is split",
			src: `
name: split
inputs: {x: a1.in, y: b1.in, z: c1.in}
functions:
  a1: {inputs: [in], outputs: {out: a2.in}}
  a2: {inputs: [in, side], outputs: {out: $result.a}}
  b1: {inputs: [in], outputs: {out: b2.in}}
  b2: {inputs: [in, side], outputs: {out: $result.b}}
  c1: {inputs: [in], outputs: {out: c2.in, side: a2.side}}
  c2: {inputs: [in], outputs: {out: $result.c, side: b2.side}}
`,
			sizes:   map[string]int64{"a1.out": 1e9, "b1.out": 1e9, "c1.out": 1e6, "c1.side": 5, "c2.side": 7},
			workers: slots(3, "w0", "w1"),
			want:    map[string]string{"a1": "w0", "a2": "w0", "c1": "w0", "b1": "w1", "b2": "w1", "c2": "w1"},
		},
		{
			// 9 functions on 3 workers without limits: groups of 3.
			name: "without limits a group holds an even share",
			src: `
name: wide
inputs: {x: s.in}
functions:
  s: {inputs: [in], outputs: {out: [t1.in, t2.in, t3.in, t4.in, t5.in, t6.in, t7.in, t8.in]}}
  t1: {inputs: [in], outputs: {out: $result.t1}}
  t2: {inputs: [in], outputs: {out: $result.t2}}
  t3: {inputs: [in], outputs: {out: $result.t3}}
  t4: {inputs: [in], outputs: {out: $result.t4}}
  t5: {inputs: [in], outputs: {out: $result.t5}}
  t6: {inputs: [in], outputs: {out: $result.t6}}
  t7: {inputs: [in], outputs: {out: $result.t7}}
  t8: {inputs: [in], outputs: {out: $result.t8}}
`,
			sizes:   map[string]int64{"s.out": 1000},
			workers: slots(0, "w0", "w1", "w2"),
			want: map[string]string{"s": "w0", "t1": "w0", "t2": "w0", "t3": "w1", "t4": "w2", "t5": "w1",
				"t6": "w2", "t7": "w1", "t8": "w2"},
		},
		{
			// The share is at least the longest path: a chain's
			// functions never run at once.
			name:    "without limits a chain stays on one worker",
			src:     chain4,
			sizes:   map[string]int64{"a.out": 10, "b.out": 10, "c.out": 10},
			workers: slots(0, "w0", "w1", "w2"),
			want:    map[string]string{"a": "w0", "b": "w0", "c": "w0", "d": "w0"},
		},
		{
			name:    "foreach map and merge share a worker when only two fit",
			src:     foreach,
			sizes:   map[string]int64{"split.items": 1000, "work.out": 2000},
			items:   map[string]int{"split": 10},
			workers: slots(2, "w0", "w1"),
			want:    map[string]string{"work": "w0", "merge": "w0", "split": "w1"},
		},
		{
			name:    "foreach all together when there is room",
			src:     foreach,
			sizes:   map[string]int64{"split.items": 1000, "work.out": 2000},
			items:   map[string]int{"split": 10},
			workers: slots(3, "w0", "w1"),
			want:    map[string]string{"work": "w0", "merge": "w0", "split": "w0"},
		},
		{
			name:    "one slot per worker prevents a merge",
			src:     pair,
			sizes:   map[string]int64{"a.out": 1e9},
			workers: slots(1, "w0", "w1"),
			want:    map[string]string{"a": "w0", "b": "w1"},
		},
		{
			name:    "instances per function count against slots",
			src:     chain4,
			sizes:   map[string]int64{"a.out": 1e6, "b.out": 2e6, "c.out": 3e6},
			workers: slots(4, "w0", "w1"),
			opt:     Options{InstancesPerFunction: 2},
			want:    map[string]string{"a": "w0", "b": "w0", "c": "w1", "d": "w1"},
		},
		{
			name:     "memory limit prevents a merge",
			src:      pair,
			sizes:    map[string]int64{"a.out": 1e9},
			memoryMB: map[string]int{"a": 600, "b": 600},
			workers:  []Worker{{ID: "w0", MemoryMB: 1000}, {ID: "w1", MemoryMB: 1000}},
			want:     map[string]string{"a": "w0", "b": "w1"},
		},
		{
			name:     "memory enough for both",
			src:      pair,
			sizes:    map[string]int64{"a.out": 1e9},
			memoryMB: map[string]int{"a": 600, "b": 600},
			workers:  []Worker{{ID: "w0", MemoryMB: 1000}, {ID: "w1", MemoryMB: 2000}},
			want:     map[string]string{"a": "w1", "b": "w1"},
		},
		{
			name:    "one worker takes everything",
			src:     chain4,
			workers: []Worker{{ID: "only"}},
			want:    map[string]string{"a": "only", "b": "only", "c": "only", "d": "only"},
		},
		{
			name:     "one small worker takes everything, with warnings",
			src:      chain4,
			sizes:    map[string]int64{"a.out": 10, "b.out": 10, "c.out": 10},
			workers:  slots(2, "only"),
			want:     map[string]string{"a": "only", "b": "only", "c": "only", "d": "only"},
			warnings: 1,
		},
		{
			name:    "more workers than functions keeps data local",
			src:     pair,
			sizes:   map[string]int64{"a.out": 1000},
			workers: []Worker{{ID: "w3"}, {ID: "w1"}, {ID: "w2"}, {ID: "w0"}, {ID: "w4"}},
			want:    map[string]string{"a": "w0", "b": "w0"},
		},
		{
			name:    "edges without bytes are not merged: groups spread",
			src:     pair,
			workers: []Worker{{ID: "w1"}, {ID: "w0"}, {ID: "w2"}},
			want:    map[string]string{"a": "w0", "b": "w1"},
		},
		{
			name:    "groups go where most slots are free",
			src:     chain4,
			sizes:   map[string]int64{"b.out": 1000},
			workers: []Worker{{ID: "small", Slots: 2}, {ID: "big", Slots: 3}},
			// d ties for free slots and goes to small, which uses fewer.
			want: map[string]string{"b": "big", "c": "big", "a": "small", "d": "small"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := parse(t, tt.src)
			weigh(t, wf, tt.sizes, tt.seconds, tt.items, tt.memoryMB)
			got, exp, err := GroupExplained(wf, tt.workers, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %v, want %v\n%s", got, tt.want, exp)
			}
			if len(exp.Warnings) != tt.warnings {
				t.Errorf("got warnings %q, want %d", exp.Warnings, tt.warnings)
			}
			plain, err := Group(wf, tt.workers, tt.opt)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(plain, got) {
				t.Errorf("Group = %v, GroupExplained = %v", plain, got)
			}
		})
	}
}

func TestGroupErrors(t *testing.T) {
	tests := []struct {
		name    string
		workers []Worker
		opt     Options
		wantErr string
	}{
		{name: "no workers", wantErr: "no workers are registered"},
		{name: "worker without ID", workers: []Worker{{ID: "w0"}, {}}, wantErr: "worker 1 has no ID"},
		{name: "duplicate worker", workers: []Worker{{ID: "w0"}, {ID: "w0"}}, wantErr: `worker "w0" is listed twice`},
		{name: "negative slots", workers: []Worker{{ID: "w0", Slots: -1}}, wantErr: "negative capacity"},
		{name: "negative bandwidth", workers: []Worker{{ID: "w0"}}, opt: Options{Bandwidth: -1}, wantErr: "bandwidth"},
		{name: "negative instances", workers: []Worker{{ID: "w0"}}, opt: Options{InstancesPerFunction: -2}, wantErr: "instances per function"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Group(parse(t, pair), tt.workers, tt.opt)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestGroupGuard(t *testing.T) {
	sizes := map[string]int64{"a.out": 1e6, "b.out": 3e6, "c.out": 2e6}
	seconds := map[string]float64{"c": 10}
	t.Run("round-robin sends less", func(t *testing.T) {
		wf := parse(t, fan)
		weigh(t, wf, sizes, seconds, nil, nil)
		r, err := group(wf, slots(2, "w0", "w1"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if !r.guarded || r.groupBytes != 4e6 || r.rrBytes != 3e6 {
			t.Errorf("guarded %v, grouping %d bytes, round-robin %d; want true, 4000000, 3000000", r.guarded, r.groupBytes, r.rrBytes)
		}
		if want := mustPlace(t, wf, slots(2, "w0", "w1"), RoundRobin); !reflect.DeepEqual(r.table, want) {
			t.Errorf("got %v, want round-robin's %v", r.table, want)
		}
		if len(r.warnings) != 1 || !strings.Contains(r.warnings[0], "placed round-robin") {
			t.Errorf("warnings %q, want one saying round-robin was placed", r.warnings)
		}
	})
	t.Run("round-robin would overload a worker", func(t *testing.T) {
		// Round-robin puts a and c (1200 MiB) on w0.
		wf := parse(t, fan)
		weigh(t, wf, sizes, seconds, nil, map[string]int{"a": 600, "c": 600, "b": 100, "d": 100})
		workers := []Worker{{ID: "w0", Slots: 2, MemoryMB: 1000}, {ID: "w1", Slots: 2, MemoryMB: 1000}}
		r, err := group(wf, workers, Options{})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{"a": "w0", "b": "w0", "c": "w1", "d": "w1"}
		if r.guarded || len(r.warnings) > 0 || !reflect.DeepEqual(r.table, want) {
			t.Errorf("got %v (guarded %v, warnings %q), want %v", r.table, r.guarded, r.warnings, want)
		}
	})
}

// TestGroupBeatsRoundRobin checks on the checked-in workflows that
// grouping sends no more bytes between 3 workers than round-robin, with
// and without a slot limit, by itself: the guard that falls back to
// round-robin is not needed.
func TestGroupBeatsRoundRobin(t *testing.T) {
	native, err := filepath.Glob("../workflow/testdata/native/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(native) == 0 {
		t.Fatal("no native workflows in ../workflow/testdata/native")
	}
	flat, err := filepath.Glob("../workflow/testdata/flatv1/*.flat_workflow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range append(native, flat...) {
		wf, err := workflow.LoadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		sized := false
		for _, f := range wf.Functions {
			for _, o := range f.Outputs {
				sized = sized || o.Size > 0
			}
		}
		if !sized {
			for _, f := range wf.Functions {
				for _, o := range f.Outputs {
					o.Size = 1000
					if o.Foreach {
						o.Size = 10000
					}
				}
			}
		}
		perWorker := (len(wf.Functions) + 2) / 3
		for _, workers := range [][]Worker{slots(0, "w0", "w1", "w2"), slots(perWorker, "w0", "w1", "w2")} {
			name := fmt.Sprintf("%s/%d slots", filepath.Base(path), workers[0].Slots)
			t.Run(name, func(t *testing.T) {
				rr, err := Place(wf, workers, RoundRobin, nil)
				if err != nil {
					t.Fatal(err)
				}
				grouped, exp, err := GroupExplained(wf, workers, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if len(grouped) != len(wf.Functions) {
					t.Errorf("placed %d functions, want %d", len(grouped), len(wf.Functions))
				}
				got, want := exp.CrossBytes, Explain(wf, rr).CrossBytes
				if got > want {
					t.Errorf("grouping sends %d bytes between workers, round-robin %d\n%s", got, want, exp)
				}
				if len(exp.Warnings) > 0 {
					t.Errorf("warnings: %q", exp.Warnings)
				}
				r, err := group(wf, workers, Options{})
				if err != nil {
					t.Fatal(err)
				}
				if r.guarded || r.groupBytes > r.rrBytes {
					t.Errorf("the guard was needed: grouping alone sends %d bytes between workers, round-robin %d", r.groupBytes, r.rrBytes)
				}
				t.Logf("grouping %d bytes between workers, round-robin %d", r.groupBytes, r.rrBytes)
			})
		}
	}
}

// layered builds a deterministic random DAG of n functions in layers of
// width, each sending to 1-3 functions of the next layer, with random
// output sizes (up to 10 MB) and run times (up to 2 s).
func layered(tb testing.TB, seed uint64, n, width int) *workflow.Workflow {
	tb.Helper()
	rng := rand.New(rand.NewPCG(seed, seed))
	name := func(i int) string { return fmt.Sprintf("f%03d", i) }
	targets := make([][]string, n)
	inputs := make([][]string, n)
	link := func(from, to int) {
		for _, t := range targets[from] {
			if t == fmt.Sprintf("%s.from_%s", name(to), name(from)) {
				return
			}
		}
		targets[from] = append(targets[from], fmt.Sprintf("%s.from_%s", name(to), name(from)))
		inputs[to] = append(inputs[to], "from_"+name(from))
	}
	for i := range n {
		layer := i / width
		next := (layer + 1) * width
		if next >= n {
			targets[i] = append(targets[i], "$result."+name(i))
			continue
		}
		for range 1 + rng.IntN(3) {
			link(i, next+rng.IntN(min(width, n-next)))
		}
	}
	var b strings.Builder
	b.WriteString("name: layered\ninputs:\n  x: [")
	for i := range width {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(name(i) + ".in")
	}
	b.WriteString("]\nfunctions:\n")
	for i := range n {
		if i < width {
			inputs[i] = []string{"in"}
		}
		if len(inputs[i]) == 0 {
			// Nothing in the previous layer chose it: take the first.
			from := (i/width - 1) * width
			link(from, i)
		}
	}
	for i := range n {
		fmt.Fprintf(&b, "  %s: {inputs: [%s], outputs: {out: [%s]}}\n", name(i), strings.Join(inputs[i], ", "), strings.Join(targets[i], ", "))
	}
	wf := parse(tb, b.String())
	for _, f := range wf.Functions {
		f.Outputs[0].Size = rng.Int64N(10e6)
		f.Synthetic = &workflow.Synthetic{Seconds: rng.Float64() * 2}
	}
	return wf
}

func TestGroupLayered(t *testing.T) {
	wf := layered(t, 1, 200, 20)
	workers := slots(30, "w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7")
	got, exp, err := GroupExplained(wf, workers, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 200 {
		t.Fatalf("placed %d functions, want 200", len(got))
	}
	again, err := Group(wf, workers, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, again) {
		t.Error("two runs placed differently")
	}
	if rr := Explain(wf, mustPlace(t, wf, workers, RoundRobin)); exp.CrossBytes > rr.CrossBytes {
		t.Errorf("grouping sends %d bytes between workers, round-robin %d", exp.CrossBytes, rr.CrossBytes)
	}
	if len(exp.Warnings) > 0 {
		t.Errorf("warnings: %q", exp.Warnings)
	}
	t.Logf("grouping: %d cross, %d local bytes; warnings %q", exp.CrossBytes, exp.LocalBytes, exp.Warnings)
}

func mustPlace(t testing.TB, wf *workflow.Workflow, workers []Worker, strategy string) map[string]string {
	t.Helper()
	table, err := Place(wf, workers, strategy, nil)
	if err != nil {
		t.Fatal(err)
	}
	return table
}

func BenchmarkGroup200on8(b *testing.B) {
	wf := layered(b, 1, 200, 20)
	workers := slots(30, "w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7")
	b.ResetTimer()
	for b.Loop() {
		if _, err := Group(wf, workers, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
