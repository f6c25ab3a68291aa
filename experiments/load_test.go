package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/api"
)

// stubInvoker answers by the input "outcome": ok, fail (an answer with
// status failed), gone (a transport error), hang (no answer until the
// caller gives up) or late (the gateway's own timeout).
type stubInvoker struct {
	delay time.Duration
	mu    sync.Mutex
	calls []time.Time
}

func (s *stubInvoker) Invoke(ctx context.Context, name string, req *api.InvokeRequest) (*api.Invocation, error) {
	s.mu.Lock()
	s.calls = append(s.calls, time.Now())
	n := len(s.calls)
	s.mu.Unlock()
	outcome := strings.Trim(string(req.Input["outcome"]), `"`)
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	id := fmt.Sprintf("req-%d", n)
	switch outcome {
	case "fail":
		return &api.Invocation{RequestID: id, Status: api.StatusFailed, Error: "function count failed", Latency: 0.01}, nil
	case "gone":
		return nil, errors.New("connection refused")
	case "hang":
		<-ctx.Done()
		return nil, ctx.Err()
	case "late":
		return &api.Invocation{RequestID: id, Status: api.StatusFailed, Error: "invocation timed out after 1s (the workflow's timeout)", Latency: 1}, nil
	}
	return &api.Invocation{RequestID: id, Status: api.StatusSucceeded, Latency: 0.02}, nil
}

// TestRunLatencyOutcomes: failed and timed-out requests are counted apart,
// on the progress and in the summary, and neither is in the latencies.
func TestRunLatencyOutcomes(t *testing.T) {
	tests := []struct {
		outcome                string
		wantOK, wantErr, wantT int
	}{
		{outcome: "ok", wantOK: 8},
		{outcome: "fail", wantErr: 8},
		{outcome: "gone", wantErr: 8},
		{outcome: "hang", wantT: 8},
		{outcome: "late", wantT: 8},
	}
	for _, tt := range tests {
		t.Run(tt.outcome, func(t *testing.T) {
			inv := &stubInvoker{delay: 5 * time.Millisecond}
			cfg := LatencyConfig{Workflow: "wf", Input: map[string]json.RawMessage{"outcome": json.RawMessage(`"` + tt.outcome + `"`)},
				RPM: 6000, Duration: 100 * time.Millisecond, Warmup: 20 * time.Millisecond, RequestTimeout: 100 * time.Millisecond}
			prog := &Progress{}
			reqs, err := RunLatency(context.Background(), inv, cfg, prog)
			if err != nil {
				t.Fatal(err)
			}
			if len(reqs) != 10 || len(inv.calls) != 10 {
				t.Fatalf("%d requests recorded, %d sent; want 10 of each", len(reqs), len(inv.calls))
			}
			c := prog.Counts()
			wantBad := int64(10)
			if tt.outcome == "ok" {
				wantBad = 0
			}
			if c.Sent != 10 || c.Done != 10 || c.Errors+c.Timeouts != wantBad || (tt.wantT > 0) != (c.Timeouts > 0) {
				t.Fatalf("progress %+v after 10 %s requests", c, tt.outcome)
			}
			s := SummarizeRun(reqs, 80*time.Millisecond, Costs{})
			if s.Count != tt.wantOK || s.Errors != tt.wantErr || s.Timeouts != tt.wantT {
				t.Fatalf("summary count %d, errors %d, timeouts %d; want %d, %d, %d",
					s.Count, s.Errors, s.Timeouts, tt.wantOK, tt.wantErr, tt.wantT)
			}
			if tt.wantOK == 0 && (s.Avg != 0 || s.Max != 0 || len(Latencies(reqs)) != 0) {
				t.Fatalf("latencies of requests that did not succeed were counted: %+v", s)
			}
			if tt.wantOK > 0 && math.Abs(s.Throughput-100) > 1e-9 {
				t.Fatalf("throughput %g requests/s, want 8 in 80 ms = 100", s.Throughput)
			}
		})
	}
}

// TestRunLatencyStopsWithContext: cancelling stops firing and returns the
// requests fired so far with the context's error.
func TestRunLatencyStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	inv := &stubInvoker{}
	reqs, err := RunLatency(ctx, inv, LatencyConfig{Workflow: "wf", RPM: 600, Duration: time.Hour}, &Progress{})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
	if len(reqs) < 1 || len(reqs) > 3 {
		t.Fatalf("%d requests fired in 150 ms at 10/s, want 1–3", len(reqs))
	}
}

