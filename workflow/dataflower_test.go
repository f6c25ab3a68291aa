package workflow

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var dataflowerNames = []string{"wordcount", "svd", "video", "recognizer"}

// TestDataFlowerShared loads the reference files in place, when the shared
// tree is beside the repository.
func TestDataFlowerShared(t *testing.T) {
	dir := filepath.Join("..", "..", "shared", "reference", "faasflow", "dataflower", "workflows")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("reference files not found (%v); the copies in testdata/dataflower are tested instead", err)
	}
	for _, name := range dataflowerNames {
		t.Run(name, func(t *testing.T) {
			mustLoad(t, filepath.Join(dir, name+DataFlowerSuffix))
		})
	}
}

func TestDataFlowerLoads(t *testing.T) {
	for _, name := range dataflowerNames {
		t.Run(name, func(t *testing.T) {
			w := mustLoad(t, filepath.Join("testdata", "dataflower", name+DataFlowerSuffix))
			if w.Name != name {
				t.Errorf("Name = %q, want %q", w.Name, name)
			}
			for _, f := range w.Functions {
				if f.Runtime != "" || f.Code != "" {
					t.Errorf("%s has runtime %q, code %q; want both empty (bound at deploy)", f.Name, f.Runtime, f.Code)
				}
				if f.CPU <= 0 {
					t.Errorf("%s has cpu %v, want the cpus of templates_info.yaml", f.Name, f.CPU)
				}
			}
		})
	}
}

func TestDataFlowerFacts(t *testing.T) {
	load := func(name string) *Workflow {
		return mustLoad(t, filepath.Join("testdata", "dataflower", name+DataFlowerSuffix))
	}
	wc, svd, video, rec := load("wordcount"), load("svd"), load("video"), load("recognizer")
	tests := []struct {
		name string
		got  any
		want any
	}{
		{name: "wordcount functions", got: wc.Order, want: []string{"wordcount__start", "wordcount__count", "wordcount__merge"}},
		{name: "wordcount input", got: *wc.Inputs[0], want: Output{Name: "start", To: []Target{{"wordcount__start", "start"}}, Line: 3}},
		{name: "count is a map of start", got: [2]string{wc.Function("wordcount__count").ForeachInput, wc.Function("wordcount__count").ForeachFrom}, want: [2]string{"file", "wordcount__start"}},
		{name: "merge.counts is a list", got: wc.Function("wordcount__merge").Input("counts").List, want: true},
		{name: "merge.counts counts start's items", got: wc.Function("wordcount__merge").Input("counts").CountFrom, want: "wordcount__start"},
		{name: "VIRTUAL.CNT dropped from merge", got: len(wc.Function("wordcount__merge").Inputs), want: 1},
		{name: "VIRTUAL.CNT dropped from start", got: len(wc.Function("wordcount__start").Outputs), want: 1},
		{name: "start counts to merge", got: wc.Function("wordcount__start").CountTo, want: []string{"wordcount__merge"}},
		{name: "wordcount cpu", got: wc.Function("wordcount__count").CPU, want: 0.2},
		{name: "wordcount result", got: wc.Results[0].Sources, want: []string{"wordcount__merge"}},
		{name: "svd compute cpu", got: svd.Function("svd__compute").CPU, want: 0.1},
		{name: "svd merge counts start", got: svd.Function("svd__merge").Input("res").CountFrom, want: "svd__start"},
		{name: "mosaic.start sources", got: rec.Function("recognizer__mosaic").Input("start").Sources, want: []string{"recognizer__adult", "recognizer__censor", "recognizer__violence"}},
		{name: "adult branches", got: []string{rec.Function("recognizer__adult").Switch[0].When, rec.Function("recognizer__adult").Switch[1].When}, want: []string{"illegal==True", ""}},
		{name: "adult signals", got: *rec.Function("recognizer__adult").Switch[0].Routes[0], want: Route{Output: "virtual.start", Signal: true, To: []Target{{"recognizer__mosaic", "start"}}, Line: 33}},
		{name: "censor default to result", got: rec.Function("recognizer__censor").Switch[1].Routes[0].To, want: []Target{{ResultFunction, "virtual.start"}}},
		{name: "recognizer results", got: resultNames(rec), want: []string{"content", "virtual.start"}},
		{name: "upload branches", got: len(video.Function("video__upload").Switch), want: 2},
		{name: "upload branch order", got: video.Function("video__upload").Switch[1].When, want: "split==False"},
		{name: "upload first route", got: *video.Function("video__upload").Switch[0].Routes[0], want: Route{Output: "user_name", To: []Target{{"video__split", "user_name"}, {"video__merge", "user_name"}}, Line: 26}},
		{name: "transcode is a map of split", got: video.Function("video__transcode").ForeachFrom, want: "video__split"},
		{name: "merge.video counts split", got: video.Function("video__merge").Input("video").CountFrom, want: "video__split"},
		{name: "video results", got: resultNames(video), want: []string{"transcoded_video", "merged_video"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !reflect.DeepEqual(tt.got, tt.want) {
				t.Errorf("got %#v, want %#v", tt.got, tt.want)
			}
		})
	}
}

