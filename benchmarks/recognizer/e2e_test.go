package recognizer_test

import (
	"encoding/base64"
	"encoding/json"
	"image"
	"image/draw"
	"maps"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/agents/engine"
	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/benchmarks/recognizer"
	"github.com/faasflow/faasflow-go/internal/testcluster"
	"github.com/faasflow/faasflow-go/workflow"
)

// dataflowerFile is the copy of DataFlower's recognizer.workflow_info.yaml
// (and the templates_info.yaml beside it) kept unchanged in the workflow
// package's test data.
const dataflowerFile = "../../workflow/testdata/dataflower/recognizer.workflow_info.yaml"

// runLog keeps the run records of every worker by invocation.
type runLog struct {
	mu   sync.Mutex
	runs map[string][]engine.RunRecord
}

func newRunLog() *runLog { return &runLog{runs: map[string][]engine.RunRecord{}} }

func (l *runLog) Record(r *engine.RunRecord) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.runs[r.RequestID] = append(l.runs[r.RequestID], *r)
}

// records returns the runs of an invocation by function (DataFlower's
// "recognizer__" prefix removed), once every function in want has run or
// after 10 s. A run is recorded after its outputs have gone out, so it may
// reach the log just after the invocation ends.
func (l *runLog) records(id string, want []string) map[string]engine.RunRecord {
	deadline := time.Now().Add(10 * time.Second)
	for {
		l.mu.Lock()
		got := map[string]engine.RunRecord{}
		for _, r := range l.runs[id] {
			got[strings.TrimPrefix(r.Function, "recognizer__")] = r
		}
		l.mu.Unlock()
		missing := slices.ContainsFunc(want, func(f string) bool { _, ok := got[f]; return !ok })
		if !missing || time.Now().After(deadline) {
			return got
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// e2eCase is one path through the workflow.
type e2eCase struct {
	name  string
	scene recognizer.Scene
	ran   []string // the functions that run, sorted
	// illegal is true when the image ends in mosaic; otherwise the result
	// is censor's signal (and, in the native workflow, the English text).
	illegal bool
}

var (
	detectPath = []string{"adult", "mosaic", "upload", "violence"}
	cleanPath  = []string{"adult", "censor", "extract", "translate", "upload", "violence"}
	censorPath = []string{"adult", "censor", "extract", "mosaic", "translate", "upload", "violence"}
)

var e2eCases = []e2eCase{
	{name: "clean", scene: recognizer.Scene{Seed: 1}, ran: cleanPath},
	{name: "banned text", scene: recognizer.Scene{Seed: 2, Text: "VENDEMOS ARMAS Y DROGAS"}, ran: censorPath, illegal: true},
	{name: "adult", scene: recognizer.Scene{Seed: 3, Adult: true}, ran: detectPath, illegal: true},
	{name: "violence", scene: recognizer.Scene{Seed: 4, Violence: true}, ran: detectPath, illegal: true},
}

// TestEndToEnd runs the three paths through the workflow on a cluster of
// three workers, from the native workflow.yaml and from DataFlower's file
// unchanged with dataflower.bind.yaml, checks every result against the
// package's own computation, and checks that both files give the same
// results (but for the native file's extra result key text).
func TestEndToEnd(t *testing.T) {
	if _, err := recognizer.TesseractPath(); err != nil {
		t.Fatal(err)
	}
	results := map[string]map[string]map[string]json.RawMessage{} // file → case → result
	for _, file := range []string{"native", "dataflower"} {
		t.Run(file, func(t *testing.T) {
			log := newRunLog()
			c := testcluster.Start(t, testcluster.Options{Workers: 3, Observer: log})
			if file == "native" {
				c.Deploy(t, ".", api.DeployRequest{})
			} else {
				c.DeployWorkflow(t, &api.DeployRequest{Workflow: boundDataFlower(t)})
			}
			results[file] = map[string]map[string]json.RawMessage{}
			for _, tc := range e2eCases {
				t.Run(tc.name, func(t *testing.T) {
					start := time.Now()
					inv := c.Invoke(t, "recognizer", map[string]string{"start": sceneJSON(t, tc.scene)})
					if inv.Status != api.StatusSucceeded {
						t.Fatalf("status %s: %s", inv.Status, inv.Error)
					}
					t.Logf("invocation took %v", time.Since(start).Round(time.Millisecond))
					runs := log.records(inv.RequestID, tc.ran)
					if got := slices.Sorted(maps.Keys(runs)); !reflect.DeepEqual(got, tc.ran) {
						t.Errorf("functions run: got %v, want %v", got, tc.ran)
					}
					checkResult(t, tc, file == "native", inv.Result)
					results[file][tc.name] = inv.Result
				})
			}
		})
	}
	if t.Failed() {
		return
	}
	for _, tc := range e2eCases {
		native := maps.Clone(results["native"][tc.name])
		delete(native, "text")
		if got := results["dataflower"][tc.name]; !reflect.DeepEqual(got, native) {
			t.Errorf("%s: DataFlower's file gave %.300s, the native file %.300s", tc.name, got, native)
		}
	}
}

// checkResult checks an invocation's result: the pixelated image for an
// illegal one, censor's signal and (native) the translated text for a
// clean one.
func checkResult(t *testing.T, tc e2eCase, native bool, result map[string]json.RawMessage) {
	t.Helper()
	keys := slices.Sorted(maps.Keys(result))
	if tc.illegal {
		if !reflect.DeepEqual(keys, []string{"content"}) {
			t.Fatalf("result keys %v, want [content]", keys)
		}
		var content struct{ Base64 string }
		if err := json.Unmarshal(result["content"], &content); err != nil {
			t.Fatalf("content %.100s: %v", result["content"], err)
		}
		b, err := base64.StdEncoding.DecodeString(content.Base64)
		if err != nil {
			t.Fatal(err)
		}
		got, err := recognizer.DecodePNG(b)
		if err != nil {
			t.Fatal(err)
		}
		img, err := recognizer.Render(tc.scene)
		if err != nil {
			t.Fatal(err)
		}
		want, err := recognizer.Pixelate(img, recognizer.MosaicBlock)
		if err != nil {
			t.Fatal(err)
		}
		if !recognizer.Uniform(got, recognizer.MosaicBlock) || got.Bounds() != want.Rect {
			t.Fatalf("content is not a %d-pixel mosaic of the %v image", recognizer.MosaicBlock, want.Rect)
		}
		if !reflect.DeepEqual(pixels(got), want.Pix) {
			t.Error("content differs from the mosaic of the image")
		}
		return
	}
	wantKeys := []string{"virtual.start"}
	if native {
		wantKeys = []string{"text", "virtual.start"}
	}
	if !reflect.DeepEqual(keys, wantKeys) {
		t.Fatalf("result keys %v, want %v", keys, wantKeys)
	}
	if string(result["virtual.start"]) != "null" {
		t.Errorf("censor's signal is %s, want null", result["virtual.start"])
	}
	if !native {
		return
	}
	lines, err := tc.scene.Lines()
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := json.Unmarshal(result["text"], &got); err != nil {
		t.Fatalf("text %s: %v", result["text"], err)
	}
	want := recognizer.Spanish().Translate(strings.Join(lines, "\n")).Text
	if got != want {
		t.Errorf("text: got %q, want %q (the translation of %q)", got, want, lines)
	}
}

// pixels returns the pixels of img in RGBA order.
func pixels(img image.Image) []byte {
	out := image.NewRGBA(img.Bounds())
	draw.Draw(out, out.Rect, img, out.Rect.Min, draw.Src)
	return out.Pix
}

// boundDataFlower loads DataFlower's file and binds its templates to this
// benchmark's functions.
func boundDataFlower(tb testing.TB) *workflow.Workflow {
	return testcluster.LoadBound(tb, dataflowerFile, "dataflower.bind.yaml")
}

func sceneJSON(tb testing.TB, s recognizer.Scene) string {
	b, err := json.Marshal(s)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// BenchmarkEndToEnd invokes the workflow, from the native file and from
// DataFlower's, on three workers with an image whose text is banned, so
// that all seven functions run as in DataFlower's measurements, one
// invocation at a time after one to start the instances. It reports the
// median run time of each function and the median end-to-end latency (the
// gateway's), in milliseconds:
//
//	go test -run '^$' -bench EndToEnd -benchtime 50x ./benchmarks/recognizer/
func BenchmarkEndToEnd(b *testing.B) {
	for _, file := range []string{"native", "dataflower"} {
		b.Run(file, func(b *testing.B) {
			log := newRunLog()
			c := testcluster.Start(b, testcluster.Options{Workers: 3, Observer: log})
			if file == "native" {
				c.Deploy(b, ".", api.DeployRequest{})
			} else {
				c.DeployWorkflow(b, &api.DeployRequest{Workflow: boundDataFlower(b)})
			}
			input := map[string]string{"start": sceneJSON(b, recognizer.Scene{Seed: 2, Text: "VENDEMOS ARMAS Y DROGAS"})}
			c.Invoke(b, "recognizer", input)
			times := map[string][]float64{}
			for b.Loop() {
				inv := c.Invoke(b, "recognizer", input)
				if inv.Status != api.StatusSucceeded {
					b.Fatalf("status %s: %s", inv.Status, inv.Error)
				}
				times["e2e"] = append(times["e2e"], inv.Latency)
				for f, r := range log.records(inv.RequestID, censorPath) {
					times[f] = append(times[f], r.Ed-r.St)
				}
			}
			for _, f := range []string{"upload", "adult", "violence", "extract", "translate", "censor", "mosaic", "e2e"} {
				b.ReportMetric(1000*median(times[f]), f+"-ms")
			}
		})
	}
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Sorted(slices.Values(xs))
	if n := len(xs); n%2 == 0 {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
	return xs[len(xs)/2]
}
