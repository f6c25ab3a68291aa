package experiments

import (
	"math"
	"testing"

	"github.com/faasflow/faasflow-go/workflow"
)

func TestCriticalPath(t *testing.T) {
	// a → b → d and a → c → d: the path through the slower branch counts;
	// c ran once per item, its longest item counts.
	src := `
name: diamond
inputs: {x: a.in}
functions:
  a: {inputs: [in], outputs: {o: [b.in, c.in]}}
  b: {inputs: [in], outputs: {o: d.b}}
  c: {inputs: [in], outputs: {o: d.c}}
  d: {inputs: [b, c], outputs: {o: $result}}
`
	wf, err := workflow.ParseNative([]byte(src), "d.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		runs map[string][]float64
		want float64
	}{
		{name: "slower branch", runs: map[string][]float64{"a": {1}, "b": {2}, "c": {5}, "d": {1}}, want: 7},
		{name: "items side by side", runs: map[string][]float64{"a": {1}, "b": {2}, "c": {0.5, 3, 1}, "d": {1}}, want: 5},
		{name: "skipped function counts zero", runs: map[string][]float64{"a": {1}, "b": {2}, "d": {1}}, want: 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CriticalPath(wf, tt.runs); math.Abs(got-tt.want) > 1e-9 {
				t.Fatalf("critical path = %g, want %g", got, tt.want)
			}
		})
	}
}
