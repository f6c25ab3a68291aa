package worker

import (
	"net/http"
	"time"

	"github.com/faasflow/faasflow-go/agents/engine"
	"github.com/faasflow/faasflow-go/telemetry"
)

// recorders hands each run record to several recorders.
type recorders []engine.Recorder

func (rs recorders) Record(r *engine.RunRecord) {
	for _, rec := range rs {
		rec.Record(r)
	}
}

// metricsRecorder turns run records into Prometheus metrics.
type metricsRecorder struct{ m *telemetry.Metrics }

func (mr metricsRecorder) Record(r *engine.RunRecord) {
	seconds := func(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
	mr.m.ObserveRun(r.Workflow, r.Function, seconds(r.Ed-r.St), seconds(r.Queued), r.ColdStart)
	if r.Hop > 0 {
		mr.m.ObserveHop(seconds(r.Hop))
	}
	for tier, n := range r.Tiers {
		mr.m.AddBytes(tier, n)
	}
}

// sinkRecorder adds each run record to a telemetry sink.
type sinkRecorder struct{ sink interface{ Add(any) } }

func (s sinkRecorder) Record(r *engine.RunRecord) { s.sink.Add(r) }

// metricsHandler serves the worker's metrics, with the pool's sizes read at
// scrape time.
func (w *Worker) metricsHandler() http.Handler {
	h := w.metrics.Handler()
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		for key, n := range w.pool.Stats() {
			w.metrics.SetPool(key, n[0])
		}
		h.ServeHTTP(rw, r)
	})
}
