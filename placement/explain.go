package placement

import (
	"fmt"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/faasflow/faasflow-go/workflow"
)

// Explanation describes a placement: which functions share a worker and
// what data crosses between workers in one invocation.
type Explanation struct {
	// Groups lists each worker's functions, by worker ID.
	Groups []WorkerGroup `json:"groups"`
	// CrossEdges are the edges between workers, heaviest first, then by
	// producer and consumer name.
	CrossEdges []Edge `json:"cross_edges"`
	// CrossBytes is the sum of CrossEdges' bytes; LocalBytes that of the
	// edges within a worker.
	CrossBytes int64 `json:"cross_bytes"`
	LocalBytes int64 `json:"local_bytes"`
	// Warnings note what makes the placement questionable: a function
	// without a worker, or a worker given more than it has room for.
	Warnings []string `json:"warnings,omitempty"`
}

// WorkerGroup is the functions placed on one worker, by name.
type WorkerGroup struct {
	Worker    string   `json:"worker"`
	Functions []string `json:"functions"`
}

// Explain describes the placement table (function → worker) of wf, as any
// strategy returns it. Edge bytes are counted as Group weighs them. An
// edge with an unplaced end counts neither as cross nor as local.
func Explain(wf *workflow.Workflow, table map[string]string) Explanation {
	var e Explanation
	byWorker := map[string][]string{}
	for _, name := range wf.Order {
		w, ok := table[name]
		if !ok {
			e.Warnings = append(e.Warnings, fmt.Sprintf("function %s has no worker", name))
			continue
		}
		byWorker[w] = append(byWorker[w], name)
	}
	for w, fs := range byWorker {
		sort.Strings(fs)
		e.Groups = append(e.Groups, WorkerGroup{Worker: w, Functions: fs})
	}
	sort.Slice(e.Groups, func(i, j int) bool { return e.Groups[i].Worker < e.Groups[j].Worker })

	var strangers []string
	for name := range table {
		if wf.Function(name) == nil {
			strangers = append(strangers, name)
		}
	}
	sort.Strings(strangers)
	for _, name := range strangers {
		e.Warnings = append(e.Warnings, fmt.Sprintf("the placement names %q, which is not a function of %s", name, wf.Name))
	}

	for _, ed := range edges(wf) {
		from, okFrom := table[ed.From]
		to, okTo := table[ed.To]
		switch {
		case !okFrom || !okTo:
		case from == to:
			e.LocalBytes += ed.Bytes
		default:
			e.CrossBytes += ed.Bytes
			e.CrossEdges = append(e.CrossEdges, ed)
		}
	}
	sort.Slice(e.CrossEdges, func(i, j int) bool {
		a, b := e.CrossEdges[i], e.CrossEdges[j]
		if a.Bytes != b.Bytes {
			return a.Bytes > b.Bytes
		}
		if a.From != b.From {
			return a.From < b.From
		}
		return a.To < b.To
	})
	return e
}

// String writes the explanation as short tables: the functions on each
// worker, the edges between workers with their bytes, then the totals and
// any warnings.
func (e Explanation) String() string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKER\tFUNCTIONS")
	for _, g := range e.Groups {
		fmt.Fprintf(tw, "%s\t%s\n", g.Worker, strings.Join(g.Functions, ", "))
	}
	tw.Flush()
	b.WriteString("\n")
	if len(e.CrossEdges) == 0 {
		b.WriteString("no edges between workers\n")
	} else {
		tw = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "FROM\tTO\tBYTES")
		for _, ed := range e.CrossEdges {
			fmt.Fprintf(tw, "%s\t%s\t%d\n", ed.From, ed.To, ed.Bytes)
		}
		tw.Flush()
	}
	fmt.Fprintf(&b, "\ncross-worker bytes %d, local bytes %d\n", e.CrossBytes, e.LocalBytes)
	for _, w := range e.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	return b.String()
}
