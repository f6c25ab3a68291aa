package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/telemetry"
	"github.com/faasflow/faasflow-go/workflow"
)

// fakeSink is an InvocationSink keeping what it receives.
type fakeSink struct {
	mu   sync.Mutex
	docs []any
}

var _ InvocationSink = (*fakeSink)(nil)

func (s *fakeSink) Add(doc any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.docs = append(s.docs, doc)
}

// records returns the telemetry.Invocation records received, by request ID.
func (s *fakeSink) records(t *testing.T) map[string]telemetry.Invocation {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]telemetry.Invocation{}
	for _, d := range s.docs {
		rec, ok := d.(telemetry.Invocation)
		if !ok {
			t.Fatalf("sink received a %T, want a telemetry.Invocation", d)
		}
		if _, dup := out[rec.RequestID]; dup {
			t.Fatalf("sink received two records for %s", rec.RequestID)
		}
		out[rec.RequestID] = rec
	}
	return out
}

// scrapeMetrics GETs /metrics and returns the value of each series, keyed
// as exposed: `name{label="value",...}`.
func scrapeMetrics(t *testing.T, base string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s: %s", resp.Status, body)
	}
	samples := map[string]float64{}
	for _, line := range strings.Split(string(body), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("metrics line %q: %v", line, err)
		}
		samples[line[:i]] = v
	}
	return samples
}

// TestInvocationTelemetry: every invocation that ends — succeeded, failed
// or timed out — gives one record to the sink and one line in
// invocations.jsonl, and is counted in /metrics by workflow and status by
// the time its caller is answered.
func TestInvocationTelemetry(t *testing.T) {
	sink := &fakeSink{}
	g, srv, _ := newTestGatewayConfig(t, 1, Config{Sink: sink})
	client := api.NewClient(srv.URL)
	ctx := context.Background()
	if _, err := client.Deploy(ctx, &api.DeployRequest{Workflow: parseWF(t, twoStep), Mode: api.ModeDataflow}); err != nil {
		t.Fatal(err)
	}
	slow := parseWF(t, twoStep)
	slow.Name = "slow"
	slow.Timeout = workflow.Duration(200 * time.Millisecond)
	if _, err := client.Deploy(ctx, &api.DeployRequest{Workflow: slow}); err != nil {
		t.Fatal(err)
	}

	report := func(r api.Report, body string) {
		t.Helper()
		if err := api.PostRaw(ctx, http.DefaultClient, srv.URL+"/v1/internal/reports", api.HeaderReport, r, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	succeeded := []string{"ok-1", "ok-2", "ok-3"}
	for _, id := range succeeded {
		if _, err := client.Invoke(ctx, "two", &api.InvokeRequest{RequestID: id, Async: true}); err != nil {
			t.Fatal(err)
		}
		report(api.Report{Invocation: id, Kind: "result", From: "b", Key: "answer"}, `42`)
		report(api.Report{Invocation: id, Kind: "result", From: "b", Key: "extra"}, `"x"`)
		if got, err := client.Invocation(ctx, id, 5*time.Second); err != nil || got.Status != api.StatusSucceeded {
			t.Fatalf("invocation %s = %+v, %v; want succeeded", id, got, err)
		}
	}
	if _, err := client.Invoke(ctx, "two", &api.InvokeRequest{RequestID: "bad-1", Async: true}); err != nil {
		t.Fatal(err)
	}
	report(api.Report{Invocation: "bad-1", Kind: "fail", Function: "a", Error: "function a failed: boom"}, "")
	if got, err := client.Invocation(ctx, "bad-1", 5*time.Second); err != nil || got.Status != api.StatusFailed {
		t.Fatalf("invocation bad-1 = %+v, %v; want failed", got, err)
	}
	late, err := client.Invoke(ctx, "slow", &api.InvokeRequest{RequestID: "late-1"})
	if err != nil || late.Status != api.StatusFailed {
		t.Fatalf("invocation late-1 = %+v, %v; want failed by its timeout", late, err)
	}

	// The answers above came after the records: no waiting needed.
	m := scrapeMetrics(t, srv.URL)
	for series, want := range map[string]float64{
		`faasflow_invocations_total{status="succeeded",workflow="two"}`: 3,
		`faasflow_invocations_total{status="failed",workflow="two"}`:    1,
		`faasflow_invocations_total{status="failed",workflow="slow"}`:   1,
		`faasflow_invocation_seconds_count{workflow="two"}`:             4,
		`faasflow_invocation_seconds_count{workflow="slow"}`:            1,
		`faasflow_sink_written_total{sink="invocations_jsonl"}`:         5,
	} {
		if got, ok := m[series]; !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	if _, ok := m[`faasflow_invocations_total{status="succeeded",workflow="slow"}`]; ok {
		t.Error("slow has a succeeded series but none succeeded")
	}

	recs := sink.records(t)
	if len(recs) != 5 {
		t.Fatalf("sink received %d records, want 5: %v", len(recs), recs)
	}
	wantStatus := map[string]string{"ok-1": "succeeded", "ok-2": "succeeded", "ok-3": "succeeded", "bad-1": "failed", "late-1": "failed"}
	for id, status := range wantStatus {
		rec, ok := recs[id]
		if !ok {
			t.Errorf("no record for %s", id)
			continue
		}
		if rec.Status != status || rec.Phase != "invocation" || rec.Mode != api.ModeDataflow || rec.Ed < rec.St || rec.St == 0 {
			t.Errorf("record of %s = %+v, want status %s", id, rec, status)
		}
	}
	if r := recs["ok-1"]; r.TemplateName != "two" || r.Workflow != "two" || r.Error != "" {
		t.Errorf("record of ok-1 = %+v", r)
	}
	if r := recs["bad-1"]; r.Error != "function a failed: boom" {
		t.Errorf("record of bad-1 has error %q", r.Error)
	}
	if r := recs["late-1"]; !strings.Contains(r.Error, "timed out") || r.Latency < 0.2 || r.TemplateName != "slow" {
		t.Errorf("record of late-1 = %+v, want a timeout after 200ms", r)
	}

	// The same records in <data dir>/invocations.jsonl once the gateway
	// is closed.
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(filepath.Join(g.cfg.DataDir, "invocations.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lines := map[string]telemetry.Invocation{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var rec telemetry.Invocation
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("invocations.jsonl line %q: %v", sc.Text(), err)
		}
		lines[rec.RequestID] = rec
	}
	if len(lines) != 5 {
		t.Fatalf("invocations.jsonl has %d records, want 5", len(lines))
	}
	for id, status := range wantStatus {
		if lines[id].Status != status {
			t.Errorf("invocations.jsonl record of %s = %+v, want status %s", id, lines[id], status)
		}
	}
}
