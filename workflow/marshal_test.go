package workflow

import (
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// modelJSON is the JSON of w without what a workflow written natively and
// read back does not keep: lines, the source file, and the order of a
// branch's sends relative to its signals (the native format writes each
// kind together, in the order of its first route).
func modelJSON(t *testing.T, w *Workflow) string {
	t.Helper()
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	var strip func(v any)
	strip = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			delete(v, "line")
			delete(v, "source")
			if routes, ok := v["routes"].([]any); ok {
				v["routes"] = groupRoutes(routes)
			}
			for _, x := range v {
				strip(x)
			}
		case []any:
			for _, x := range v {
				strip(x)
			}
		}
	}
	strip(v)
	b, err = json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// groupRoutes orders decoded routes as MarshalNative writes them: those of
// the first route's kind (send or signal), then the others, each in order.
func groupRoutes(routes []any) []any {
	signal := func(r any) bool {
		m, _ := r.(map[string]any)
		return m["signal"] == true
	}
	var first, second []any
	for _, r := range routes {
		if signal(r) == signal(routes[0]) {
			first = append(first, r)
		} else {
			second = append(second, r)
		}
	}
	return append(first, second...)
}

// checkNativeRoundTrip checks that w written natively reads back as the same model.
func checkNativeRoundTrip(t *testing.T, w *Workflow) {
	t.Helper()
	src, err := MarshalNative(w)
	if err != nil {
		t.Fatalf("MarshalNative: %v", err)
	}
	got, err := ParseNative(src, "roundtrip.yaml")
	if err != nil {
		t.Fatalf("ParseNative of MarshalNative's output: %v\n%s", err, src)
	}
	if a, b := modelJSON(t, w), modelJSON(t, got); a != b {
		t.Fatalf("the model changed in a round trip through the native format:\n%s\nwant\n%s\nnative:\n%s", b, a, src)
	}
}

func TestMarshalNativeRoundTrip(t *testing.T) {
	var files []string
	for _, pattern := range []string{
		filepath.Join("testdata", "native", "*.yaml"),
		filepath.Join("testdata", "wordcount", "workflow.yaml"),
		filepath.Join("testdata", "dataflower", "*"+DataFlowerSuffix),
		filepath.Join("testdata", "flatv1", "*"+FlatV1Suffix),
	} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) != 4+1+4+7 {
		t.Fatalf("found %d fixtures, want 16: %v", len(files), files)
	}
	for _, file := range files {
		t.Run(file, func(t *testing.T) {
			checkNativeRoundTrip(t, mustLoad(t, file))
		})
	}
}

func TestMarshalNativeShortForms(t *testing.T) {
	src := `name: demo
timeout: 1m30s
inputs:
  seed: {to: start.seed, size: 8}
functions:
  start:
    code: /opt/start
    timeout: 2s
    cpu: 0.5
    memory: 128
    retries: 1
    max_instances: 4
    inputs: [seed]
    outputs:
      file: {to: count.file, foreach: true}
  count:
    runtime: exec
    code: /opt/count
    inputs: [file]
    outputs:
      res: merge.counts
  merge:
    synthetic: {seconds: 0.25, busy: true, items: 2}
    inputs:
      counts: list
    outputs:
      ok: [$result, $result.copy]
      big: {size: 1000000}
    switch:
      - when: ok == true
        send:
          big: $result.big
        signal: $result.done
      - signal:
          virtual.a: $result.done
          virtual.b: $result
  quiet:
    runtime: go
    outputs: [a, b]
    switch:
      - {}
`
	want := `name: demo
timeout: 1m30s
inputs:
  seed: {to: start.seed, size: 8}
functions:
  start:
    code: /opt/start
    timeout: 2s
    cpu: 0.5
    memory: 128
    retries: 1
    max_instances: 4
    inputs: [seed]
    outputs:
      file: {to: count.file, foreach: true}
  count:
    code: /opt/count
    runtime: exec
    inputs: [file]
    outputs:
      res: merge.counts
  merge:
    synthetic: {seconds: 0.25, busy: true, items: 2}
    inputs:
      counts: list
    outputs:
      ok: [$result, $result.copy]
      big: {size: 1000000}
    switch:
      - when: ok == true
        send:
          big: $result
        signal: $result.done
      - signal:
          virtual.a: $result.done
          virtual.b: $result
  quiet:
    runtime: go
    outputs: [a, b]
    switch:
      - {}
`
	w, err := ParseNative([]byte(src), "demo.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got, err := MarshalNative(w)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Errorf("MarshalNative =\n%s\nwant\n%s", got, want)
	}
	checkNativeRoundTrip(t, w)
}

