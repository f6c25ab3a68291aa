package telemetry

import (
	"bufio"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape GETs the metrics from h and returns each sample's value by its
// series, as exposed: `name{label="value",...}` (labels sorted by name).
func scrape(t *testing.T, h http.Handler) map[string]float64 {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type = %q, want the text format", ct)
	}
	return parseExposition(t, rec.Body.String())
}

// parseExposition reads Prometheus's text format: comment lines are
// skipped, every other line is "series value".
func parseExposition(t *testing.T, text string) map[string]float64 {
	t.Helper()
	samples := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			t.Fatalf("exposition line %q has no value", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			t.Fatalf("exposition line %q: %v", line, err)
		}
		samples[line[:i]] = v
	}
	return samples
}

func wantSample(t *testing.T, samples map[string]float64, series string, want float64) {
	t.Helper()
	got, ok := samples[series]
	if !ok {
		t.Errorf("no sample %s in the exposition", series)
		return
	}
	if got != want {
		t.Errorf("%s = %v, want %v", series, got, want)
	}
}

func TestMetricsExposition(t *testing.T) {
	m := NewMetrics()
	for range 3 {
		m.ObserveInvocation("wf", "succeeded", 20*time.Millisecond)
	}
	m.ObserveInvocation("wf", "failed", 2*time.Second)
	m.ObserveInvocation("other", "succeeded", time.Millisecond)

	m.ObserveRun("wf", "f", 10*time.Millisecond, time.Millisecond, true)
	m.ObserveRun("wf", "f", 10*time.Millisecond, 0, true)
	m.ObserveRun("wf", "g", 3*time.Second, 0, false)

	m.ObserveHop(400 * time.Microsecond)
	m.ObserveHop(30 * time.Second)

	m.AddBytes("inline", 100)
	m.AddBytes("inline", 20)
	m.AddBytes("kafka", 1<<20)
	m.AddBytes("made-up", 7) // counted as "other"
	m.AddBytes("redis", 0)   // nothing

	m.SetPool("f", 3)
	m.SetPool("f", 2)
	m.SetPool("g", 1)

	s := scrape(t, m.Handler())
	tests := []struct {
		series string
		want   float64
	}{
		{`faasflow_invocations_total{status="succeeded",workflow="wf"}`, 3},
		{`faasflow_invocations_total{status="failed",workflow="wf"}`, 1},
		{`faasflow_invocations_total{status="succeeded",workflow="other"}`, 1},
		{`faasflow_invocation_seconds_count{workflow="wf"}`, 4},
		{`faasflow_invocation_seconds_bucket{workflow="wf",le="0.025"}`, 3},
		{`faasflow_invocation_seconds_bucket{workflow="wf",le="+Inf"}`, 4},
		{`faasflow_invocation_seconds_sum{workflow="wf"}`, 2.06},

		{`faasflow_function_seconds_count{function="f",workflow="wf"}`, 2},
		{`faasflow_function_seconds_bucket{function="f",workflow="wf",le="0.005"}`, 0},
		{`faasflow_function_seconds_bucket{function="f",workflow="wf",le="0.01"}`, 2},
		{`faasflow_function_seconds_count{function="g",workflow="wf"}`, 1},
		{`faasflow_queue_seconds_count`, 3},
		{`faasflow_queue_seconds_bucket{le="0.0001"}`, 2},
		{`faasflow_queue_seconds_bucket{le="0.001"}`, 3},
		{`faasflow_cold_starts_total{function="f"}`, 2},

		{`faasflow_hop_seconds_count`, 2},
		{`faasflow_hop_seconds_bucket{le="0.00025"}`, 0},
		{`faasflow_hop_seconds_bucket{le="0.0005"}`, 1},
		{`faasflow_hop_seconds_bucket{le="25"}`, 1},
		{`faasflow_hop_seconds_bucket{le="60"}`, 2},

		{`faasflow_bytes_total{tier="inline"}`, 120},
		{`faasflow_bytes_total{tier="kafka"}`, 1 << 20},
		{`faasflow_bytes_total{tier="other"}`, 7},
		{`faasflow_bytes_total{tier="redis"}`, 0},
		{`faasflow_bytes_total{tier="memory"}`, 0},
		{`faasflow_bytes_total{tier="couchdb"}`, 0},
		{`faasflow_bytes_total{tier="direct"}`, 0},

		{`faasflow_pool_instances{function="f"}`, 2},
		{`faasflow_pool_instances{function="g"}`, 1},
	}
	for _, tt := range tests {
		wantSample(t, s, tt.series, tt.want)
	}
	if _, ok := s[`faasflow_cold_starts_total{function="g"}`]; ok {
		t.Error("g had no cold start but has a cold-start series")
	}
}

// TestMetricsNil: a nil *Metrics is a valid "no metrics".
func TestMetricsNil(t *testing.T) {
	var m *Metrics
	m.ObserveHop(time.Millisecond)
	m.ObserveRun("wf", "f", time.Millisecond, 0, true)
	m.AddBytes("inline", 1)
	m.SetPool("f", 1)
	m.ObserveInvocation("wf", "succeeded", time.Millisecond)
}

// TestMetricsOwnRegistry: two Metrics do not share series (nor collide in
// the global registry).
func TestMetricsOwnRegistry(t *testing.T) {
	a, b := NewMetrics(), NewMetrics()
	a.ObserveInvocation("wf", "succeeded", time.Millisecond)
	if _, ok := scrape(t, b.Handler())[`faasflow_invocations_total{status="succeeded",workflow="wf"}`]; ok {
		t.Fatal("an invocation observed on one Metrics shows on another")
	}
}

type fakeCounts struct{ written, dropped int64 }

func (f *fakeCounts) Written() int64 { return f.written }
func (f *fakeCounts) Dropped() int64 { return f.dropped }

func TestRegisterSink(t *testing.T) {
	m := NewMetrics()
	if err := m.RegisterSink("couchdb_results", &fakeCounts{written: 5, dropped: 2}); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterSink("jsonl", &fakeCounts{written: 9}); err != nil {
		t.Fatal(err)
	}
	if err := m.RegisterSink("jsonl", &fakeCounts{}); err == nil {
		t.Error("registering a sink name twice did not fail")
	}
	s := scrape(t, m.Handler())
	wantSample(t, s, `faasflow_sink_written_total{sink="couchdb_results"}`, 5)
	wantSample(t, s, `faasflow_sink_dropped_total{sink="couchdb_results"}`, 2)
	wantSample(t, s, `faasflow_sink_written_total{sink="jsonl"}`, 9)
	wantSample(t, s, `faasflow_sink_dropped_total{sink="jsonl"}`, 0)
}