func resultNames(w *Workflow) []string {
	var names []string
	for _, r := range w.Results {
		names = append(names, r.Name)
	}
	return names
}

func TestDataFlowerBrokenCopy(t *testing.T) {
	path := filepath.Join("testdata", "dataflower_broken", "wordcount"+DataFlowerSuffix)
	src, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tplPath := filepath.Join("testdata", "dataflower", DataFlowerTemplates)
	tpl, err := os.ReadFile(tplPath)
	if err != nil {
		t.Fatal(err)
	}
	_, err = ParseDataFlower(src, path, tpl, tplPath)
	checkErrors(t, err, path, wantError{33, "templates.wordcount__count.blocks.block_0.output_datas.res.dest.wordcount__merge.block_0.count",
		`function "wordcount__merge" has no input "count": its inputs are counts`})
}

// TestDataFlowerErrors breaks the reference files one way at a time.
func TestDataFlowerErrors(t *testing.T) {
	tests := []struct {
		name     string
		workflow string // which reference workflow
		inTpl    bool   // the change is in templates_info.yaml
		old, new string
		want     wantError
	}{
		{
			name: "unknown template in dest", workflow: "wordcount",
			old: "wordcount__merge: { block_0: { counts } }", new: "wordcount__merg: { block_0: { counts } }",
			want: wantError{33, "templates.wordcount__count.blocks.block_0.output_datas.res.dest.wordcount__merg", `unknown template "wordcount__merg": the templates are wordcount__count, wordcount__merge, wordcount__start`},
		},
		{
			name: "unknown block in dest", workflow: "wordcount",
			old: "wordcount__merge: { block_0: { counts } }", new: "wordcount__merge: { block_1: { counts } }",
			want: wantError{33, "templates.wordcount__count.blocks.block_0.output_datas.res.dest.wordcount__merge.block_1", `template "wordcount__merge" has no block "block_1": its blocks are block_0`},
		},
		{
			name: "unknown field in block", workflow: "wordcount",
			old: "  wordcount__count:\n    blocks:\n      block_0:\n        type: NORMAL", new: "  wordcount__count:\n    blocks:\n      block_0:\n        typ: NORMAL",
			want: wantError{26, "templates.wordcount__count.blocks.block_0.typ", `unknown field "typ": the fields here are conditions, input_datas, output_datas, type`},
		},
		{
			name: "global input not from $USER", workflow: "wordcount",
			old: "$USER.start:", new: "start:",
			want: wantError{3, "global_inputs.start", `global input "start" must be named $USER.<name>`},
		},
		{
			name: "list input without count", workflow: "wordcount",
			old: "          VIRTUAL.CNT: { type: NORMAL }\n          counts", new: "          counts",
			want: wantError{22, "templates.wordcount__start.blocks.block_0.output_datas.VIRTUAL.CNT.dest.wordcount__merge.block_0.VIRTUAL.CNT", "wordcount__merge has no VIRTUAL.CNT input"},
		},
		{
			name: "list input without count message", workflow: "wordcount",
			old: "          VIRTUAL.CNT: { type: NORMAL }\n          counts", new: "          counts",
			want: wantError{39, "templates.wordcount__merge.blocks.block_0.input_datas.counts", "merge input counts of wordcount__merge has no count: add `VIRTUAL.CNT: {type: NORMAL}` to its input_datas and send it from the foreach producer (wordcount__start)"},
		},
		{
			name: "count from the wrong producer", workflow: "wordcount",
			old:  "          VIRTUAL.CNT:\n            type: NORMAL\n            dest:\n              wordcount__merge: { block_0: { VIRTUAL.CNT } }\n",
			new:  "",
			want: wantError{35, "templates.wordcount__merge.blocks.block_0.input_datas.VIRTUAL.CNT", "VIRTUAL.CNT of wordcount__merge must be sent by wordcount__start, whose foreach items feed its LIST input counts"},
		},
		{
			name: "count to a normal input", workflow: "wordcount",
			old: "wordcount__merge: { block_0: { VIRTUAL.CNT } }", new: "wordcount__merge: { block_0: { counts } }",
			want: wantError{22, "templates.wordcount__start.blocks.block_0.output_datas.VIRTUAL.CNT.dest.wordcount__merge.block_0.counts", `VIRTUAL.CNT must go to a VIRTUAL.CNT input, not to "counts"`},
		},
		{
			name: "merge into a normal input", workflow: "wordcount",
			old: "counts: { type: LIST }", new: "counts: { type: NORMAL }",
			want: wantError{33, "templates.wordcount__count.blocks.block_0.output_datas.res.dest.wordcount__merge.block_0.counts", `wordcount__count runs once per item of wordcount__start, so its output "res" can only feed list inputs`},
		},
		{
			name: "unknown output type", workflow: "wordcount",
			old: "type: FOREACH", new: "type: FOR_EACH",
			want: wantError{16, "templates.wordcount__start.blocks.block_0.output_datas.file.type", `unknown output type "FOR_EACH": use NORMAL, FOREACH or MERGE`},
		},
		{
			name: "condition on unknown output", workflow: "recognizer",
			old: "illegal==True:", new: "ilegal==True:", // the first is adult's
			want: wantError{32, "templates.recognizer__adult.blocks.block_0.conditions.ilegal==True", `condition "ilegal==True" uses "ilegal", which is not an output of recognizer__adult: its outputs are illegal`},
		},
		{
			name: "invalid condition", workflow: "recognizer",
			old: "illegal==True:", new: "illegal=True:",
			want: wantError{32, "templates.recognizer__adult.blocks.block_0.conditions.illegal=True", `invalid condition "illegal=True": at column 8: "=" is not an operator`},
		},
		{
			name: "route neither output nor signal", workflow: "recognizer",
			old:  "          default:\n            virtual.start:\n              recognizer__extract: { block_0: { start_0 } }",
			new:  "          default:\n            start:\n              recognizer__extract: { block_0: { start_0 } }",
			want: wantError{36, "templates.recognizer__adult.blocks.block_0.conditions.default.start", `"start" is neither an output of this block (illegal) nor a signal (a name starting with virtual.)`},
		},
		{
			name: "default first", workflow: "video",
			old: "'split==True':", new: "default:",
			want: wantError{25, "templates.video__upload.blocks.block_0.conditions.default", "the default branch (the one without a condition) must be the last branch of video__upload"},
		},
		{
			name: "template missing from templates_info", workflow: "svd", inTpl: true,
			old: "template_name: svd__merge", new: "template_name: svd__merger",
			want: wantError{34, "templates.svd__merge", `template "svd__merge" is not in testdata/dataflower/templates_info.yaml`},
		},
		{
			name: "block missing from templates_info", workflow: "svd", inTpl: true,
			old: "template_name: svd__merge\n    blocks: { block_0 }", new: "template_name: svd__merge\n    blocks: { block_1 }",
			want: wantError{36, "templates.svd__merge.blocks.block_0", `block "block_0" of template "svd__merge" is not among its blocks in testdata/dataflower/templates_info.yaml (block_1)`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join("testdata", "dataflower", tt.workflow+DataFlowerSuffix)
			tplPath := filepath.Join("testdata", "dataflower", DataFlowerTemplates)
			src, tpl := readFile(t, path), readFile(t, tplPath)
			target := &src
			if tt.inTpl {
				target = &tpl
			}
			if !strings.Contains(*target, tt.old) {
				t.Fatalf("the reference file does not contain %q", tt.old)
			}
			*target = strings.Replace(*target, tt.old, tt.new, 1)
			_, err := ParseDataFlower([]byte(src), path, []byte(tpl), tplPath)
			checkErrors(t, err, path, tt.want)
		})
	}
}