// TestRunThroughputClosedLoop: clients start ClientGap apart and each has
// one request in flight at a time.
func TestRunThroughputClosedLoop(t *testing.T) {
	inv := &stubInvoker{delay: 20 * time.Millisecond}
	cfg := ThroughputConfig{Workflow: "wf", Clients: 3, ClientGap: 100 * time.Millisecond, Duration: 400 * time.Millisecond, Warmup: 100 * time.Millisecond}
	prog := &Progress{}
	start := time.Now()
	reqs, err := RunThroughput(context.Background(), inv, cfg, prog)
	if err != nil {
		t.Fatal(err)
	}
	first := map[int]float64{}
	last := map[int]*Request{}
	for _, r := range reqs {
		if r.Client < 1 || r.Client > 3 {
			t.Fatalf("request from client %d", r.Client)
		}
		if _, ok := first[r.Client]; !ok {
			first[r.Client] = r.FireTime - unixSeconds(start)
		}
		// Back to back: a client fires only after its previous request ended.
		if p := last[r.Client]; p != nil && r.FireTime < p.FireTime+0.02-1e-3 {
			t.Fatalf("client %d fired at %.3f before its previous request (fired %.3f) could end", r.Client, r.FireTime, p.FireTime)
		}
		last[r.Client] = r
		if r.Warmup != (r.FireTime-unixSeconds(start) < 0.1) {
			t.Fatalf("request fired at %.3f s has warmup %v", r.FireTime-unixSeconds(start), r.Warmup)
		}
	}
	for c := 1; c <= 3; c++ {
		want := 0.1 * float64(c-1)
		if first[c] < want-0.005 || first[c] > want+0.05 {
			t.Fatalf("client %d started at %.3f s, want %.1f s", c, first[c], want)
		}
	}
	// Client 1 has 400 ms, client 2 300 ms, client 3 200 ms, at 20 ms a request.
	if n := len(reqs); n < 25 || n > 46 {
		t.Fatalf("%d requests in the closed loop, want about 45", n)
	}
	if c := prog.Counts(); c.Sent != int64(len(reqs)) || c.Done != c.Sent {
		t.Fatalf("progress %+v, %d requests", c, len(reqs))
	}
}

// TestGBs: memory × run time, from the declared memory or the default.
func TestGBs(t *testing.T) {
	reqs := []*Request{
		{Status: api.StatusSucceeded, Latency: 1, Logs: []LogEntry{
			{FunctionName: "big", St: 10, Ed: 12},   // 2 GB × 2 s
			{FunctionName: "small", St: 10, Ed: 11}, // default 0.5 GB × 1 s
		}},
		{Status: api.StatusFailed, Logs: []LogEntry{{FunctionName: "big", St: 0, Ed: 1}}}, // failed runs cost too
		{Status: api.StatusSucceeded, Warmup: true, Logs: []LogEntry{{FunctionName: "big", St: 0, Ed: 100}}},
	}
	s := SummarizeRun(reqs, time.Second, Costs{MemoryMB: map[string]int{"big": 2048}, DefaultMB: 512})
	if s.GBs != 4.5+2 || s.GBsPerRequest != 3.25 {
		t.Fatalf("GB-s %g (per request %g), want 6.5 (3.25)", s.GBs, s.GBsPerRequest)
	}
}

