// Package experiments runs the papers' experiments against a deployed
// workflow and writes their results: raw per-request records in FaaSFlow's
// schema and a summary.
package experiments

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"sync"
	"time"

	"github.com/faasflow/faasflow-go/api"
)

// LatencyConfig is an open-loop latency run: requests fired at a fixed rate
// whatever the answers, as in the original artifact.
type LatencyConfig struct {
	// Workflow is the deployed workflow to invoke.
	Workflow string
	// Input is given to every invocation.
	Input map[string]json.RawMessage
	// RPM is the request rate, per minute.
	RPM float64
	// Duration is how long requests are fired.
	Duration time.Duration
	// Warmup excludes requests fired in the first Warmup from the summary.
	Warmup time.Duration
	// RampUp slows the first three 20-second windows to 4×, 3× and 2× the
	// nominal gap between requests, as the original did.
	RampUp bool
}

// Request is one request's record, in the original's raw schema plus status.
type Request struct {
	RequestID string     `json:"-"`
	Logs      []LogEntry `json:"logs"`
	FireTime  float64    `json:"fire_time"`
	Latency   float64    `json:"latency"`
	Status    string     `json:"status"`
	Error     string     `json:"error,omitempty"`
	Warmup    bool       `json:"warmup,omitempty"`
}

// LogEntry is one function run of a request.
type LogEntry struct {
	Time         float64 `json:"time"`
	FunctionName string  `json:"function_name"`
	St           float64 `json:"st"`
	Ed           float64 `json:"ed"`
	CPU          float64 `json:"cpu"`
}

// FireTimes returns the offsets from the start at which requests are fired.
func (c LatencyConfig) FireTimes() []time.Duration {
	gap := time.Duration(float64(time.Minute) / c.RPM)
	var out []time.Duration
	for t := time.Duration(0); t < c.Duration; {
		out = append(out, t)
		slow := 1
		if c.RampUp && t < 60*time.Second {
			slow = 4 - int(t/(20*time.Second)) // 4×, 3×, 2× in the first three windows
		}
		t += gap * time.Duration(slow)
	}
	return out
}

// RunLatency fires the requests, waits for them all, and fetches each
// one's function runs. It reports progress lines to progress.
func RunLatency(ctx context.Context, client *api.Client, cfg LatencyConfig, progress io.Writer) ([]*Request, error) {
	if cfg.RPM <= 0 || cfg.Duration <= 0 {
		return nil, fmt.Errorf("latency experiment needs a positive rate and duration (got %g rpm, %s)", cfg.RPM, cfg.Duration)
	}
	times := cfg.FireTimes()
	reqs := make([]*Request, len(times))
	start := time.Now()
	var wg sync.WaitGroup
	var mu sync.Mutex
	sent, done, failed := 0, 0, 0
	report := func() {
		fmt.Fprintf(progress, "  %5.0fs elapsed: %d of %d sent, %d done, %d errors\n", time.Since(start).Seconds(), sent, len(times), done, failed)
	}
	tick := time.NewTicker(10 * time.Second)
	defer tick.Stop()
	for i, at := range times {
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(time.Until(start.Add(at))):
		}
		r := &Request{FireTime: float64(time.Now().UnixNano()) / 1e9, Warmup: at < cfg.Warmup}
		reqs[i] = r
		mu.Lock()
		sent++
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			inv, err := client.Invoke(ctx, cfg.Workflow, &api.InvokeRequest{Input: cfg.Input})
			mu.Lock()
			defer mu.Unlock()
			done++
			if err != nil {
				r.Status, r.Error = api.StatusFailed, err.Error()
				failed++
				return
			}
			r.RequestID, r.Latency, r.Status, r.Error = inv.RequestID, inv.Latency, inv.Status, inv.Error
			if inv.Status != api.StatusSucceeded {
				failed++
			}
		}()
		select {
		case <-tick.C:
			mu.Lock()
			report()
			mu.Unlock()
		default:
		}
	}
	wg.Wait()
	report()
	for _, r := range reqs {
		if r.RequestID == "" {
			continue
		}
		raws, err := client.Logs(ctx, r.RequestID)
		if err != nil {
			return nil, fmt.Errorf("fetch run records of %s: %w", r.RequestID, err)
		}
		for _, raw := range raws {
			var e LogEntry
			var rec struct {
				Function string `json:"function"`
			}
			json.Unmarshal(raw, &e)
			json.Unmarshal(raw, &rec)
			e.FunctionName = rec.Function
			r.Logs = append(r.Logs, e)
		}
	}
	return reqs, nil
}

// Summary describes the latencies of the measured (non-warm-up) requests, in seconds.
type Summary struct {
	Count, Errors                     int
	Avg, P50, P90, P95, P99, Min, Max float64
}

// Summarize computes the summary of reqs, leaving out warm-up requests.
func Summarize(reqs []*Request) Summary {
	var s Summary
	var lat []float64
	for _, r := range reqs {
		if r.Warmup {
			continue
		}
		if r.Status != api.StatusSucceeded {
			s.Errors++
			continue
		}
		lat = append(lat, r.Latency)
	}
	s.Count = len(lat)
	if len(lat) == 0 {
		return s
	}
	sort.Float64s(lat)
	sum := 0.0
	for _, l := range lat {
		sum += l
	}
	s.Avg = sum / float64(len(lat))
	s.P50, s.P90, s.P95, s.P99 = Percentile(lat, 0.50), Percentile(lat, 0.90), Percentile(lat, 0.95), Percentile(lat, 0.99)
	s.Min, s.Max = lat[0], lat[len(lat)-1]
	return s
}
