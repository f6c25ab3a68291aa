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
	Grouping   = "grouping"
)

// Strategies lists the strategies Place knows.
var Strategies = []string{Grouping, RoundRobin, Static, Single}

// Worker is a worker a function can be placed on, with its capacity.
type Worker struct {
	ID string `json:"id"`
	// Slots is how many function instances the worker runs at once
	// (0 = unlimited). Grouping keeps a group within the largest worker's
	// slots and fills workers up to theirs; with neither slots nor memory
	// limited, it keeps to an even share of the functions (see Group).
	Slots int `json:"slots,omitempty"`
	// MemoryMB is the worker's memory in MiB for functions (0 = unlimited).
	MemoryMB int `json:"memory_mb,omitempty"`
}

// Place returns a function → worker table for wf over workers (in the
// order given) with the named strategy; "" means round-robin. table is
// the static placement (function → worker); for "single" its "*" entry
// names the one worker. "grouping" uses Group with default Options and
// the workers' capacities (zero means unlimited).
func Place(wf *workflow.Workflow, workers []Worker, strategy string, table map[string]string) (map[string]string, error) {
	if len(workers) == 0 {
		return nil, fmt.Errorf("no workers are registered: start some with `faasflow cluster up`")
	}
	known := map[string]bool{}
	for _, w := range workers {
		known[w.ID] = true
	}
	out := make(map[string]string, len(wf.Functions))
	switch strategy {
	case "", RoundRobin:
		// Topological order keeps producer and consumer on different
		// workers along chains, spreading the load evenly.
		for i, name := range wf.Order {
			out[name] = workers[i%len(workers)].ID
		}
	case Grouping:
		return Group(wf, workers, Options{})
	case Single:
		w := workers[0].ID
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

func unknownWorker(w string, workers []Worker) error {
	ids := make([]string, len(workers))
	for i, wk := range workers {
		ids[i] = wk.ID
	}
	sort.Strings(ids)
	return fmt.Errorf("no worker %q is registered (workers: %s)", w, strings.Join(ids, ", "))
}