// TestProgressLines: plain lines for a pipe, a bar redrawn in place for a
// terminal; both show elapsed, sent, done and errors.
func TestProgressLines(t *testing.T) {
	c := Counts{Sent: 12, Done: 10, Errors: 2, Timeouts: 1}
	plain := plainLine(c, 30*time.Second, time.Minute, 60)
	if plain != "  30s of 1m0s: sent 12/60, done 10, errors 2, timeouts 1" {
		t.Fatalf("plain line %q", plain)
	}
	bar := barLine(c, 30*time.Second, time.Minute, 0)
	if !strings.Contains(bar, "[===========>            ]") || !strings.Contains(bar, "sent 12  done 10  errors 2  timeouts 1") {
		t.Fatalf("bar %q", bar)
	}

	var out syncBuffer
	p := &Progress{}
	p.sent.Add(3)
	stop := p.Show(&out, true, 5, time.Second, time.Hour)
	time.Sleep(600 * time.Millisecond)
	stop()
	got := out.String()
	if strings.Count(got, "\r") < 2 || !strings.HasSuffix(got, "\n") || !strings.Contains(got, "sent 3/5") {
		t.Fatalf("terminal progress %q: want the bar redrawn in place, ending with a newline", got)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// BenchmarkOpenLoopRate runs the open-loop generator for 60 s at 6000
// requests per minute against a stub gateway on 127.0.0.1 and reports the
// rate its requests arrived at, and that rate over the requested one.
//
//	go test -run '^$' -bench BenchmarkOpenLoopRate -benchtime 1x ./experiments/
func BenchmarkOpenLoopRate(b *testing.B) {
	const rpm, duration = 6000.0, 60 * time.Second
	for i := 0; i < b.N; i++ {
		var arrived atomic.Int64
		var mu sync.Mutex
		var firstAt, lastAt time.Time
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			now := time.Now()
			arrived.Add(1)
			mu.Lock()
			if firstAt.IsZero() {
				firstAt = now
			}
			lastAt = now
			mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"request_id": "r", "status": "succeeded", "latency": 0.001}`)
		}))
		cfg := LatencyConfig{Workflow: "stub", RPM: rpm, Duration: duration, RequestTimeout: 5 * time.Second}
		start := time.Now()
		reqs, err := RunLatency(context.Background(), api.NewClient(srv.URL), cfg, &Progress{})
		elapsed := time.Since(start)
		srv.Close()
		if err != nil {
			b.Fatal(err)
		}
		s := Summarize(reqs)
		if s.Errors+s.Timeouts > 0 {
			b.Fatalf("%d errors and %d timeouts against the stub", s.Errors, s.Timeouts)
		}
		// Arrivals over the span from the first to the last: n-1 gaps.
		n := arrived.Load()
		achieved := float64(n-1) / lastAt.Sub(firstAt).Seconds()
		requested := rpm / 60
		b.ReportMetric(achieved, "achieved-req/s")
		b.ReportMetric(requested, "requested-req/s")
		b.ReportMetric(achieved/requested, "achieved/requested")
		b.ReportMetric(float64(n)/elapsed.Seconds()/requested, "arrived-over-run/requested")
		if math.Abs(achieved/requested-1) > 0.02 {
			b.Errorf("achieved %.2f requests/s, requested %.2f: off by more than 2%%", achieved, requested)
		}
	}
}

// stubLogs returns records for a request from its nth call on (0: never).
type stubLogs struct {
	from  map[string]int
	calls map[string]int
}

func (s *stubLogs) Logs(ctx context.Context, id string) ([]json.RawMessage, error) {
	s.calls[id]++
	if n := s.from[id]; n > 0 && s.calls[id] >= n {
		return []json.RawMessage{json.RawMessage(`{"function": "count", "time": 1, "st": 2, "ed": 3, "cpu": 0.5, "worker": "w"}`)}, nil
	}
	return nil, nil
}

// TestFetchLogs: records late to arrive are waited for; a cluster that
// keeps none is asked once per request after the first gives up; failed
// and unanswered requests are not waited for.
func TestFetchLogs(t *testing.T) {
	ok := func(id string) *Request { return &Request{RequestID: id, Status: api.StatusSucceeded} }
	reqs := []*Request{ok("late"), ok("none-1"), ok("none-2"), {RequestID: "failed", Status: api.StatusFailed}, {Status: StatusTimeout}}
	s := &stubLogs{from: map[string]int{"late": 3}, calls: map[string]int{}}
	if err := FetchLogs(context.Background(), s, reqs); err != nil {
		t.Fatal(err)
	}
	if got := reqs[0].Logs; len(got) != 1 || got[0] != (LogEntry{Time: 1, FunctionName: "count", St: 2, Ed: 3, CPU: 0.5}) {
		t.Fatalf("logs of the late request: %+v", got)
	}
	want := map[string]int{"late": 3, "none-1": 20, "none-2": 1, "failed": 1}
	if !reflect.DeepEqual(s.calls, want) {
		t.Fatalf("calls %v, want %v", s.calls, want)
	}
}
