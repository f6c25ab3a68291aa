// Package experiments runs the papers' experiments against deployed
// workflows and writes their results: raw per-request records in
// FaaSFlow's schema, a summary, plots, and a comparison with expected
// results.
package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/faasflow/faasflow-go/api"
)

// StatusTimeout marks a request that got no answer within the request
// timeout, or that the gateway ended for running past the workflow's
// timeout. Such requests are counted apart from failed ones.
const StatusTimeout = "timeout"

// Invoker invokes a deployed workflow and waits for its end; *api.Client
// is one.
type Invoker interface {
	Invoke(ctx context.Context, name string, req *api.InvokeRequest) (*api.Invocation, error)
}

// LatencyConfig is an open-loop run: requests fired at a fixed rate
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
	// RampUp slows the first three windows of RampWindow to 4×, 3× and 2×
	// the nominal gap between requests, as the original did with 20-second
	// windows.
	RampUp bool
	// RampWindow is the length of a ramp-up window (0: 20 s).
	RampWindow time.Duration
	// RequestTimeout bounds one request (0: no bound).
	RequestTimeout time.Duration
}

// Request is one request's record, in the original's raw schema plus status.
type Request struct {
	RequestID string     `json:"-"`
	Workflow  string     `json:"workflow,omitempty"`
	Logs      []LogEntry `json:"logs"`
	FireTime  float64    `json:"fire_time"`
	Latency   float64    `json:"latency"`
	Status    string     `json:"status"`
	Error     string     `json:"error,omitempty"`
	Warmup    bool       `json:"warmup,omitempty"`
	// Client is the closed-loop client that sent the request (from 1).
	Client int `json:"client,omitempty"`
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
	if c.RPM <= 0 {
		return nil
	}
	gap := time.Duration(float64(time.Minute) / c.RPM)
	window := c.RampWindow
	if window <= 0 {
		window = 20 * time.Second
	}
	var out []time.Duration
	for t := time.Duration(0); t < c.Duration; {
		out = append(out, t)
		slow := 1
		if c.RampUp && t < 3*window {
			slow = 4 - int(t/window) // 4×, 3×, 2× in the first three windows
		}
		t += gap * time.Duration(slow)
	}
	return out
}

// RunLatency fires the requests of cfg at their times, measured from the
// call, and waits for every answer. Each request counts on prog (which may
// be shared by runs going on at once). When ctx ends, firing stops and the
// requests fired so far are returned with ctx's error.
func RunLatency(ctx context.Context, inv Invoker, cfg LatencyConfig, prog *Progress) ([]*Request, error) {
	if cfg.RPM <= 0 || cfg.Duration <= 0 {
		return nil, fmt.Errorf("open-loop run needs a positive rate and duration (got %g rpm, %s)", cfg.RPM, cfg.Duration)
	}
	times := cfg.FireTimes()
	reqs := make([]*Request, 0, len(times))
	start := time.Now()
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	var wg sync.WaitGroup
	var err error
fire:
	for _, at := range times {
		if wait := time.Until(start.Add(at)); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				err = ctx.Err()
				break fire
			case <-timer.C:
			}
		} else if ctx.Err() != nil {
			err = ctx.Err()
			break
		}
		r := &Request{Workflow: cfg.Workflow, FireTime: unixSeconds(time.Now()), Warmup: at < cfg.Warmup}
		reqs = append(reqs, r)
		prog.sent.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			invokeOne(ctx, inv, cfg.Workflow, cfg.Input, cfg.RequestTimeout, r, prog)
		}()
	}
	wg.Wait()
	return reqs, err
}

// ThroughputConfig is a closed-loop run: Clients clients, started
// ClientGap apart, each invoking back to back until Duration has passed.
type ThroughputConfig struct {
	Workflow       string
	Input          map[string]json.RawMessage
	Clients        int
	ClientGap      time.Duration
	Duration       time.Duration
	Warmup         time.Duration
	RequestTimeout time.Duration
}

