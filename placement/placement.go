// Package placement assigns each function of a workflow to a worker.
package placement

import (
	"fmt"
	"sort"
	"strings"

	"github.com/faasflow/faasflow-go/workflow"
)

// Strategy names.
const (
	RoundRobin = "round-robin"
	Static     = "static"
	Single     = "single"
)

// Strategies lists the strategies Place knows.
var Strategies = []string{RoundRobin, Static, Single}

// Place returns a function → worker table for wf over workers (in the
// order given) with the named strategy. table is the static placement
// (function → worker); for "single" its "*" entry names the one worker.
func Place(wf *workflow.Workflow, workers []string, strategy string, table map[string]string) (map[string]string, error) {
	if len(workers) == 0 {
		return nil, fmt.Errorf("no workers are registered: start some with `faasflow cluster up`")
	}
	known := map[string]bool{}
	for _, w := range workers {
		known[w] = true
	}
	out := make(map[string]string, len(wf.Functions))
	switch strategy {
	case "", RoundRobin:
		// Topological order keeps producer and consumer on different
		// workers along chains, spreading the load evenly.
		for i, name := range wf.Order {
			out[name] = workers[i%len(workers)]
		}
	case Single:
		w := workers[0]
		if t := table["*"]; t != "" {
			if !known[t] {
				return nil, unknownWorker(t, workers)
			}
			w = t
		}
		for _, f := range wf.Functions {
			out[f.Name] = w
		}
	case Static:
		var missing []string
		for _, f := range wf.Functions {
			w, ok := table[f.Name]
			if !ok {
				missing = append(missing, f.Name)
				continue
			}
			if !known[w] {
				return nil, fmt.Errorf("function %s: %w", f.Name, unknownWorker(w, workers))
			}
			out[f.Name] = w
		}
		if len(missing) > 0 {
			return nil, fmt.Errorf("static placement has no worker for %s: add them to the table", strings.Join(missing, ", "))
		}
		for name := range table {
			if wf.Function(name) == nil {
				return nil, fmt.Errorf("static placement names %q, which is not a function of %s", name, wf.Name)
			}
		}
	default:
		return nil, fmt.Errorf("unknown placement %q: use one of %s", strategy, strings.Join(Strategies, ", "))
	}
	return out, nil
}

func unknownWorker(w string, workers []string) error {
	ws := append([]string(nil), workers...)
	sort.Strings(ws)
	return fmt.Errorf("no worker %q is registered (workers: %s)", w, strings.Join(ws, ", "))
}
