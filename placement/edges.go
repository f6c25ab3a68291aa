package placement

import (
	"sort"

	"github.com/faasflow/faasflow-go/workflow"
)

// Edge is a producer → consumer pair of functions and the bytes the
// producer sends the consumer in one invocation.
type Edge struct {
	From  string `json:"from"`
	To    string `json:"to"`
	Bytes int64  `json:"bytes"`
}

// edges returns every function → function edge of wf, from unconditional
// outputs and from all switch routes, in producer order (wf.Order) then
// consumer name. Targets that are the workflow's result are not edges.
//
// An edge's bytes are the sum over the distinct outputs the producer sends
// the consumer of the output's Size, times the producer's item count for a
// foreach output, times the number of runs when the producer runs once per
// item of a foreach output. Signals and outputs of unknown size count 0
// bytes, but the edge is kept.
func edges(wf *workflow.Workflow) []Edge {
	var out []Edge
	for _, name := range wf.Order {
		f := wf.Function(name)
		if f == nil {
			continue
		}
		runs := int64(1)
		if f.IsMap() {
			runs = items(wf.Function(f.ForeachFrom))
		}
		// sent maps consumer → output (or signal label) → bytes, so an
		// output reaching one consumer by several routes counts once.
		sent := map[string]map[string]int64{}
		send := func(key string, bytes int64, to []workflow.Target) {
			for _, t := range to {
				if t.Function == workflow.ResultFunction || wf.Function(t.Function) == nil {
					continue
				}
				if sent[t.Function] == nil {
					sent[t.Function] = map[string]int64{}
				}
				sent[t.Function][key] = bytes
			}
		}
		for _, o := range f.Outputs {
			send(o.Name, outputBytes(f, o)*runs, o.To)
		}
		for _, b := range f.Switch {
			for _, r := range b.Routes {
				if r.Signal {
					send("signal "+r.Output, 0, r.To)
					continue
				}
				var bytes int64
				if o := f.Output(r.Output); o != nil {
					bytes = outputBytes(f, o) * runs
				}
				send(r.Output, bytes, r.To)
			}
		}
		consumers := make([]string, 0, len(sent))
		for c := range sent {
			consumers = append(consumers, c)
		}
		sort.Strings(consumers)
		for _, c := range consumers {
			var total int64
			for _, b := range sent[c] {
				total += b
			}
			out = append(out, Edge{From: f.Name, To: c, Bytes: total})
		}
	}
	return out
}

// outputBytes is what one run of f sends on o.
func outputBytes(f *workflow.Function, o *workflow.Output) int64 {
	if o.Foreach {
		return o.Size * items(f)
	}
	return o.Size
}

// items is the number of items each foreach output of f posts (at least 1).
func items(f *workflow.Function) int64 {
	if f == nil || f.Synthetic == nil || f.Synthetic.Items < 1 {
		return 1
	}
	return int64(f.Synthetic.Items)
}