func TestDataFlowerTemplatesInfoErrors(t *testing.T) {
	path := filepath.Join("testdata", "dataflower", "wordcount"+DataFlowerSuffix)
	tplPath := filepath.Join("testdata", "dataflower", DataFlowerTemplates)
	src, tpl := readFile(t, path), readFile(t, tplPath)
	tests := []struct {
		name     string
		old, new string
		want     wantError
	}{
		{
			name: "unknown field", old: "cpus: 0.2\n    gc: True\n\n  - image_name: video__split", new: "cpu: 0.2\n    gc: True\n\n  - image_name: video__split",
			want: wantError{7, "templates[0].cpu", `unknown field "cpu": the fields here are blocks, cpus, gc, image_name, template_name`},
		},
		{
			name: "cpus not a number", old: "cpus: 0.2\n    gc: True\n\n  - image_name: video__split", new: "cpus: much\n    gc: True\n\n  - image_name: video__split",
			want: wantError{7, "templates[0].cpus", `expected a number of cores such as 0.5, found "much"`},
		},
		{
			name: "yaml syntax", old: "blocks: { block_0 }\n    cpus: 0.2\n    gc: True\n\n  - image_name: video__split", new: "blocks: { block_0 \n    cpus: 0.2\n    gc: True\n\n  - image_name: video__split",
			want: wantError{5, "", "invalid YAML: did not find expected ',' or '}'"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(tpl, tt.old) {
				t.Fatalf("templates_info.yaml does not contain %q", tt.old)
			}
			broken := strings.Replace(tpl, tt.old, tt.new, 1)
			_, err := ParseDataFlower([]byte(src), path, []byte(broken), tplPath)
			checkErrors(t, err, tplPath, tt.want)
		})
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDataFlowerMultiBlock(t *testing.T) {
	src := `workflow_name: grouped
global_inputs:
  $USER.start:
    type: NORMAL
    dest:
      group: { first: { start } }
templates:
  group:
    blocks:
      first:
        type: NORMAL
        input_datas:
          start: { type: NORMAL }
        output_datas:
          mid:
            type: NORMAL
            dest:
              group: { second: { mid } }
      second:
        type: NORMAL
        input_datas:
          mid: { type: NORMAL }
        output_datas:
          out:
            type: NORMAL
            dest: { $USER }
`
	tpl := "templates:\n  - image_name: group\n    template_name: group\n    blocks: { first, second }\n    cpus: 0.5\n  - template_name: unused\n    blocks: { block_0 }\n"
	w, err := ParseDataFlower([]byte(src), "grouped.workflow_info.yaml", []byte(tpl), "templates_info.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := w.Order, []string{"group/first", "group/second"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Order = %v, want %v", got, want)
	}
	if got, want := w.Function("group/first").Output("mid").To, []Target{{"group/second", "mid"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("first's targets = %v, want %v", got, want)
	}
	if got := w.Function("group/second").CPU; got != 0.5 {
		t.Errorf("second's cpu = %v, want 0.5", got)
	}
}
