package workflow

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var flatV1Names = []string{"cycles", "epigenomics", "fileprocessing", "genome", "illgal_recognizer", "video", "wordcount"}

func flatV1Path(name string) string {
	return filepath.Join("testdata", "flatv1", name+FlatV1Suffix)
}

// TestFlatV1Shared checks that the copies in testdata are the reference
// files unchanged, when the shared tree is beside the repository.
func TestFlatV1Shared(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "reference", "faasflow", "faasflow-v1", "workflows")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("reference files not found (%v); the copies in testdata/flatv1 are tested instead", err)
	}
	for _, name := range flatV1Names {
		t.Run(name, func(t *testing.T) {
			ref := filepath.Join(dir, name+FlatV1Suffix)
			if got, want := readFile(t, flatV1Path(name)), readFile(t, ref); got != want {
				t.Errorf("%s differs from %s: copy it again", flatV1Path(name), ref)
			}
			mustLoad(t, ref)
		})
	}
}

func TestFlatV1Loads(t *testing.T) {
	for _, name := range flatV1Names {
		t.Run(name, func(t *testing.T) {
			w := mustLoad(t, flatV1Path(name))
			if w.Name != name {
				t.Errorf("Name = %q, want %q", w.Name, name)
			}
			if w.Function(v1End) != nil {
				t.Errorf("END is a function, want it dropped")
			}
			if len(w.Results) == 0 {
				t.Errorf("no result keys: an invocation would never end")
			}
			for _, f := range w.Functions {
				if f.Runtime != SyntheticRuntime || f.Synthetic == nil || f.Code != "" {
					t.Errorf("%s: runtime %q, synthetic %v, code %q; want a synthetic function without code", f.Name, f.Runtime, f.Synthetic, f.Code)
				}
				if f.MemoryMB != 256 && f.MemoryMB != 0 {
					t.Errorf("%s: memory %d MiB, want 256 (mem_usage 0.25 GB) or unset", f.Name, f.MemoryMB)
				}
			}
		})
	}
}

