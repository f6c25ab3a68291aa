// Package gateway is FaaSFlow's front door: it deploys workflows (placing
// their functions on workers), starts invocations by sending the workflow's
// inputs to the workers that consume them, collects results and failures
// reported by workers, and answers status queries. It takes no part in
// passing data between functions.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/faasflow/faasflow-go/agents/store"
	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/telemetry"
)

// Config configures a gateway.
type Config struct {
	// Listen is the HTTP API's address (default 127.0.0.1:7000).
	Listen string
	// DataDir holds uploaded artifacts, finished invocations' results,
	// invocations.jsonl (one telemetry.Invocation record per ended
	// invocation), and the state a restarted gateway reloads: workflows/
	// and journal.jsonl (see state.go).
	DataDir string
	// Keep is how many invocations are remembered, oldest forgotten first (default 10000).
	Keep int
	// MaxBody bounds a request or result body in bytes (default 256 MiB);
	// a larger one is refused with 413.
	MaxBody int
	// MaxInflight caps the invocations of one workflow running at once;
	// more are refused with 429 and a Retry-After header, and those
	// running go on (default DefaultMaxInflight; negative = unlimited). A
	// deploy request's max_inflight overrides it for its workflow.
	MaxInflight int
	// LostAfter is how long a worker may miss heartbeats before it is
	// declared lost (default 3s; workers beat every second).
	LostAfter time.Duration
	// Sink, when set, also receives one telemetry.Invocation record per
	// ended invocation (FaaSFlow writes them to CouchDB's "results"
	// database). The caller owns it: close it after Run returns.
	Sink InvocationSink
	// Checkpoints holds the values of checkpointed runs (deploy
	// --checkpoint) until their invocation ends: the remote store of the
	// full profile (CouchDB), or, when nil, the gateway's memory. Either
	// way they are off the workers that may be lost. The caller owns it.
	Checkpoints store.Store
	// Metrics are observed as invocations end and served on GET /metrics;
	// when nil, New makes a set of its own.
	Metrics *telemetry.Metrics
	// Token is the API token users send as "Authorization: Bearer TOKEN"
	// to the public API; empty turns the check off (docs/security.md).
	Token string
	// Secret is the cluster secret: requests to and from workers are
	// signed with it, and /v1/internal/* takes only those; empty turns
	// signing and its check off.
	Secret string
}

func (c *Config) setDefaults() {
	if c.Listen == "" {
		c.Listen = "127.0.0.1:7000"
	}
	if c.Keep <= 0 {
		c.Keep = 10000
	}
	if c.MaxBody <= 0 {
		c.MaxBody = 256 << 20
	}
	if c.LostAfter <= 0 {
		c.LostAfter = 3 * time.Second
	}
	if c.MaxInflight == 0 {
		c.MaxInflight = DefaultMaxInflight
	}
}

// DefaultMaxInflight is the default Config.MaxInflight.
const DefaultMaxInflight = 1000

// Gateway is a running gateway.
type Gateway struct {
	cfg    Config
	log    *slog.Logger
	ln     net.Listener
	client *http.Client
	sender *api.Sender
	// checkpoints is Config.Checkpoints, or a memory store of the
	// gateway's own (ownCheckpoints: closed with it).
	checkpoints    store.Store
	ownCheckpoints bool

	metrics   *telemetry.Metrics
	records   *telemetry.JSONLSink // <data dir>/invocations.jsonl
	closeOnce sync.Once
	closeErr  error

	mu        sync.Mutex
	workers   map[string]*api.WorkerInfo
	workerIDs []string // in registration order
	workflows map[string]*deployed
	version   int64
	invs      map[string]*invocation
	order     []string // request IDs, oldest first
	// running holds, per workflow, the invocations accepted and perhaps
	// still running (ended ones are pruned when the count nears its cap).
	running map[string][]*invocation

	saveMu  sync.Mutex // serializes saving workflows
	journal *journal   // <data dir>/journal.jsonl
}

