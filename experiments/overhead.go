package experiments

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/workflow"
)

// CriticalPath returns the sum of function run times along the longest
// path of an invocation, from its run records (function → run times; a
// function that ran once per item counts its longest item, since items run
// side by side). Functions that did not run count zero.
func CriticalPath(wf *workflow.Workflow, runs map[string][]float64) float64 {
	finish := map[string]float64{}
	longest := 0.0
	for _, name := range wf.Order {
		f := wf.Function(name)
		start := 0.0
		for _, in := range f.Inputs {
			for _, src := range in.Sources {
				start = max(start, finish[src])
			}
		}
		d := 0.0
		for _, r := range runs[name] {
			d = max(d, r)
		}
		finish[name] = start + d
		longest = max(longest, finish[name])
	}
	return longest
}

// OverheadSample is one invocation's scheduling overhead.
type OverheadSample struct {
	RequestID    string  `json:"request_id"`
	Latency      float64 `json:"latency"`
	CriticalPath float64 `json:"critical_path"`
	Overhead     float64 `json:"overhead"`
}

// MeasureOverhead invokes a deployed workflow n times one after another
// and returns, per invocation, end-to-end latency minus the function time
// along the critical path.
func MeasureOverhead(ctx context.Context, client *api.Client, wf *workflow.Workflow, input map[string]json.RawMessage, n int, progress io.Writer) ([]OverheadSample, error) {
	var out []OverheadSample
	for i := 0; i < n; i++ {
		inv, err := client.Invoke(ctx, wf.Name, &api.InvokeRequest{Input: input})
		if err != nil {
			return nil, err
		}
		if inv.Status != api.StatusSucceeded {
			return nil, fmt.Errorf("invocation %s of %s failed: %s", inv.RequestID, wf.Name, inv.Error)
		}
		runs, err := runTimes(ctx, client, inv.RequestID)
		if err != nil {
			return nil, err
		}
		cp := CriticalPath(wf, runs)
		out = append(out, OverheadSample{RequestID: inv.RequestID, Latency: inv.Latency, CriticalPath: cp, Overhead: inv.Latency - cp})
	}
	return out, nil
}

// runTimes fetches an invocation's run records as function → durations.
func runTimes(ctx context.Context, client *api.Client, id string) (map[string][]float64, error) {
	// Records reach the workers' files within a flush interval.
	var raws []json.RawMessage
	var err error
	for try := 0; try < 20; try++ {
		if raws, err = client.Logs(ctx, id); err == nil && len(raws) > 0 {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return nil, fmt.Errorf("run records of %s: %w", id, err)
	}
	runs := map[string][]float64{}
	for _, raw := range raws {
		var r struct {
			Function string  `json:"function"`
			St       float64 `json:"st"`
			Ed       float64 `json:"ed"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, err
		}
		runs[r.Function] = append(runs[r.Function], r.Ed-r.St)
	}
	return runs, nil
}

// Median returns the median of xs (0 for none).
func Median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	return Percentile(s, 0.5)
}

// Percentile returns the p-quantile (0–1) of sorted values: the value at
// rank p·n, the convention of every figure this project reports (0 for none).
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))]
}
