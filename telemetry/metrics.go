// Package telemetry records what FaaSFlow does: Prometheus metrics served on
// /metrics by the gateway and the workers, and per-invocation and per-run
// records written to sinks (JSONL files and CouchDB databases, with
// FaaSFlow's field names).
package telemetry

import (
	"fmt"
	"net/http"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Tiers are the data-plane tiers a value can travel by; AddBytes counts any
// other name as "other" so the label's values stay bounded.
var Tiers = []string{"inline", "memory", "redis", "kafka", "couchdb", "direct"}

// LatencyBuckets are the histogram buckets, in seconds, of every latency
// metric: from 100 µs (a local hop) to a minute (a slow function).
var LatencyBuckets = []float64{
	0.0001, 0.00025, 0.0005,
	0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05,
	0.1, 0.25, 0.5,
	1, 2.5, 5,
	10, 25, 60,
}

// Metrics holds FaaSFlow's Prometheus metrics in a registry of its own (not
// the global one), so each gateway or worker, and each test, has its own.
// Labels are workflow, function, tier and status names only, never request
// IDs, so the number of series stays bounded. The methods of a nil *Metrics
// do nothing.
type Metrics struct {
	reg *prometheus.Registry

	hop               prometheus.Histogram
	function          *prometheus.HistogramVec
	queue             prometheus.Histogram
	bytes             *prometheus.CounterVec
	pool              *prometheus.GaugeVec
	coldStarts        *prometheus.CounterVec
	invocations       *prometheus.CounterVec
	invocationSeconds *prometheus.HistogramVec
}

// NewMetrics creates the metrics and registers them in a new registry.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		hop: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "faasflow_hop_seconds",
			Help:    "Time from an output being posted to its consumer firing, in seconds.",
			Buckets: LatencyBuckets,
		}),
		function: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "faasflow_function_seconds",
			Help:    "Duration of a function run, in seconds.",
			Buckets: LatencyBuckets,
		}, []string{"workflow", "function"}),
		queue: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "faasflow_queue_seconds",
			Help:    "Time from a function firing to its run having an instance, in seconds.",
			Buckets: LatencyBuckets,
		}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faasflow_bytes_total",
			Help: "Bytes of values passed between functions, by data-plane tier.",
		}, []string{"tier"}),
		pool: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "faasflow_pool_instances",
			Help: "Instances of a function alive in the pool, busy or idle.",
		}, []string{"function"}),
		coldStarts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faasflow_cold_starts_total",
			Help: "Runs that had to start a new instance.",
		}, []string{"function"}),
		invocations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "faasflow_invocations_total",
			Help: "Invocations that ended, by workflow and status (succeeded, failed).",
		}, []string{"workflow", "status"}),
		invocationSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "faasflow_invocation_seconds",
			Help:    "End-to-end latency of an invocation at the gateway, in seconds.",
			Buckets: LatencyBuckets,
		}, []string{"workflow"}),
	}
	// go_goroutines, under the name Prometheus's Go collector gives it, so
	// a soak test can watch for goroutine leaks without the collector's
	// dozens of other series.
	goroutines := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "go_goroutines",
		Help: "Number of goroutines that currently exist.",
	}, func() float64 { return float64(runtime.NumGoroutine()) })
	m.reg.MustRegister(m.hop, m.function, m.queue, m.bytes, m.pool, m.coldStarts, m.invocations, m.invocationSeconds, goroutines)
	for _, tier := range Tiers {
		m.bytes.WithLabelValues(tier) // present at 0 before the first value
	}
	return m
}

// Registry is the registry the metrics are in; other collectors (a sink's
// counters, Go runtime metrics) can be added to it.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the metrics in Prometheus's text exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// ObserveHop records the time from an output being posted to its consumer
// firing.
func (m *Metrics) ObserveHop(d time.Duration) {
	if m == nil {
		return
	}
	m.hop.Observe(d.Seconds())
}

// ObserveRun records one run of a function: how long it ran, how long it
// waited from firing for an instance, and whether that instance was started
// for it (a cold start).
func (m *Metrics) ObserveRun(workflow, function string, dur, queued time.Duration, cold bool) {
	if m == nil {
		return
	}
	m.function.WithLabelValues(workflow, function).Observe(dur.Seconds())
	m.queue.Observe(queued.Seconds())
	if cold {
		m.coldStarts.WithLabelValues(function).Inc()
	}
}

// AddBytes counts n bytes passed by a data-plane tier (one of Tiers; any
// other name counts as "other").
func (m *Metrics) AddBytes(tier string, n int64) {
	if m == nil || n <= 0 {
		return
	}
	if !knownTier(tier) {
		tier = "other"
	}
	m.bytes.WithLabelValues(tier).Add(float64(n))
}

func knownTier(tier string) bool {
	for _, t := range Tiers {
		if t == tier {
			return true
		}
	}
	return false
}

// SetPool sets the number of instances of a function alive in the pool.
func (m *Metrics) SetPool(function string, n int) {
	if m == nil {
		return
	}
	m.pool.WithLabelValues(function).Set(float64(n))
}

// ObserveInvocation records an invocation that ended with status, d after
// it started.
func (m *Metrics) ObserveInvocation(workflow, status string, d time.Duration) {
	if m == nil {
		return
	}
	m.invocations.WithLabelValues(workflow, status).Inc()
	m.invocationSeconds.WithLabelValues(workflow).Observe(d.Seconds())
}

// SinkCounts is a sink's count of written and dropped documents, as
// CouchDBSink and JSONLSink keep them.
type SinkCounts interface {
	Written() int64
	Dropped() int64
}

// RegisterSink exposes a sink's counts as faasflow_sink_written_total and
// faasflow_sink_dropped_total with the label sink=name.
func (m *Metrics) RegisterSink(name string, s SinkCounts) error {
	written := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name:        "faasflow_sink_written_total",
		Help:        "Telemetry records a sink has written.",
		ConstLabels: prometheus.Labels{"sink": name},
	}, func() float64 { return float64(s.Written()) })
	dropped := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Name:        "faasflow_sink_dropped_total",
		Help:        "Telemetry records a sink has dropped (queue full, store unreachable, or after close).",
		ConstLabels: prometheus.Labels{"sink": name},
	}, func() float64 { return float64(s.Dropped()) })
	if err := m.reg.Register(written); err != nil {
		return fmt.Errorf("register sink %s: %w", name, err)
	}
	if err := m.reg.Register(dropped); err != nil {
		m.reg.Unregister(written)
		return fmt.Errorf("register sink %s: %w", name, err)
	}
	return nil
}