// New prepares a gateway listening on cfg.Listen; it serves from Run.
func New(cfg Config, log *slog.Logger) (*Gateway, error) {
	cfg.setDefaults()
	if cfg.DataDir == "" {
		return nil, errors.New("gateway needs a data directory (--data-dir)")
	}
	for _, dir := range []string{filepath.Join(cfg.DataDir, "artifacts"), filepath.Join(cfg.DataDir, "results"), filepath.Join(cfg.DataDir, "workflows")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create gateway data directory: %w", err)
		}
	}
	records, err := telemetry.NewJSONLSink(filepath.Join(cfg.DataDir, "invocations.jsonl"), log)
	if err != nil {
		return nil, fmt.Errorf("gateway invocation records: %w", err)
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		records.Close()
		return nil, fmt.Errorf("listen on %s: %w (is another gateway running? set --listen)", cfg.Listen, err)
	}
	metrics := cfg.Metrics
	if metrics == nil {
		metrics = telemetry.NewMetrics()
	}
	if err := metrics.RegisterSink("invocations_jsonl", records); err != nil {
		log.Warn("invocations.jsonl counts are not in /metrics", "component", "gateway", "err", err)
	}
	g := &Gateway{
		cfg: cfg, log: log.With("component", "gateway"), ln: ln, client: api.SignClient(api.NewHTTPClient(), cfg.Secret),
		metrics: metrics, records: records,
		workers: map[string]*api.WorkerInfo{}, workflows: map[string]*deployed{}, invs: map[string]*invocation{},
		running: map[string][]*invocation{},
	}
	err = g.loadWorkflows()
	if err == nil {
		err = g.openJournal()
	}
	if err != nil {
		ln.Close()
		records.Close()
		return nil, fmt.Errorf("reload the gateway's state from %s: %w", cfg.DataDir, err)
	}
	g.sender = api.NewSender()
	g.checkpoints = cfg.Checkpoints
	if g.checkpoints == nil {
		g.checkpoints = store.NewMemory()
		g.ownCheckpoints = true
	}
	g.sender.Secret = cfg.Secret
	g.log.Info("gateway configured", "listen", ln.Addr().String(), "data_dir", cfg.DataDir, "keep", cfg.Keep, "max_body", cfg.MaxBody, "max_inflight", cfg.MaxInflight,
		"workflows", len(g.workflows), "invocations", len(g.order), "auth", cfg.Token != "" && cfg.Secret != "")
	return g, nil
}

// Addr is the address the API listens on.
func (g *Gateway) Addr() string { return g.ln.Addr().String() }

// URL is the gateway's base URL.
func (g *Gateway) URL() string { return "http://" + g.Addr() }

// Run serves until ctx ends, then closes the gateway.
func (g *Gateway) Run(ctx context.Context) error {
	go g.watchWorkers(ctx)
	err := api.Serve(ctx, g.ln, g.Handler())
	if cerr := g.Close(); cerr != nil && err == nil {
		err = cerr
	}
	g.log.Info("gateway stopped")
	return err
}

// Close flushes and closes the invocation records file. Run calls it when
// it returns; a gateway served some other way (tests) calls it itself.
// Invocations ending later are not recorded in the file.
func (g *Gateway) Close() error {
	g.closeOnce.Do(func() {
		g.sender.Close()
		if g.ownCheckpoints {
			g.checkpoints.Close()
		}
		if err := g.records.Close(); err != nil {
			g.closeErr = fmt.Errorf("close gateway invocation records: %w", err)
		}
		if err := g.closeJournal(); err != nil && g.closeErr == nil {
			g.closeErr = fmt.Errorf("close gateway invocation journal: %w", err)
		}
	})
	return g.closeErr
}

// Metrics are the gateway's metrics, served on GET /metrics.
func (g *Gateway) Metrics() *telemetry.Metrics { return g.metrics }

// registerWorker adds or refreshes a worker. A worker that is new to
// this gateway, comes back after being lost, or restarted (a new URL or
// start time) gets the deployments placed on it again: it may have none.
func (g *Gateway) registerWorker(r api.RegisterWorker) {
	g.mu.Lock()
	defer g.mu.Unlock()
	w, ok := g.workers[r.ID]
	if !ok {
		w = &api.WorkerInfo{}
		g.workers[r.ID] = w
		g.workerIDs = append(g.workerIDs, r.ID)
		g.log.Info("worker registered", "worker", r.ID, "url", r.URL, "slots", r.Slots, "memory_mb", r.MemoryMB)
	}
	if w.Lost {
		g.log.Info("lost worker is back", "worker", r.ID, "url", r.URL)
	}
	rejoin := !ok || w.Lost || w.URL != r.URL || !w.Started.Equal(r.Started)
	w.RegisterWorker = r
	w.LastSeen = time.Now()
	w.Lost = false
	if rejoin {
		g.rejoinLocked(r)
	}
}

// workerList returns the registered workers in registration order.
func (g *Gateway) workerList() []api.WorkerInfo {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make([]api.WorkerInfo, 0, len(g.workerIDs))
	for _, id := range g.workerIDs {
		out = append(out, *g.workers[id])
	}
	return out
}

// liveWorkers returns the workers that are not lost, in registration order.
func (g *Gateway) liveWorkers() []api.WorkerInfo {
	var out []api.WorkerInfo
	for _, w := range g.workerList() {
		if !w.Lost {
			out = append(out, w)
		}
	}
	return out
}

// watchWorkers declares workers lost when they miss their heartbeats and
// fails or resumes the invocations that were running on them.
func (g *Gateway) watchWorkers(ctx context.Context) {
	tick := time.NewTicker(g.cfg.LostAfter / 4)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			var lost []api.WorkerInfo
			g.mu.Lock()
			for _, w := range g.workers {
				if !w.Lost && now.Sub(w.LastSeen) > g.cfg.LostAfter {
					w.Lost = true
					lost = append(lost, *w)
				}
			}
			g.mu.Unlock()
			for _, w := range lost {
				g.log.Warn("worker lost: no heartbeat", "worker", w.ID, "url", w.URL, "last_seen", w.LastSeen)
				go g.workerLost(w) // a resume deploys again: keep watching meanwhile
			}
		}
	}
}
