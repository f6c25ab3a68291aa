package telemetry

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func readJSONL(t *testing.T, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		out = append(out, m)
	}
	return out
}

func TestJSONLSink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "invocations.jsonl")
	sink, err := NewJSONLSink(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sink.Add(testRecord(i))
		}()
	}
	wg.Wait()
	failed := NewInvocation("req-x", "wf", "workersp", "failed", "function a failed: boom", time.Now(), time.Now())
	sink.Add(failed)
	sink.Add(func() {}) // cannot be encoded: dropped
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	sink.Add(testRecord(0)) // after Close: dropped
	if sink.Written() != 101 || sink.Dropped() != 2 {
		t.Fatalf("written %d, dropped %d; want 101, 2", sink.Written(), sink.Dropped())
	}
	lines := readJSONL(t, path)
	if len(lines) != 101 {
		t.Fatalf("file has %d lines, want 101", len(lines))
	}
	last := lines[100]
	for _, key := range []string{"request_id", "template_name", "workflow", "phase", "time", "st", "ed", "latency", "status", "error", "mode"} {
		if _, ok := last[key]; !ok {
			t.Errorf("record %v has no %q", last, key)
		}
	}
	if last["error"] != "function a failed: boom" || last["phase"] != "invocation" || last["template_name"] != "wf" {
		t.Errorf("record = %v", last)
	}
	if _, ok := lines[0]["error"]; ok {
		t.Errorf("a succeeded record has an error field: %v", lines[0])
	}

	// Reopening appends.
	again, err := NewJSONLSink(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	again.Add(testRecord(1))
	if err := again.Flush(); err != nil {
		t.Fatal(err)
	}
	if n := len(readJSONL(t, path)); n != 102 {
		t.Fatalf("after reopening and adding one, file has %d lines, want 102", n)
	}
	again.Close()
}

func TestJSONLSinkBadPath(t *testing.T) {
	_, err := NewJSONLSink(filepath.Join(t.TempDir(), "missing", "x.jsonl"), nil)
	if err == nil || !strings.Contains(err.Error(), "open JSONL sink") {
		t.Fatalf("err = %v", err)
	}
}
