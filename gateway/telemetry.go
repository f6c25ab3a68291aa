package gateway

import (
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/telemetry"
)

// InvocationSink receives one telemetry.Invocation record per ended
// invocation. Add is called on the path that answers the caller, so it must
// not block (telemetry's sinks queue or buffer).
type InvocationSink interface {
	Add(doc any)
}

var (
	_ InvocationSink = (*telemetry.CouchDBSink)(nil)
	_ InvocationSink = (*telemetry.JSONLSink)(nil)
)

// recordEnd writes the record of an ended invocation to the configured sink
// and to the data directory's invocations.jsonl, and observes its metrics.
func (g *Gateway) recordEnd(mode string, info *api.Invocation, start, end time.Time) {
	g.metrics.ObserveInvocation(info.Workflow, info.Status, end.Sub(start))
	rec := telemetry.NewInvocation(info.RequestID, info.Workflow, mode, info.Status, info.Error, start, end)
	if g.cfg.Sink != nil {
		g.cfg.Sink.Add(rec)
	}
	g.records.Add(rec)
}
