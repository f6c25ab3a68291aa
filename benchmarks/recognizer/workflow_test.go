package recognizer_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/faasflow/faasflow-go/workflow"
)

// shape returns a workflow's model as generic JSON without what the two
// formats may differ in (code, lines, source file, timeouts, runtime, the
// spelling of conditions) and with DataFlower's "recognizer__" prefixes
// removed.
func shape(t *testing.T, wf *workflow.Workflow) map[string]any {
	t.Helper()
	b, err := json.Marshal(wf)
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.ReplaceAll(string(b), "recognizer__", ""))
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	var strip func(v any)
	strip = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if w, ok := v["when"].(string); ok {
				// Python's True is true, and spaces do not matter.
				v["when"] = strings.ReplaceAll(strings.ReplaceAll(w, " ", ""), "True", "true")
			}
			for _, k := range []string{"code", "line", "source", "timeout", "runtime"} {
				delete(v, k)
			}
			for _, e := range v {
				strip(e)
			}
		case []any:
			for _, e := range v {
				strip(e)
			}
		}
	}
	strip(m)
	return m
}

// TestSameShapeAsDataFlower checks that workflow.yaml has DataFlower's
// functions, inputs, edges, switches and cpus, plus censor's output text
// and the route sending it to the result, and nothing else.
func TestSameShapeAsDataFlower(t *testing.T) {
	native, err := workflow.LoadFile("workflow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	censor := native.Function("censor")
	if censor == nil {
		t.Fatal("no function censor")
	}
	// Drop the addition: the output text and the route that sends it.
	if n := len(censor.Outputs); n == 0 || censor.Outputs[n-1].Name != "text" {
		t.Fatal("censor's last output is not text")
	}
	censor.Outputs = censor.Outputs[:len(censor.Outputs)-1]
	def := censor.Switch[len(censor.Switch)-1]
	if len(def.Routes) != 2 || def.Routes[0].Output != "text" {
		t.Fatalf("censor's default branch sends %d routes, want text and the signal", len(def.Routes))
	}
	def.Routes = def.Routes[1:]

	got, want := shape(t, native), shape(t, boundDataFlower(t))
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("workflow.yaml differs from DataFlower's file beyond censor's text:\n%s\nwant\n%s", g, w)
	}
}
