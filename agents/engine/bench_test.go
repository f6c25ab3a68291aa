package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/agents/engine"
	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/benchmarks/chain"
	"github.com/faasflow/faasflow-go/experiments"
	"github.com/faasflow/faasflow-go/internal/testcluster"
	"github.com/faasflow/faasflow-go/workflow"
)

// hopRecorder collects the start and end of every run, per invocation.
type hopRecorder struct {
	mu   sync.Mutex
	runs map[string]map[string]*engine.RunRecord // request ID → function → record
}

func (h *hopRecorder) Record(r *engine.RunRecord) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.runs[r.RequestID] == nil {
		h.runs[r.RequestID] = map[string]*engine.RunRecord{}
	}
	h.runs[r.RequestID][r.Function] = r
}

// hops returns, for every invocation, the gaps between the end of fi and
// the start of f(i+1) as measured inside the instances.
func (h *hopRecorder) hops(n int) []float64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []float64
	for _, runs := range h.runs {
		for i := 0; i+1 < n; i++ {
			a, b := runs[fmt.Sprintf("f%d", i)], runs[fmt.Sprintf("f%d", i+1)]
			if a != nil && b != nil {
				out = append(out, b.St-a.Ed)
			}
		}
	}
	return out
}

// loadChain writes the n-function no-op chain to a temporary file and loads it.
func loadChain(tb testing.TB, n int) *workflow.Workflow {
	code, err := filepath.Abs("../../benchmarks/chain/noop")
	if err != nil {
		tb.Fatal(err)
	}
	path := filepath.Join(tb.TempDir(), "chain.yaml")
	if err := os.WriteFile(path, chain.Workflow(n, code), 0o644); err != nil {
		tb.Fatal(err)
	}
	wf, err := workflow.LoadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return wf
}

// BenchmarkChainHop runs a 10-function chain of no-op Go functions, all on
// one worker and alternating between two workers, and reports the hop
// latency (end of one function to start of the next, p50 and p99) next to
// an HTTP keep-alive round trip on loopback measured in the same process.
func BenchmarkChainHop(b *testing.B) {
	const n = 10
	base := loopbackRoundTrip(b, 2000)
	tests := []struct {
		name      string
		placement string
		table     func() map[string]string
	}{
		{name: "one-worker", placement: "single"},
		{name: "alternating", placement: "static", table: func() map[string]string {
			t := map[string]string{}
			for i := 0; i < n; i++ {
				t[fmt.Sprintf("f%d", i)] = fmt.Sprintf("worker-%d", i%2)
			}
			return t
		}},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			rec := &hopRecorder{runs: map[string]map[string]*engine.RunRecord{}}
			c := testcluster.Start(b, testcluster.Options{Workers: 2, Observer: rec})
			var table map[string]string
			if tt.table != nil {
				table = tt.table()
			}
			c.DeployWorkflow(b, &api.DeployRequest{Workflow: loadChain(b, n), Placement: tt.placement, Table: table})
			req := &api.InvokeRequest{Input: map[string]json.RawMessage{"x": json.RawMessage(`"payload"`)}}
			ctx := context.Background()
			for i := 0; i < 20; i++ { // warm every instance
				c.Client.Invoke(ctx, "chain10", req)
			}
			rec.mu.Lock()
			clear(rec.runs)
			rec.mu.Unlock()
			var e2e []float64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				inv, err := c.Client.Invoke(ctx, "chain10", req)
				if err != nil || inv.Status != api.StatusSucceeded {
					b.Fatalf("invoke: %v %v", err, inv)
				}
				e2e = append(e2e, inv.Latency)
			}
			b.StopTimer()
			time.Sleep(300 * time.Millisecond) // let the last records arrive
			hops := rec.hops(n)
			sort.Float64s(hops)
			sort.Float64s(e2e)
			p50, p99 := experiments.Percentile(hops, 0.50)*1e6, experiments.Percentile(hops, 0.99)*1e6
			b.ReportMetric(p50, "p50-hop-µs")
			b.ReportMetric(p99, "p99-hop-µs")
			b.ReportMetric(experiments.Percentile(e2e, 0.5)*1e3, "p50-e2e-ms")
			b.ReportMetric(p50/base, "p50-hop/http-rtt")
			b.Logf("%s: %d hops; hop p50 %.0f µs, p99 %.0f µs; e2e p50 %.2f ms; loopback HTTP round trip p50 %.0f µs",
				tt.name, len(hops), p50, p99, experiments.Percentile(e2e, 0.5)*1e3, base)
		})
	}
}

// loopbackRoundTrip measures the p50 of an HTTP keep-alive round trip on
// 127.0.0.1 in microseconds: the baseline the hop figures are compared with.
func loopbackRoundTrip(b *testing.B, n int) float64 {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
	})}
	go srv.Serve(ln)
	defer srv.Close()
	client := api.NewHTTPClient()
	url := "http://" + ln.Addr().String()
	var d []float64
	for i := 0; i < n; i++ {
		t0 := time.Now()
		resp, err := client.Post(url, "application/octet-stream", strings.NewReader("payload"))
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		d = append(d, float64(time.Since(t0).Microseconds()))
	}
	sort.Float64s(d)
	return experiments.Percentile(d, 0.5)
}
