package placement

import (
	"strings"
	"testing"

	"github.com/faasflow/faasflow-go/workflow"
)

func chain(t *testing.T) *workflow.Workflow {
	t.Helper()
	src := `
name: c
inputs: {x: a.in}
functions:
  a: {inputs: [in], outputs: {out: b.in}}
  b: {inputs: [in], outputs: {out: c.in}}
  c: {inputs: [in], outputs: {out: $result}}
`
	wf, err := workflow.ParseNative([]byte(src), "c.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return wf
}

func TestPlace(t *testing.T) {
	workers := []Worker{{ID: "w0"}, {ID: "w1"}}
	tests := []struct {
		name     string
		strategy string
		table    map[string]string
		want     map[string]string
		wantErr  string
	}{
		{name: "round-robin follows the chain", strategy: RoundRobin, want: map[string]string{"a": "w0", "b": "w1", "c": "w0"}},
		{name: "default is round-robin", strategy: "", want: map[string]string{"a": "w0", "b": "w1", "c": "w0"}},
		{name: "single uses the first worker", strategy: Single, want: map[string]string{"a": "w0", "b": "w0", "c": "w0"}},
		{name: "single on a named worker", strategy: Single, table: map[string]string{"*": "w1"}, want: map[string]string{"a": "w1", "b": "w1", "c": "w1"}},
		{name: "static table", strategy: Static, table: map[string]string{"a": "w1", "b": "w1", "c": "w0"}, want: map[string]string{"a": "w1", "b": "w1", "c": "w0"}},
		{name: "static table missing a function", strategy: Static, table: map[string]string{"a": "w1"}, wantErr: "no worker for b, c"},
		{name: "static table with unknown worker", strategy: Static, table: map[string]string{"a": "w9", "b": "w1", "c": "w0"}, wantErr: `no worker "w9" is registered (workers: w0, w1)`},
		{name: "static table naming a stranger", strategy: Static, table: map[string]string{"a": "w1", "b": "w1", "c": "w0", "z": "w0"}, wantErr: `"z", which is not a function`},
		{name: "grouping keeps a chain's data on one worker", strategy: Grouping, want: map[string]string{"a": "w0", "b": "w0", "c": "w0"}},
		{name: "unknown strategy", strategy: "random", wantErr: "unknown placement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wf := chain(t)
			for _, f := range wf.Functions {
				f.Outputs[0].Size = 1000
			}
			got, err := Place(wf, workers, tt.strategy, tt.table)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for fn, w := range tt.want {
				if got[fn] != w {
					t.Errorf("%s placed on %s, want %s (placement %v)", fn, got[fn], w, got)
				}
			}
		})
	}
}

func TestPlaceNeedsWorkers(t *testing.T) {
	if _, err := Place(chain(t), nil, RoundRobin, nil); err == nil || !strings.Contains(err.Error(), "cluster up") {
		t.Fatalf("err = %v, want advice to start workers", err)
	}
}
