package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"

	"github.com/faasflow/faasflow-go/cluster"
)

func cmdLogs(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("logs", flag.ContinueOnError)
	process := fs.String("process", "", "show this local process's log (gateway, worker-0, ...)")
	lines := fs.Int("n", 20, "lines of each process log")
	gw := fs.String("gateway", "", "gateway URL")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) == 1 {
		return invocationLogs(ctx, *gw, pos[0])
	}
	if len(pos) > 1 {
		return usagef("logs takes at most one request ID")
	}
	s, err := cluster.LoadState(stateDir())
	if err != nil {
		return fmt.Errorf("no local cluster state in %s: %w", stateDir(), err)
	}
	found := false
	for _, p := range s.Processes {
		if *process != "" && p.Name != *process {
			continue
		}
		found = true
		fmt.Printf("==> %s (%s) <==\n%s\n", p.Name, p.Log, p.Tail(*lines))
	}
	if !found {
		return fmt.Errorf("no process %q in the local cluster", *process)
	}
	return nil
}

// invocationLogs prints one line per function run of an invocation, with
// times relative to its first start.
func invocationLogs(ctx context.Context, gw, id string) error {
	raws, err := newClient(gw).Logs(ctx, id)
	if err != nil {
		return err
	}
	if len(raws) == 0 {
		return fmt.Errorf("no run records for %s", id)
	}
	type rec struct {
		Function string  `json:"function"`
		Worker   string  `json:"worker"`
		Index    int     `json:"index"`
		St       float64 `json:"st"`
		Ed       float64 `json:"ed"`
		CPU      float64 `json:"cpu"`
		BytesIn  int64   `json:"bytes_in"`
		BytesOut int64   `json:"bytes_out"`
		Status   string  `json:"status"`
		Error    string  `json:"error"`
	}
	recs := make([]rec, len(raws))
	t0 := 0.0
	for i, raw := range raws {
		if err := json.Unmarshal(raw, &recs[i]); err != nil {
			return err
		}
		if recs[i].St > 0 && (t0 == 0 || recs[i].St < t0) {
			t0 = recs[i].St
		}
	}
	fmt.Printf("%-24s %-10s %5s %10s %10s %10s %10s  %s\n", "FUNCTION", "WORKER", "ITEM", "START(ms)", "TIME(ms)", "IN(B)", "OUT(B)", "STATUS")
	for _, r := range recs {
		item := "-"
		if r.Index >= 0 {
			item = fmt.Sprint(r.Index)
		}
		start, dur := 0.0, 0.0
		if r.St > 0 {
			start, dur = (r.St-t0)*1e3, (r.Ed-r.St)*1e3
		}
		status := r.Status
		if r.Error != "" {
			status += ": " + r.Error
		}
		fmt.Printf("%-24s %-10s %5s %10.2f %10.2f %10d %10d  %s\n", r.Function, r.Worker, item, start, dur, r.BytesIn, r.BytesOut, status)
	}
	return nil
}
