package worker

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/faasflow/faasflow-go/agents/engine"
)

// TestRecorderFind finds an invocation's records through the index, and by
// scanning the file for invocations recorded before the recorder opened.
func TestRecorderFind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.jsonl")
	old, err := NewRecorder(path)
	if err != nil {
		t.Fatal(err)
	}
	old.Record(&engine.RunRecord{RequestID: "before", Function: "a"})
	old.Close()

	r, err := NewRecorder(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for i := 0; i < 5; i++ {
		for _, id := range []string{"x", "y"} {
			r.Record(&engine.RunRecord{RequestID: id, Function: fmt.Sprint("f", i)})
		}
	}
	tests := []struct {
		id   string
		want []string
	}{
		{id: "x", want: []string{"f0", "f1", "f2", "f3", "f4"}},
		{id: "y", want: []string{"f0", "f1", "f2", "f3", "f4"}},
		{id: "before", want: []string{"a"}},
		{id: "never", want: nil},
	}
	for _, tt := range tests {
		recs, err := r.Find(tt.id)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, rec := range recs {
			if rec.RequestID != tt.id {
				t.Fatalf("Find(%s) returned a record of %s", tt.id, rec.RequestID)
			}
			got = append(got, rec.Function)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("Find(%s) = %v, want %v", tt.id, got, tt.want)
		}
	}
}

// BenchmarkRecorderFind looks up one invocation among 2,000 (20,000
// records): through the index, and by scanning the file as a recorder
// opened afterwards must (the baseline, same file, same process).
func BenchmarkRecorderFind(b *testing.B) {
	path := filepath.Join(b.TempDir(), "runs.jsonl")
	r, err := NewRecorder(path)
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	for i := 0; i < 20000; i++ {
		r.Record(&engine.RunRecord{RequestID: fmt.Sprint("req-", i/10), Function: fmt.Sprint("f", i%10), Workflow: "wordcount", Worker: "worker-0"})
	}
	fresh, err := NewRecorder(path) // knows none of them: scans
	if err != nil {
		b.Fatal(err)
	}
	defer fresh.Close()
	r.Find("req-0") // flush
	for _, bc := range []struct {
		name string
		r    *Recorder
	}{{"index", r}, {"scan", fresh}} {
		b.Run(bc.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				if recs, err := bc.r.Find("req-1000"); err != nil || len(recs) != 10 {
					b.Fatalf("found %d records (%v)", len(recs), err)
				}
			}
		})
	}
}