func TestMarshalNativeInterleavedRoutes(t *testing.T) {
	f := &Function{Name: "f", Outputs: []*Output{{Name: "a"}, {Name: "b"}}, Switch: []*Branch{{Routes: []*Route{
		{Output: "a", To: []Target{{ResultFunction, "a"}}},
		{Output: "virtual.x", Signal: true, To: []Target{{ResultFunction, "x"}}},
		{Output: "b", To: []Target{{ResultFunction, "b"}}},
	}}}}
	w := &Workflow{Name: "w", Functions: []*Function{f}}
	if err := w.Validate(); err != nil {
		t.Fatal(err)
	}
	src, err := MarshalNative(w)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseNative(src, "w.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	for _, r := range got.Function("f").Switch[0].Routes {
		order = append(order, r.Output)
	}
	if want := []string{"a", "b", "virtual.x"}; !reflect.DeepEqual(order, want) {
		t.Errorf("routes read back = %v, want %v (sends together, then signals)", order, want)
	}
	checkNativeRoundTrip(t, w)
}

func TestMarshalNativeErrors(t *testing.T) {
	tests := []struct {
		name string
		w    *Workflow
		want string
	}{
		{name: "nil workflow", w: nil, want: "nil workflow"},
		{name: "null function", w: &Workflow{Name: "x", Functions: []*Function{nil}}, want: "functions[0] is null"},
		{name: "output sent twice in a branch", w: &Workflow{Name: "x", Functions: []*Function{{Name: "f", Switch: []*Branch{{Routes: []*Route{{Output: "o"}, {Output: "o"}}}}}}}, want: `"o" is sent twice in one branch`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := MarshalNative(tt.w)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestParseNativeSynthetic(t *testing.T) {
	src := `name: syn
functions:
  a:
    synthetic: {seconds: 1.5, items: 3}
    outputs:
      keys: {to: c.key, foreach: true, size: 8}
      n: b.n
  b:
    runtime: synthetic
    synthetic: {seconds: 0, busy: true}
    inputs: [n]
    outputs: [flag]
    switch:
      - signal: {virtual.x: $result.x}
        send: {flag: $result}
  c:
    synthetic: {seconds: 0}
    inputs: [key]
`
	w, err := ParseNative([]byte(src), "syn.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a, b := w.Function("a"), w.Function("b")
	tests := []struct {
		name string
		got  any
		want any
	}{
		{name: "synthetic implies the runtime", got: a.Runtime, want: SyntheticRuntime},
		{name: "a synthetic", got: *a.Synthetic, want: Synthetic{Seconds: 1.5, Items: 3}},
		{name: "b synthetic", got: *b.Synthetic, want: Synthetic{Busy: true}},
		{name: "output size", got: a.Output("keys").Size, want: int64(8)},
		{name: "routes in file order", got: []string{b.Switch[0].Routes[0].Output, b.Switch[0].Routes[1].Output}, want: []string{"virtual.x", "flag"}},
		{name: "labelled signal", got: *b.Switch[0].Routes[0], want: Route{Output: "virtual.x", Signal: true, To: []Target{{ResultFunction, "x"}}, Line: 14}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

func TestParseNativeSyntheticErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want wantError
	}{
		{
			name: "synthetic with runtime go", src: "name: x\nfunctions:\n  a:\n    runtime: go\n    synthetic: {seconds: 1}\n",
			want: wantError{5, "functions.a.synthetic", `synthetic is only for runtime synthetic (a function without code), not runtime "go"`},
		},
		{
			name: "synthetic with code", src: "name: x\nfunctions:\n  a:\n    code: /opt/a\n    runtime: synthetic\n    synthetic: {seconds: 1}\n",
			want: wantError{4, "functions.a.code", "a synthetic function has no code"},
		},
		{
			name: "runtime synthetic without description", src: "name: x\nfunctions:\n  a:\n    runtime: synthetic\n",
			want: wantError{4, "functions.a.runtime", "runtime synthetic needs a synthetic description"},
		},
		{
			name: "negative seconds", src: "name: x\nfunctions:\n  a:\n    synthetic: {seconds: -1}\n",
			want: wantError{4, "functions.a.synthetic", "synthetic seconds and items must be non-negative numbers"},
		},
		{
			name: "unknown synthetic field", src: "name: x\nfunctions:\n  a:\n    synthetic: {second: 1}\n",
			want: wantError{4, "functions.a.synthetic.second", `unknown field "second": the fields here are busy, items, seconds`},
		},
		{
			name: "negative size", src: "name: x\nfunctions:\n  a:\n    outputs:\n      o: {size: -1}\n",
			want: wantError{5, "functions.a.outputs.o.size", "size must be a non-negative number of bytes"},
		},
		{
			name: "signal label without targets", src: "name: x\nfunctions:\n  a:\n    outputs: [o]\n    switch:\n      - signal: {s: }\n",
			want: wantError{6, "functions.a.switch[0].signal.s", `route "s" has no targets`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseNative([]byte(tt.src), "x.yaml")
			checkErrors(t, err, "x.yaml", tt.want)
		})
	}
}
