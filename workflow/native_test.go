package workflow

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseNativeFields(t *testing.T) {
	w, err := LoadFile(filepath.Join("testdata", "wordcount"))
	if err != nil {
		t.Fatal(err)
	}
	dir, err := filepath.Abs(filepath.Join("testdata", "wordcount"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := w.Source, filepath.Join("testdata", "wordcount", "workflow.yaml"); got != want {
		t.Errorf("Source = %q, want %q", got, want)
	}
	if got, want := w.EffectiveTimeout(), 5*time.Minute; got != want {
		t.Errorf("workflow timeout = %v, want %v", got, want)
	}
	if got, want := w.Inputs, []*Output{{Name: "seed", To: []Target{{"start", "seed"}}, Line: 5}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Inputs = %+v, want %+v", got[0], want[0])
	}
	start, count, merge := w.Function("start"), w.Function("count"), w.Function("merge")
	if start == nil || count == nil || merge == nil {
		t.Fatalf("functions = %v, want start, count, merge", w.Order)
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{name: "start code made absolute", got: start.Code, want: filepath.Join(dir, "start")},
		{name: "start runtime defaults to go", got: start.Runtime, want: "go"},
		{name: "start line", got: start.Line, want: 7},
		{name: "start timeout default", got: start.EffectiveTimeout(), want: DefaultFunctionTimeout},
		{name: "start foreach output", got: *start.Output("file"), want: Output{Name: "file", Foreach: true, To: []Target{{"count", "file"}}, Line: 11}},
		{name: "count runtime", got: count.Runtime, want: "exec"},
		{name: "count timeout", got: count.EffectiveTimeout(), want: 30 * time.Second},
		{name: "count cpu", got: count.CPU, want: 0.5},
		{name: "count memory", got: count.MemoryMB, want: 256},
		{name: "count retries", got: count.Retries, want: 2},
		{name: "count max instances", got: count.MaxInstances, want: 4},
		{name: "count input line", got: count.Input("file").Line, want: 20},
		{name: "merge absolute code kept", got: merge.Code, want: "/opt/merge"},
		{name: "merge list input", got: merge.Input("counts").List, want: true},
		{name: "merge result under output name", got: merge.Output("res").To, want: []Target{{ResultFunction, "res"}}},
		{name: "merge result under key", got: merge.Output("total").To, want: []Target{{ResultFunction, "sum"}}},
		{name: "order", got: w.Order, want: []string{"start", "count", "merge"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

func TestParseNativeSwitch(t *testing.T) {
	w := mustLoad(t, filepath.Join("testdata", "native", "video.yaml"))
	upload := w.Function("upload")
	if got := len(upload.Switch); got != 2 {
		t.Fatalf("upload has %d branches, want 2", got)
	}
	b := upload.Switch[0]
	if b.When != "split == true" || b.Line != 14 {
		t.Errorf("branch 0 = when %q line %d, want \"split == true\" line 14", b.When, b.Line)
	}
	want := &Route{Output: "user_name", To: []Target{{"split", "user_name"}, {"merge", "user_name"}}, Line: 16}
	if got := b.Routes[0]; !reflect.DeepEqual(got, want) {
		t.Errorf("first route = %+v, want %+v", got, want)
	}

	w = mustLoad(t, filepath.Join("testdata", "native", "recognizer.yaml"))
	adult := w.Function("adult")
	wantBranches := []*Branch{
		{When: "illegal == true", Line: 19, Routes: []*Route{{Output: "signal", Signal: true, To: []Target{{"mosaic", "start"}}, Line: 20}}},
		{Line: 21, Routes: []*Route{{Output: "signal", Signal: true, To: []Target{{"extract", "start_0"}}, Line: 21}}},
	}
	if !reflect.DeepEqual(adult.Switch, wantBranches) {
		t.Errorf("adult.Switch = %s, want %s", show(adult.Switch), show(wantBranches))
	}
}

func show(bs []*Branch) string {
	var parts []string
	for _, b := range bs {
		s := "{when " + b.When
		for _, r := range b.Routes {
			s += " " + r.Output
			for _, t := range r.To {
				s += " " + t.String()
			}
		}
		parts = append(parts, s+"}")
	}
	return strings.Join(parts, " ")
}

func mustLoad(t *testing.T, path string) *Workflow {
	t.Helper()
	w, err := LoadFile(path)
	if err != nil {
		t.Fatalf("LoadFile(%s): %v", path, err)
	}
	return w
}

func TestNativeEquivalents(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "native", "*.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 4 {
		t.Fatalf("found %d native workflows, want 4", len(files))
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			native := mustLoad(t, file)
			name := strings.TrimSuffix(filepath.Base(file), ".yaml")
			df := mustLoad(t, filepath.Join("testdata", "dataflower", name+DataFlowerSuffix))
			// Same shape: the same functions (without DataFlower's "<workflow>__" prefix) and edges.
			if got, want := edges(native, ""), edges(df, name+"__"); !reflect.DeepEqual(got, want) {
				t.Errorf("edges differ from the DataFlower file:\nnative     %v\ndataflower %v", got, want)
			}
		})
	}
}

// edges lists a workflow's edges as "from.output -> target" strings, with
// prefix removed from function names.
func edges(w *Workflow, prefix string) []string {
	trim := func(s string) string { return strings.TrimPrefix(s, prefix) }
	var es []string
	add := func(from string, to []Target) {
		for _, t := range to {
			es = append(es, trim(from)+" -> "+trim(t.Function)+"."+t.Input)
		}
	}
	for _, in := range w.Inputs {
		add(InputFunction+"."+in.Name, in.To)
	}
	for _, f := range w.Functions {
		for _, out := range f.Outputs {
			add(f.Name+"."+out.Name, out.To)
		}
		for i, b := range f.Switch {
			for _, r := range b.Routes {
				label := r.Output
				if r.Signal {
					label = "signal"
				}
				add(f.Name+"."+label+"@"+string(rune('0'+i)), r.To)
			}
		}
	}
	sortStrings(es)
	return es
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// wantError is an expected problem: the test passes when some error has this
// line and field and a message containing msg.
type wantError struct {
	line  int
	field string
	msg   string
}

// checkErrors asserts that err is Errors, every entry names file, and each want is among them.
func checkErrors(t *testing.T, err error, file string, wants ...wantError) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %+v", wants)
	}
	errs, ok := err.(Errors)
	if !ok {
		t.Fatalf("error is %T (%v), want Errors", err, err)
	}
	for _, e := range errs {
		if e.File != file {
			t.Errorf("error %q names file %q, want %q", e, e.File, file)
		}
	}
	for _, want := range wants {
		found := false
		for _, e := range errs {
			if e.Line == want.line && e.Field == want.field && strings.Contains(e.Msg, want.msg) {
				found = true
			}
		}
		if !found {
			t.Errorf("no error at line %d, field %q with %q; got:\n%v", want.line, want.field, want.msg, err)
		}
	}
}

func TestParseNativeErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []wantError
	}{
		{
			name: "yaml syntax",
			src:  "name: x\nfunctions:\n  a: [\n",
			want: []wantError{{3, "", "invalid YAML: did not find expected node content"}},
		},
		{
			name: "empty file",
			src:  "# nothing\n",
			want: []wantError{{0, "", "the file is empty"}},
		},
		{
			name: "two documents",
			src:  "name: x\n---\nname: y\n",
			want: []wantError{{2, "", "more than one YAML document"}},
		},
		{
			name: "alias",
			src:  "name: &n x\nfunctions:\n  a:\n    runtime: *n\n",
			want: []wantError{{4, "", "aliases (*n) are not supported"}},
		},
		{
			name: "not a mapping",
			src:  "- a\n- b\n",
			want: []wantError{{1, "", "expected a mapping with name, timeout, inputs and functions, found a list"}},
		},
		{
			name: "unknown top-level field",
			src:  "name: x\nfunction:\n  a: {}\n",
			want: []wantError{{2, "function", `unknown field "function": the fields here are functions, inputs, name, timeout`}},
		},
		{
			name: "unknown function field",
			src:  "name: x\nfunctions:\n  a:\n    inputz: [x]\n",
			want: []wantError{{4, "functions.a.inputz", `unknown field "inputz"`}},
		},
		{
			name: "unknown output field",
			src:  "name: x\nfunctions:\n  a:\n    outputs:\n      o: {to: b.x, for_each: true}\n  b:\n    inputs: [x]\n",
			want: []wantError{{5, "functions.a.outputs.o.for_each", `unknown field "for_each": the fields here are foreach, size, to`}},
		},
		{
			name: "unknown branch field",
			src:  "name: x\nfunctions:\n  a:\n    outputs: [o]\n    switch:\n      - if: o\n",
			want: []wantError{{6, "functions.a.switch[0].if", `unknown field "if": the fields here are send, signal, when`}},
		},
		{
			name: "duplicate function",
			src:  "name: x\nfunctions:\n  a: {}\n  a: {}\n",
			want: []wantError{{4, "functions.a", `key "a" is defined twice (first at line 3)`}},
		},
		{
			name: "missing name",
			src:  "functions:\n  a: {}\n",
			want: []wantError{{1, "name", "the workflow has no name"}},
		},
		{
			name: "invalid workflow name",
			src:  "name: my flow\n",
			want: []wantError{{1, "name", `invalid workflow name "my flow"`}},
		},
		{
			name: "bad timeout",
			src:  "name: x\ntimeout: 5abc\n",
			want: []wantError{{2, "timeout", `invalid duration "5abc"`}},
		},
		{
			name: "negative timeout",
			src:  "name: x\nfunctions:\n  a:\n    timeout: -1\n",
			want: []wantError{{4, "functions.a.timeout", "negative"}},
		},
		{
			name: "invalid function name",
			src:  "name: x\nfunctions:\n  a.b: {}\n",
			want: []wantError{{3, "functions.a.b", `invalid function name "a.b"`}},
		},
		{
			name: "reserved function name",
			src:  "name: x\nfunctions:\n  $result: {}\n",
			want: []wantError{{3, "functions.$result", `names starting with "$" are reserved`}},
		},
		{
			name: "unknown runtime",
			src:  "name: x\nfunctions:\n  a:\n    runtime: ruby\n",
			want: []wantError{{4, "functions.a.runtime", `unknown runtime "ruby": use go`}},
		},
		{
			name: "negative numbers",
			src:  "name: x\nfunctions:\n  a:\n    cpu: -0.5\n    memory: -1\n    retries: -1\n    max_instances: -2\n",
			want: []wantError{
				{4, "functions.a.cpu", "cpu must be a non-negative number"},
				{5, "functions.a.memory", "memory must be a non-negative"},
				{6, "functions.a.retries", "retries must not be negative"},
				{7, "functions.a.max_instances", "max_instances must not be negative"},
			},
		},
		{
			name: "wrong scalar types",
			src:  "name: x\nfunctions:\n  a:\n    cpu: lots\n    memory: 1.5\n    code: [x]\n",
			want: []wantError{
				{4, "functions.a.cpu", `expected a number of cores such as 0.5, found "lots"`},
				{5, "functions.a.memory", `expected a whole number of MiB, found "1.5"`},
				{6, "functions.a.code", "expected the path of the function's code, found a list"},
			},
		},
		{
			name: "duplicate input",
			src:  "name: x\ninputs:\n  v: a.x\nfunctions:\n  a:\n    inputs: [x, x]\n",
			want: []wantError{{6, "functions.a.inputs[1]", `input "x" is defined twice (first at line 6)`}},
		},
		{
			name: "duplicate output",
			src:  "name: x\nfunctions:\n  a:\n    outputs: [o, o]\n",
			want: []wantError{{4, "functions.a.outputs[1]", `output "o" is defined twice`}},
		},
		{
			name: "invalid input name",
			src:  "name: x\nfunctions:\n  a:\n    inputs: [a.b]\n",
			want: []wantError{{4, "functions.a.inputs[0]", `invalid input name "a.b"`}},
		},
		{
			name: "unknown input kind",
			src:  "name: x\nfunctions:\n  a:\n    inputs: {x: lsit}\n",
			want: []wantError{{4, "functions.a.inputs.x", `unknown input kind "lsit": use normal`}},
		},
		{
			name: "target without dot",
			src:  "name: x\nfunctions:\n  a:\n    outputs:\n      o: b\n",
			want: []wantError{{5, "functions.a.outputs.o", `invalid target "b": write function.input`}},
		},
		{
			name: "reserved target",
			src:  "name: x\nfunctions:\n  a:\n    outputs:\n      o: [$input.x]\n",
			want: []wantError{{5, "functions.a.outputs.o[0]", `unknown target "$input.x": the only reserved target is $result`}},
		},
		{
			name: "result key missing",
			src:  "name: x\nfunctions:\n  a:\n    outputs:\n      o: $result.\n",
			want: []wantError{{5, "functions.a.outputs.o", "has no result key"}},
		},
		{
			name: "unknown function in target",
			src:  "name: x\nfunctions:\n  a:\n    outputs:\n      o: {to: [c.x]}\n  b:\n    inputs: [x]\n",
			want: []wantError{{5, "functions.a.outputs.o.to[0]", `unknown function "c" in target "c.x": the functions are a, b`}},
		},
		{
			name: "unknown input in target",
			src:  "name: x\nfunctions:\n  a:\n    outputs:\n      o: b.y\n  b:\n    inputs: [x]\n",
			want: []wantError{{5, "functions.a.outputs.o", `function "b" has no input "y": its inputs are x`}},
		},
		{
			name: "input without source",
			src:  "name: x\nfunctions:\n  a:\n    inputs: [x]\n",
			want: []wantError{{4, "functions.a.inputs[0]", `nothing sends to input "x" of a`}},
		},
		{
			name: "cycle",
			src:  "name: x\ninputs:\n  v: a.x\nfunctions:\n  a:\n    inputs: [x, y]\n    outputs:\n      o: b.x\n  b:\n    inputs: [x]\n    outputs:\n      o: a.y\n",
			want: []wantError{{5, "functions.a", "cycle a -> b -> a"}},
		},
		{
			name: "self loop",
			src:  "name: x\ninputs:\n  v: a.x\nfunctions:\n  a:\n    inputs: [x, y]\n    outputs:\n      o: a.y\n",
			want: []wantError{{5, "functions.a", "cycle a -> a"}},
		},
		{
			name: "workflow input foreach",
			src:  "name: x\ninputs:\n  v: {to: a.x, foreach: true}\nfunctions:\n  a:\n    inputs: [x]\n",
			want: []wantError{{3, "inputs.v", `workflow input "v" cannot be foreach`}},
		},
		{
			name: "foreach to result",
			src:  "name: x\nfunctions:\n  a:\n    outputs:\n      o: {to: $result, foreach: true}\n",
			want: []wantError{{5, "functions.a.outputs.o.to", `foreach output "o" of a cannot go to the result`}},
		},
		{
			name: "foreach to list input",
			src:  "name: x\nfunctions:\n  a:\n    outputs:\n      o: {to: b.x, foreach: true}\n  b:\n    inputs: {x: list}\n",
			want: []wantError{{5, "functions.a.outputs.o.to", `cannot feed list input "x" of b`}},
		},
		{
			name: "two foreach inputs",
			src: `name: x
functions:
  a:
    outputs:
      o: {to: c.x, foreach: true}
  b:
    outputs:
      o: {to: c.y, foreach: true}
  c:
    inputs: [x, y]
`,
			want: []wantError{{9, "functions.c", "c receives foreach items on several inputs (x from a.o, y from b.o)"}},
		},
		{
			name: "foreach input with another source",
			src: `name: x
inputs:
  v: b.x
functions:
  a:
    outputs:
      o: {to: b.x, foreach: true}
  b:
    inputs: [x]
`,
			want: []wantError{{9, "functions.b.inputs[0]", `input "x" of b receives the items of foreach output a.o, so it can have no other source (it also has $input)`}},
		},
		{
			name: "map output to normal input",
			src: `name: x
functions:
  a:
    outputs:
      o: {to: b.x, foreach: true}
  b:
    inputs: [x]
    outputs:
      r: c.x
  c:
    inputs: [x]
`,
			want: []wantError{{9, "functions.b.outputs.r", `b runs once per item of a, so its output "r" can only feed list inputs: make input "x" of c a list`}},
		},
		{
			name: "map output to result",
			src: `name: x
functions:
  a:
    outputs:
      o: {to: b.x, foreach: true}
  b:
    inputs: [x]
    outputs:
      r: $result
`,
			want: []wantError{{9, "functions.b.outputs.r", `output "r" of b cannot go to the result: b runs once per item of a`}},
		},
		{
			name: "map function with switch",
			src: `name: x
functions:
  a:
    outputs:
      o: {to: b.x, foreach: true}
  b:
    inputs: [x]
    outputs: [r]
    switch:
      - when: r
`,
			want: []wantError{{6, "functions.b", "b runs once per item of a, so it cannot be a switch"}},
		},
		{
			name: "list input from non-map",
			src: `name: x
inputs:
  v: a.x
functions:
  a:
    inputs: {x: list}
`,
			want: []wantError{{6, "functions.a.inputs.x", `list input "x" of a gathers one value per item of a foreach output, but $input does not run per item`}},
		},
		{
			name: "list input with two sources",
			src: `name: x
functions:
  a:
    outputs:
      o: {to: [b.x, c.x], foreach: true}
  b:
    inputs: [x]
    outputs:
      r: d.l
  c:
    inputs: [x]
    outputs:
      r: d.l
  d:
    inputs: {l: list}
`,
			want: []wantError{{15, "functions.d.inputs.l", `list input "l" of d has 2 sources (b, c)`}},
		},
		{
			name: "bad condition",
			src:  "name: x\nfunctions:\n  a:\n    outputs: [ok]\n    switch:\n      - when: ok ==\n        signal: $result.done\n",
			want: []wantError{{6, "functions.a.switch[0].when", `invalid condition "ok ==": at column 6: expected a value after "==", found end of condition`}},
		},
		{
			name: "condition uses unknown output",
			src:  "name: x\nfunctions:\n  a:\n    outputs: [ok]\n    switch:\n      - when: okay == true\n        signal: $result.done\n",
			want: []wantError{{6, "functions.a.switch[0].when", `uses "okay", which is not an output of a: its outputs are ok`}},
		},
		{
			name: "empty condition",
			src:  "name: x\nfunctions:\n  a:\n    outputs: [ok]\n    switch:\n      - when: ''\n",
			want: []wantError{{6, "functions.a.switch[0].when", "the condition is empty"}},
		},
		{
			name: "default not last",
			src:  "name: x\nfunctions:\n  a:\n    outputs: [ok]\n    switch:\n      - signal: $result.no\n      - when: ok\n        signal: $result.yes\n",
			want: []wantError{{6, "functions.a.switch[0]", "the default branch (the one without a condition) must be the last branch of a"}},
		},
		{
			name: "send undeclared output",
			src:  "name: x\nfunctions:\n  a:\n    outputs: [ok]\n    switch:\n      - when: ok\n        send: {value: $result}\n",
			want: []wantError{{7, "functions.a.switch[0].send.value", `branch sends "value", which is not an output of a: its outputs are ok`}},
		},
		{
			name: "send foreach output",
			src:  "name: x\nfunctions:\n  a:\n    outputs:\n      ok: {foreach: true}\n    switch:\n      - when: ok\n        send: {ok: b.x}\n  b:\n    inputs: [x]\n",
			want: []wantError{{8, "functions.a.switch[0].send.ok", `a branch cannot send foreach output "ok"`}},
		},
		{
			name: "route without targets",
			src:  "name: x\nfunctions:\n  a:\n    outputs: [ok]\n    switch:\n      - when: ok\n        send:\n          ok: []\n",
			want: []wantError{{8, "functions.a.switch[0].send.ok", `route "ok" has no targets`}},
		},
		{
			name: "same target twice unconditionally",
			src:  "name: x\nfunctions:\n  a:\n    outputs:\n      o: [$result.r, $result.r]\n",
			want: []wantError{{5, "functions.a.outputs.o[1]", "a already sends to $result.r unconditionally (at line 5)"}},
		},
		{
			name: "branch repeats an unconditional target",
			src:  "name: x\nfunctions:\n  a:\n    outputs:\n      o: $result.r\n    switch:\n      - when: o\n        send: {o: $result.r}\n",
			want: []wantError{{8, "functions.a.switch[0].send.o", "a already sends to $result.r unconditionally"}},
		},
		{
			name: "same target twice in a branch",
			src:  "name: x\ninputs:\n  v: b.x\nfunctions:\n  a:\n    outputs: [o, p]\n    switch:\n      - when: o\n        send: {o: b.y, p: b.y}\n  b:\n    inputs: [x, y]\n",
			want: []wantError{{9, "functions.a.switch[0].send.p", "a already sends to b.y in this branch"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseNative([]byte(tt.src), "test.yaml")
			checkErrors(t, err, "test.yaml", tt.want...)
		})
	}
}

func TestParseNativeSameTargetInDifferentBranches(t *testing.T) {
	src := `name: x
functions:
  a:
    outputs: [o]
    switch:
      - when: o
        send: {o: $result.r}
      - send: {o: $result.r}
`
	w, err := ParseNative([]byte(src), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := w.Function("a").Reach, []Target{{ResultFunction, "r"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("Reach = %v, want %v", got, want)
	}
}

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	df := filepath.Join(dir, "lonely"+DataFlowerSuffix)
	if err := os.WriteFile(df, []byte("workflow_name: lonely\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		path string
		want string
	}{
		{name: "missing file", path: filepath.Join(dir, "nope.yaml"), want: "read workflow"},
		{name: "directory without workflow.yaml", path: dir, want: filepath.Join(dir, "workflow.yaml")},
		{name: "dataflower without templates", path: df, want: "read DataFlower templates"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadFile(tt.path)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadFile(%s) error = %v, want it to contain %q", tt.path, err, tt.want)
			}
		})
	}
}