// RunThroughput runs the closed loop of cfg and returns every request, in
// the order they were fired.
func RunThroughput(ctx context.Context, inv Invoker, cfg ThroughputConfig, prog *Progress) ([]*Request, error) {
	if cfg.Clients <= 0 || cfg.Duration <= 0 {
		return nil, fmt.Errorf("closed-loop run needs clients and a positive duration (got %d, %s)", cfg.Clients, cfg.Duration)
	}
	start := time.Now()
	end := start.Add(cfg.Duration)
	var mu sync.Mutex
	var reqs []*Request
	var wg sync.WaitGroup
	for c := 1; c <= cfg.Clients; c++ {
		begin := start.Add(time.Duration(c-1) * cfg.ClientGap)
		if !begin.Before(end) {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !sleepUntil(ctx, begin) {
				return
			}
			for now := time.Now(); now.Before(end) && ctx.Err() == nil; now = time.Now() {
				r := &Request{Workflow: cfg.Workflow, FireTime: unixSeconds(now), Warmup: now.Sub(start) < cfg.Warmup, Client: c}
				mu.Lock()
				reqs = append(reqs, r)
				mu.Unlock()
				prog.sent.Add(1)
				invokeOne(ctx, inv, cfg.Workflow, cfg.Input, cfg.RequestTimeout, r, prog)
			}
		}()
	}
	wg.Wait()
	sortByFireTime(reqs)
	return reqs, ctx.Err()
}

// sleepUntil waits until t and reports whether ctx is still alive.
func sleepUntil(ctx context.Context, t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// invokeOne sends one request and fills in r's outcome.
func invokeOne(ctx context.Context, inv Invoker, workflow string, input map[string]json.RawMessage, timeout time.Duration, r *Request, prog *Progress) {
	cctx := ctx
	if timeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	begin := time.Now()
	res, err := inv.Invoke(cctx, workflow, &api.InvokeRequest{Input: input})
	elapsed := time.Since(begin).Seconds()
	switch {
	case err != nil && ctx.Err() == nil && errors.Is(cctx.Err(), context.DeadlineExceeded):
		r.Status, r.Error, r.Latency = StatusTimeout, fmt.Sprintf("no answer within %s", timeout), elapsed
	case err != nil:
		r.Status, r.Error, r.Latency = api.StatusFailed, err.Error(), elapsed
	default:
		r.RequestID, r.Latency, r.Status, r.Error = res.RequestID, res.Latency, res.Status, res.Error
		if r.Latency == 0 {
			r.Latency = elapsed
		}
		if r.Status == api.StatusFailed && strings.Contains(res.Error, "timed out") {
			r.Status = StatusTimeout
		}
	}
	prog.done.Add(1)
	switch r.Status {
	case api.StatusSucceeded:
	case StatusTimeout:
		prog.timeouts.Add(1)
	default:
		prog.errors.Add(1)
	}
}

// LogFetcher returns the run records of an invocation; *api.Client is one.
type LogFetcher interface {
	Logs(ctx context.Context, id string) ([]json.RawMessage, error)
}

// FetchLogs fills in the function runs of every answered request. Workers
// write records within a flush interval, so a succeeded request whose
// records are not there yet is asked again for up to two seconds; once one
// request has none after that, the cluster is taken to keep none and the
// others are asked once.
func FetchLogs(ctx context.Context, c LogFetcher, reqs []*Request) error {
	tries := 20
	for _, r := range reqs {
		if r.RequestID == "" {
			continue
		}
		var raws []json.RawMessage
		var err error
		for try := 1; ; try++ {
			raws, err = c.Logs(ctx, r.RequestID)
			if err != nil || len(raws) > 0 || r.Status != api.StatusSucceeded {
				break
			}
			if try >= tries {
				tries = 1
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if err != nil {
			return fmt.Errorf("fetch run records of %s: %w", r.RequestID, err)
		}
		r.Logs = r.Logs[:0]
		for _, raw := range raws {
			var rec struct {
				Function string  `json:"function"`
				Time     float64 `json:"time"`
				St       float64 `json:"st"`
				Ed       float64 `json:"ed"`
				CPU      float64 `json:"cpu"`
			}
			if err := json.Unmarshal(raw, &rec); err != nil {
				return fmt.Errorf("run record of %s: %w", r.RequestID, err)
			}
			r.Logs = append(r.Logs, LogEntry{Time: rec.Time, FunctionName: rec.Function, St: rec.St, Ed: rec.Ed, CPU: rec.CPU})
		}
	}
	return nil
}

func unixSeconds(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