func TestFlatV1Facts(t *testing.T) {
	load := func(name string) *Workflow { return mustLoad(t, flatV1Path(name)) }
	wc, rec, fp, video := load("wordcount"), load("illgal_recognizer"), load("fileprocessing"), load("video")
	cycles, genome, epi := load("cycles"), load("genome"), load("epigenomics")
	tests := []struct {
		name string
		got  any
		want any
	}{
		// wordcount
		{name: "wordcount order", got: wc.Order, want: []string{"start", "count", "merge"}},
		{name: "count is a map of start", got: [2]string{wc.Function("count").ForeachFrom, wc.Function("count").ForeachInput}, want: [2]string{"start", "filename"}},
		{name: "start.filename is foreach", got: *wc.Function("start").Output("filename"), want: Output{Name: "filename", Foreach: true, To: []Target{{"count", "filename"}}, Size: 8, Line: 8}},
		{name: "merge.wordcount is a list", got: wc.Function("merge").Input("wordcount").List, want: true},
		{name: "merge.wordcount counts start's items", got: wc.Function("merge").Input("wordcount").CountFrom, want: "start"},
		{name: "merge.filename reads filename.all", got: *wc.Function("start").Output("filename.all"), want: Output{Name: "filename.all", To: []Target{{"merge", "filename"}}, Size: 8, Line: 8}},
		{name: "count has no control inputs", got: inputNames(wc.Function("count")), want: "filename, file"},
		{name: "count synthetic", got: *wc.Function("count").Synthetic, want: Synthetic{Seconds: 0.12}},
		{name: "count memory", got: wc.Function("count").MemoryMB, want: 256},
		{name: "count max instances", got: wc.Function("count").MaxInstances, want: 3},
		{name: "wordcount result", got: *wc.Function("merge").Output("result"), want: Output{Name: "result", To: []Target{{ResultFunction, "result"}}, Size: 325053, Line: 63}},
		{name: "wordcount has no inputs", got: len(wc.Inputs), want: 0},
		// illgal_recognizer
		{name: "END is not a function", got: len(rec.Functions), want: 9},
		{name: "virtual1 has 2 branches", got: len(rec.Function("virtual1").Switch), want: 2},
		{name: "virtual1 conditions", got: []string{rec.Function("virtual1").Switch[0].When, rec.Function("virtual1").Switch[1].When}, want: []string{"illegal_flag", ""}},
		{name: "virtual1 chooses mosaic", got: *rec.Function("virtual1").Switch[0].Routes[0], want: Route{Output: "signal", Signal: true, To: []Target{{"mosaic", "_switch"}}, Line: 123}},
		{name: "virtual1 takes no time", got: rec.Function("virtual1").Synthetic.Seconds, want: 0.0},
		{name: "virtual1 waits for adult and violence", got: rec.Function("virtual1").Input("_after_violence").Sources, want: []string{"violence"}},
		{name: "virtual1 passes illegal_flag on", got: outputNames(rec.Function("virtual1")), want: "illegal_flag"},
		{name: "mosaic._switch has 2 sources", got: rec.Function("mosaic").Input("_switch").Sources, want: []string{"virtual1", "virtual2"}},
		{name: "extract._switch", got: rec.Function("extract").Input("_switch").Sources, want: []string{"virtual1"}},
		{name: "illegal_flag is a workflow input", got: *rec.Inputs[2], want: Output{Name: "illegal_flag", To: []Target{{"virtual1", "illegal_flag"}, {"virtual2", "illegal_flag"}}, Line: 120}},
		{name: "upload goes before adult", got: rec.Function("upload").Output("_next").To, want: []Target{{"adult", "_after_upload"}, {"violence", "_after_upload"}}},
		{name: "virtual2 ends at END", got: rec.Function("virtual2").Switch[1].Routes[0].To, want: []Target{{ResultFunction, "virtual2"}}},
		{name: "recognizer results", got: resultNames(rec), want: []string{"mosaic", "virtual2"}},
		// fileprocessing
		{name: "upload data inputs", got: inputNames(fp.Function("upload")), want: "html, score"},
		{name: "upload.html from conversion", got: fp.Function("upload").Input("html").Sources, want: []string{"conversion"}},
		{name: "upload.score from sentiment", got: fp.Function("upload").Input("score").Sources, want: []string{"sentiment"}},
		{name: "parallel next is data only", got: outputNames(fp.Function("start")), want: "file"},
		{name: "upload ends the workflow", got: resultNames(fp), want: []string{"upload"}},
		// video
		{name: "transcode is a map of split", got: video.Function("transcode").ForeachFrom, want: "split"},
		{name: "split posts split_ratio items", got: video.Function("split").Synthetic.Items, want: 3},
		{name: "merge gathers transcode", got: *video.Function("merge").Input("_after_transcode"), want: Input{Name: "_after_transcode", List: true, Sources: []string{"transcode"}, CountFrom: "split", Line: 188}},
		{name: "merge.split_keys all items", got: video.Function("split").Output("split_keys.all").Size, want: int64(24)},
		{name: "upload passes split on", got: video.Function("upload").Input("split").Sources, want: []string{InputFunction}},
		{name: "video branches", got: video.Function("virtual1").Switch[0].When, want: "split"},
		{name: "video results", got: resultNames(video), want: []string{"simple_process", "merge"}},
		// WorkflowHub graphs: INPUT.<output of a predecessor> is a data edge
		{name: "cycles functions", got: len(cycles.Functions), want: 46},
		{name: "cycles data from predecessor", got: cycles.Function("cycles_00000002").Input("37a45a81-bebe-4ccf-8b26-f44c9d337513_dat").Sources, want: []string{"baseline_cycles_00000001"}},
		{name: "cycles alias input", got: cycles.Function("baseline_cycles_00000001").Input("d72a530d-f0d4-4af6-aabd-07a923a31559_soil").Sources, want: []string{InputFunction}},
		{name: "cycles control inputs", got: countInputs(cycles, v1AfterIn), want: 0},
		{name: "genome control inputs", got: countInputs(genome, v1AfterIn), want: 0},
		{name: "genome results", got: len(genome.Results), want: 28},
		{name: "epigenomics results", got: resultNames(epi), want: []string{"pileup_00000045"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

// countInputs counts the inputs whose names start with prefix.
func countInputs(w *Workflow, prefix string) int {
	n := 0
	for _, f := range w.Functions {
		for _, in := range f.Inputs {
			if strings.HasPrefix(in.Name, prefix) {
				n++
			}
		}
	}
	return n
}

// TestFlatV1Errors breaks the reference files one way at a time.
func TestFlatV1Errors(t *testing.T) {
	tests := []struct {
		name     string
		workflow string
		old, new string
		want     wantError
	}{
		{
			name: "dangling next node", workflow: "wordcount",
			old: "    nodes:\n    - merge\n", new: "    nodes:\n    - merger\n",
			want: wantError{43, "functions.count.next.nodes[0]", `next node "merger" of count is not a function: the functions are start, count, merge`},
		},
		{
			name: "switch without conditions", workflow: "illgal_recognizer",
			old: "    conditions:\n      - INPUT.illegal_flag\n      - default\n    nodes:\n      - mosaic\n      - extract\n", new: "    nodes:\n      - mosaic\n      - extract\n",
			want: wantError{117, "functions.virtual1.next", "a switch needs conditions, one for each node in order"},
		},
		{
			name: "conditions and nodes differ", workflow: "illgal_recognizer",
			old: "      - INPUT.illegal_flag\n      - default\n    nodes:\n      - mosaic\n      - extract\n", new: "      - INPUT.illegal_flag\n    nodes:\n      - mosaic\n      - extract\n",
			want: wantError{119, "functions.virtual1.next.conditions", "found 1 conditions and 2 nodes"},
		},
		{
			name: "negative size", workflow: "wordcount",
			old: "size: 736992", new: "size: -1",
			want: wantError{39, "functions.count.output.wordcount.size", "size must be a non-negative number of bytes, found -1"},
		},
		{
			name: "unknown field", workflow: "wordcount",
			old: "  source: count\n", new: "  sources: count\n",
			want: wantError{19, "functions.count.sources", `unknown field "sources": the fields here are input, mem_usage, name, next, output, runtime, scale, source, split_ratio`},
		},
		{
			name: "data edge to a missing output", workflow: "wordcount",
			old: "parameter: wordcount\n", new: "parameter: wordcounts\n",
			want: wantError{60, "functions.merge.input.wordcount.value.parameter", `function count has no output "wordcounts": its outputs are wordcount`},
		},
		{
			name: "data edge from a missing function", workflow: "wordcount",
			old: "function: count\n", new: "function: counter\n",
			want: wantError{59, "functions.merge.input.wordcount.value.function", `unknown function "counter": the functions are start, count, merge (or INPUT for a global input)`},
		},
		{
			name: "negative split_ratio", workflow: "video",
			old: "split_ratio: 3", new: "split_ratio: -3",
			want: wantError{161, "functions.transcode.split_ratio", "split_ratio must be at least 1"},
		},
		{
			name: "negative runtime", workflow: "fileprocessing",
			old: "runtime: 19.00", new: "runtime: -19",
			want: wantError{32, "functions.conversion.runtime", "runtime must be a non-negative number of seconds, found -19"},
		},
		{
			name: "negative scale", workflow: "fileprocessing",
			old: "runtime: 19.00\n  scale: 3", new: "runtime: 19.00\n  scale: -3",
			want: wantError{33, "functions.conversion.scale", "scale must not be negative"},
		},
		{
			name: "duplicate name", workflow: "fileprocessing",
			old: "- name: sentiment\n", new: "- name: conversion\n",
			want: wantError{50, "functions.conversion.name", `function "conversion" is defined twice (first at line 30)`},
		},
		{
			name: "condition not on a global input", workflow: "illgal_recognizer",
			old: "      - INPUT.illegal_flag\n", new: "      - illegal_flag\n",
			want: wantError{120, "functions.virtual1.next.conditions[0]", `condition "illegal_flag" reads "illegal_flag": conditions read global inputs, written INPUT.<name>`},
		},
		{
			name: "invalid condition", workflow: "illgal_recognizer",
			old: "      - INPUT.illegal_flag\n", new: "      - INPUT.illegal_flag ==\n",
			want: wantError{120, "functions.virtual1.next.conditions[0]", `invalid condition "INPUT.illegal_flag ==": at column 22: expected a value after "=="`},
		},
		{
			name: "default not last", workflow: "illgal_recognizer",
			old: "      - INPUT.illegal_flag\n      - default\n", new: "      - default\n      - INPUT.illegal_flag\n",
			want: wantError{120, "functions.virtual1.next.conditions[0]", "default must be the last condition"},
		},
		{
			name: "unknown next type", workflow: "fileprocessing",
			old: "type: parallel", new: "type: paralel",
			want: wantError{26, "functions.start.next.type", `unknown next type "paralel": use pass (or parallel), foreach or switch`},
		},
		{
			name: "key input from a pass output", workflow: "wordcount",
			old: "    file:\n      type: pass\n      value:\n        function: start", new: "    file:\n      type: key\n      value:\n        function: start",
			want: wantError{30, "functions.count.input.file", `input "file" of count has type key, but start.file is not a keys output`},
		},
		{
			name: "unknown output type", workflow: "wordcount",
			old: "type: keys", new: "type: key",
			want: wantError{9, "functions.start.output.filename.type", `unknown type "key": use keys, pass, normal`},
		},
		{
			name: "global output from a missing output", workflow: "wordcount",
			old: "      parameter: result", new: "      parameter: results",
			want: wantError{72, "global_output.result.value.parameter", `function merge has no output "results": its outputs are result`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := flatV1Path(tt.workflow)
			src := readFile(t, path)
			if !strings.Contains(src, tt.old) {
				t.Fatalf("the reference file does not contain %q", tt.old)
			}
			_, err := ParseFlatV1([]byte(strings.Replace(src, tt.old, tt.new, 1)), path)
			checkErrors(t, err, path, tt.want)
		})
	}
}

// flatV1Small is a small valid v1 workflow that the error cases below change.
const flatV1Small = `global_input:
  x: {type: pass, value: {function: INPUT, parameter: x}, size: 8}
functions:
- name: a
  source: a
  runtime: 1
  input:
    x: {type: pass, value: {function: INPUT, parameter: x}, size: 8}
  output:
    y: {type: keys, size: 10}
  next: {type: foreach, nodes: [b]}
- name: b
  source: b
  runtime: 1
  input:
    y: {type: key, value: {function: a, parameter: y}}
  output:
    z: {type: normal, size: 10}
  next: {type: pass, nodes: [c]}
- name: c
  source: c
  runtime: 1
  input:
    z: {type: pass, value: {function: b, parameter: z}}
global_output:
`

func TestFlatV1SmallErrors(t *testing.T) {
	if _, err := ParseFlatV1([]byte(flatV1Small), "small"+FlatV1Suffix); err != nil {
		t.Fatalf("the base workflow does not load: %v", err)
	}
	tests := []struct {
		name     string
		old, new string
		want     wantError
	}{
		{
			name: "INPUT that is neither global nor before", old: "    z: {type: pass, value: {function: b, parameter: z}}", new: "    z: {type: pass, value: {function: INPUT, parameter: w}}",
			want: wantError{24, "functions.c.input.z.value.parameter", "INPUT.w is neither a global_input (x) nor an output of a function whose next lists c"},
		},
		{
			name: "global input naming another", old: "  x: {type: pass, value: {function: INPUT, parameter: x}, size: 8}\nfunctions", new: "  x: {type: pass, value: {function: INPUT, parameter: v}, size: 8}\nfunctions",
			want: wantError{2, "global_input.x.value", "a global input's value is {function: INPUT, parameter: x}"},
		},
		{
			name: "map function ending a path", old: "  next: {type: pass, nodes: [c]}\n- name: c\n  source: c\n  runtime: 1\n  input:\n    z: {type: pass, value: {function: b, parameter: z}}\n", new: "",
			want: wantError{12, "functions.b", "b runs once per item of a, so it cannot end a path"},
		},
		{
			name: "result name taken", old: "global_output:\n", new: "global_output:\n  c: {type: pass, value: {function: b, parameter: z}}\n",
			want: wantError{20, "functions.c", `result "c" is already sent (at line 26, global_output.c)`},
		},
		{
			name: "switch on a function", old: "  next: {type: pass, nodes: [c]}", new: "  next: {type: switch, conditions: [default], nodes: [c]}",
			want: wantError{19, "functions.b.next", "only VIRTUAL nodes switch"},
		},
		{
			name: "virtual without switch", old: "- name: c\n  source: c\n", new: "- name: c\n  source: VIRTUAL\n",
			want: wantError{20, "functions.c", "a VIRTUAL node is a switch"},
		},
		{
			name: "virtual with input", old: "- name: c\n  source: c\n", new: "- name: c\n  source: VIRTUAL\n  next: {type: switch, conditions: [default], nodes: [END]}\n",
			want: wantError{24, "functions.c.input", "c has no input: a VIRTUAL node only chooses a branch"},
		},
		{
			name: "END named otherwise", old: "- name: c\n  source: c\n", new: "- name: c\n  source: END\n",
			want: wantError{20, "functions.c", "the node that ends paths is written {name: END, source: END}"},
		},
		{
			name: "foreach nodes disagree on split_ratio", old: "  next: {type: foreach, nodes: [b]}\n- name: b\n  source: b\n", new: "  split_ratio: 2\n  next: {type: foreach, nodes: [b]}\n- name: b\n  source: b\n  split_ratio: 3\n",
			want: wantError{15, "functions.b.split_ratio", "split_ratio of b is 3, but a has 2"},
		},
		{
			name: "mem_usage not a number", old: "  source: a\n  runtime: 1\n", new: "  source: a\n  runtime: 1\n  mem_usage: lots\n",
			want: wantError{7, "functions.a.mem_usage", `expected a number of GB such as 0.25, found "lots"`},
		},
		{
			name: "value without parameter", old: "{function: b, parameter: z}", new: "{function: b}",
			want: wantError{24, "functions.c.input.z.value", "a value names a function and one of its outputs"},
		},
		{
			name: "functions missing", old: flatV1Small, new: "global_input:\n",
			want: wantError{1, "functions", "functions is missing"},
		},
	}
	file := "small" + FlatV1Suffix
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(flatV1Small, tt.old) {
				t.Fatalf("the base workflow does not contain %q", tt.old)
			}
			_, err := ParseFlatV1([]byte(strings.Replace(flatV1Small, tt.old, tt.new, 1)), file)
			checkErrors(t, err, file, tt.want)
		})
	}
}

func TestFlatV1Aliases(t *testing.T) {
	bomb := "a: &a [x, x, x, x, x, x, x, x]\n"
	prev := "a"
	for _, name := range []string{"b", "c", "d", "e", "f", "g", "h"} {
		bomb += name + ": &" + name + " [*" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + ", *" + prev + "]\n"
		prev = name
	}
	tests := []struct {
		name string
		src  string
		want wantError
	}{
		{name: "alias bomb", src: bomb, want: wantError{0, "", "the aliases expand to more than"}},
		{name: "alias inside itself", src: "global_input: &a {x: *a}\n", want: wantError{1, "", "alias *a is inside the value it names"}},
		{name: "two documents", src: "functions: []\n---\nfunctions: []\n", want: wantError{2, "", "more than one YAML document"}},
		{name: "empty", src: "", want: wantError{0, "", "the file is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFlatV1([]byte(tt.src), "x"+FlatV1Suffix)
			var errs Errors
			if err != nil {
				errs, _ = err.(Errors)
			}
			for _, e := range errs {
				if (tt.want.line == 0 || e.Line == tt.want.line) && strings.Contains(e.Msg, tt.want.msg) {
					return
				}
			}
			t.Errorf("no error at line %d with %q; got %v", tt.want.line, tt.want.msg, err)
		})
	}
}

func FuzzParseFlatV1(f *testing.F) {
	addFiles(f, filepath.Join("testdata", "flatv1", "*"+FlatV1Suffix))
	f.Add([]byte(flatV1Small))
	f.Fuzz(func(t *testing.T, src []byte) {
		w, err := ParseFlatV1(src, "fuzz"+FlatV1Suffix)
		if err != nil {
			checkLoadError(t, err)
			return
		}
		checkRoundTrip(t, w)
		checkNativeRoundTrip(t, w)
	})
}
