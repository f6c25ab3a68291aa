package wordcount

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestWorkflowFile(t *testing.T) {
	b, err := os.ReadFile("workflow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var w struct {
		Name      string                    `yaml:"name"`
		Inputs    map[string]any            `yaml:"inputs"`
		Functions map[string]map[string]any `yaml:"functions"`
	}
	if err := yaml.Unmarshal(b, &w); err != nil {
		t.Fatalf("parse workflow.yaml: %v", err)
	}
	if got, want := w.Name, "wordcount"; got != want {
		t.Errorf("got name %q, want %q", got, want)
	}
	if got, want := w.Inputs, map[string]any{"seed": "start.seed"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got inputs %v, want %v", got, want)
	}
	tests := []struct {
		name        string
		wantInputs  any
		wantOutputs map[string]any
	}{
		{
			name:        "start",
			wantInputs:  []any{"seed"},
			wantOutputs: map[string]any{"file": map[string]any{"to": "count.file", "foreach": true}},
		},
		{
			name:        "count",
			wantInputs:  []any{"file"},
			wantOutputs: map[string]any{"res": "merge.counts"},
		},
		{
			name:        "merge",
			wantInputs:  map[string]any{"counts": "list"},
			wantOutputs: map[string]any{"res": "$result"},
		},
	}
	if got, want := len(w.Functions), len(tests); got != want {
		t.Errorf("got %d functions, want %d", got, want)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := w.Functions[tt.name]
			if got, want := f["code"], "./"+tt.name; got != want {
				t.Errorf("got code %v, want %s", got, want)
			}
			if _, err := os.Stat(filepath.Join(tt.name, "main.go")); err != nil {
				t.Errorf("no main package for %s: %v", tt.name, err)
			}
			if got := f["inputs"]; !reflect.DeepEqual(got, tt.wantInputs) {
				t.Errorf("got inputs %v, want %v", got, tt.wantInputs)
			}
			if got := f["outputs"]; !reflect.DeepEqual(got, tt.wantOutputs) {
				t.Errorf("got outputs %v, want %v", got, tt.wantOutputs)
			}
		})
	}
}
