package faults

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestWorkflowFiles checks that each workflow file parses and that its one
// function points at a main package in this directory.
func TestWorkflowFiles(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		function string
		want     map[string]any
	}{
		{
			name:     "panic",
			file:     "workflow-panic.yaml",
			function: "boom",
			want: map[string]any{
				"code":    "./panic",
				"inputs":  []any{"mode"},
				"outputs": map[string]any{"out": "$result"},
			},
		},
		{
			name:     "sleep",
			file:     "workflow-sleep.yaml",
			function: "nap",
			want: map[string]any{
				"code":    "./sleep",
				"timeout": "2s",
				"inputs":  []any{"seconds"},
				"outputs": map[string]any{"out": "$result"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			var m struct {
				Functions map[string]map[string]any `yaml:"functions"`
			}
			if err := yaml.Unmarshal(b, &m); err != nil {
				t.Fatalf("parse %s: %v", tt.file, err)
			}
			if got := len(m.Functions); got != 1 {
				t.Errorf("got %d functions, want 1", got)
			}
			got := m.Functions[tt.function]
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("function %s: got %v, want %v", tt.function, got, tt.want)
			}
			code, _ := got["code"].(string)
			if _, err := os.Stat(filepath.Join(code, "main.go")); err != nil {
				t.Errorf("code %q of %s is not a main package here: %v", code, tt.function, err)
			}
		})
	}
}
