package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faasflow/faasflow-go/workflow"
)

// shape is a workflow's JSON without lines and source file.
func shape(t *testing.T, w *workflow.Workflow) string {
	t.Helper()
	w.Source = ""
	for _, in := range w.Inputs {
		in.Line = 0
	}
	for _, f := range w.Functions {
		f.Line = 0
		for _, in := range f.Inputs {
			in.Line = 0
		}
		for _, out := range f.Outputs {
			out.Line = 0
		}
		for _, b := range f.Switch {
			b.Line = 0
			for _, r := range b.Routes {
				r.Line = 0
			}
		}
	}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestConvert(t *testing.T) {
	tests := []struct {
		name string
		file string
	}{
		{name: "faasflow v1", file: "../../workflow/testdata/flatv1/video.flat_workflow.yaml"},
		{name: "dataflower", file: "../../workflow/testdata/dataflower/recognizer.workflow_info.yaml"},
		{name: "native with code", file: "../../workflow/testdata/wordcount"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := workflow.LoadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			var stdout bytes.Buffer
			if err := cmdConvert([]string{tt.file}, &stdout); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(stdout.String(), "# Converted from ") {
				t.Errorf("output does not start with a comment naming the source:\n%s", stdout.String())
			}
			got, err := workflow.ParseNative(stdout.Bytes(), "converted.yaml")
			if err != nil {
				t.Fatalf("the output does not load: %v\n%s", err, stdout.String())
			}
			if g, w := shape(t, got), shape(t, want); g != w {
				t.Errorf("converted workflow differs:\n%s\nwant\n%s", g, w)
			}

			out := filepath.Join(t.TempDir(), "sub", "converted.yaml")
			if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := cmdConvert([]string{tt.file, "-o", out}, &stdout); err != nil {
				t.Fatal(err)
			}
			got, err = workflow.LoadFile(out)
			if err != nil {
				t.Fatalf("the -o file does not load: %v", err)
			}
			if g, w := shape(t, got), shape(t, want); g != w {
				t.Errorf("converted file differs (code paths are written relative to it):\n%s\nwant\n%s", g, w)
			}
		})
	}
}

func TestConvertErrors(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		usage bool
		want  string
	}{
		{name: "no file", args: nil, usage: true, want: "convert needs one workflow file"},
		{name: "two files", args: []string{"a.yaml", "b.yaml"}, usage: true, want: "convert needs one workflow file"},
		{name: "unknown flag", args: []string{"-x", "a.yaml"}, usage: true, want: "-x"},
		{name: "missing file", args: []string{"missing.flat_workflow.yaml"}, want: "read workflow"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := cmdConvert(tt.args, new(bytes.Buffer))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want one containing %q", err, tt.want)
			}
			var ue usageError
			if got := errors.As(err, &ue); got != tt.usage {
				t.Errorf("usage error = %v, want %v", got, tt.usage)
			}
		})
	}
}

func TestConvertCodePaths(t *testing.T) {
	dir := t.TempDir()
	src := "name: paths\nfunctions:\n  inside:\n    code: ./fns/inside\n  outside:\n    code: /opt/outside\n"
	if err := os.WriteFile(filepath.Join(dir, "workflow.yaml"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "converted.yaml")
	if err := cmdConvert([]string{dir, "-o", out}, new(bytes.Buffer)); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"code: ./fns/inside\n", "code: /opt/outside\n"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("converted file lacks %q:\n%s", want, b)
		}
	}
}
