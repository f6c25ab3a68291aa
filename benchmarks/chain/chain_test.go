package chain

import (
	"fmt"
	"os"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
)

func parse(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := yaml.Unmarshal(b, &m); err != nil {
		t.Fatalf("parse YAML: %v\n%s", err, b)
	}
	return m
}

func TestWorkflowMatchesFile(t *testing.T) {
	file, err := os.ReadFile("workflow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	got := parse(t, Workflow(10, "./noop"))
	want := parse(t, file)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Workflow(10, \"./noop\") differs from workflow.yaml:\ngot  %v\nwant %v", got, want)
	}
}

func TestWorkflow(t *testing.T) {
	tests := []struct {
		name     string
		n        int
		codeDir  string
		wantName string
	}{
		{name: "one function", n: 1, codeDir: "./noop", wantName: "chain1"},
		{name: "three functions", n: 3, codeDir: "/abs/noop", wantName: "chain3"},
		{name: "awkward path", n: 2, codeDir: `/tmp/a b: "c" #d\e`, wantName: "chain2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := parse(t, Workflow(tt.n, tt.codeDir))
			if got := m["name"]; got != tt.wantName {
				t.Errorf("got name %v, want %s", got, tt.wantName)
			}
			if got, want := m["inputs"], map[string]any{"x": "f0.in"}; !reflect.DeepEqual(got, want) {
				t.Errorf("got inputs %v, want %v", got, want)
			}
			fns, ok := m["functions"].(map[string]any)
			if !ok {
				t.Fatalf("got functions %T, want a map", m["functions"])
			}
			if got := len(fns); got != tt.n {
				t.Errorf("got %d functions, want %d", got, tt.n)
			}
			for i := range tt.n {
				name := fmt.Sprintf("f%d", i)
				wantTo := fmt.Sprintf("f%d.in", i+1)
				if i == tt.n-1 {
					wantTo = "$result"
				}
				want := map[string]any{
					"code":    tt.codeDir,
					"inputs":  []any{"in"},
					"outputs": map[string]any{"out": wantTo},
				}
				if got := fns[name]; !reflect.DeepEqual(got, want) {
					t.Errorf("%s: got %v, want %v", name, got, want)
				}
			}
		})
	}
}

func TestWorkflowPanicsOnEmptyChain(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("got no panic for n=0, want one")
		}
	}()
	Workflow(0, "./noop")
}
