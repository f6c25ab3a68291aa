package workflow

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBind(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		bindings string
		wantErr  string
		check    func(t *testing.T, w *Workflow)
	}{
		{
			name:     "short and long forms",
			bindings: "wordcount__start: ./start\nwordcount__count: {runtime: python, code: ./count_py, timeout: 5m}\n",
			check: func(t *testing.T, w *Workflow) {
				start, count := w.Function("wordcount__start"), w.Function("wordcount__count")
				if start.Runtime != "go" || start.Code != filepath.Join(dir, "start") {
					t.Errorf("start bound to %s %s", start.Runtime, start.Code)
				}
				if count.Runtime != "python" || count.Code != filepath.Join(dir, "count_py") {
					t.Errorf("count bound to %s %s", count.Runtime, count.Code)
				}
				if count.EffectiveTimeout() != 5*time.Minute || start.EffectiveTimeout() != DefaultFunctionTimeout {
					t.Errorf("timeouts: count %v, start %v", count.EffectiveTimeout(), start.EffectiveTimeout())
				}
				if merge := w.Function("wordcount__merge"); merge.Code != "" {
					t.Errorf("unbound merge got code %q", merge.Code)
				}
			},
		},
		{name: "unknown function", bindings: "wordcount__strat: ./start\n", wantErr: "does not have: wordcount__strat"},
		{name: "no code", bindings: "wordcount__start: {runtime: go}\n", wantErr: "wordcount__start: no code given"},
		{name: "bad timeout", bindings: "wordcount__start: {code: ./x, timeout: soon}\n", wantErr: `timeout "soon" is not a positive duration`},
		{name: "unknown runtime", bindings: "wordcount__start: {runtime: cobol, code: ./x}\n", wantErr: `unknown runtime "cobol"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w, err := LoadFile("testdata/dataflower/wordcount.workflow_info.yaml")
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, "bind.yaml")
			os.WriteFile(path, []byte(tt.bindings), 0o644)
			b, err := LoadBindings(path)
			if err == nil {
				err = w.Bind(b)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, w)
		})
	}
}
