// Package worker assembles the worker agent: the engine, the instance pool,
// the local store, the HTTP API that the gateway and peer workers call, and
// the agent's registration with the gateway.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/faasflow/faasflow-go/agents/engine"
	"github.com/faasflow/faasflow-go/agents/runtime"
	"github.com/faasflow/faasflow-go/agents/runtime/docker"
	"github.com/faasflow/faasflow-go/agents/store"
	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/telemetry"
)

// Config configures a worker agent.
type Config struct {
	// ID names the worker in placements (default "worker-0").
	ID string
	// Listen is the address of the agent's HTTP API (default 127.0.0.1:8000).
	Listen string
	// URL is how the gateway and peers reach the agent (default http://<Listen>).
	URL string
	// Gateway is the gateway's base URL (default http://127.0.0.1:7000).
	Gateway string
	// DataDir holds the instance socket, artifacts, logs and run records.
	DataDir string
	// KeepAlive is how long idle instances stay warm (default 10m).
	KeepAlive time.Duration
	// InlineMax is the largest value sent inline (default 16 KiB).
	InlineMax int
	// MaxBody bounds one output or message body in bytes (default 256 MiB).
	MaxBody int
	// MaxInstances caps the instances of any one function on this worker,
	// over the function's max_instances (0 = no cap beyond the function's).
	MaxInstances int
	// MaxQueue bounds the calls of one function waiting for a free
	// instance; a call over it fails its run (default
	// runtime.DefaultMaxQueue; negative = unbounded).
	MaxQueue int
	// Slots and MemoryMB tell the gateway this worker's capacity for
	// placement (0 = unlimited).
	Slots, MemoryMB int
	// SyntheticBinary is the faasflow-synthetic program that runs synthetic
	// functions (default: beside this program, else on PATH).
	SyntheticBinary string
	// Python is the interpreter for Python functions (default
	// $FAASFLOW_PYTHON, which `make deps` points at the project's virtual
	// environment; else /usr/bin/python3, else python3 on PATH).
	Python string
	// Data chooses the data plane (profile and services).
	Data DataConfig
	// Runtime runs function instances: RuntimeProcess (default) or
	// RuntimeDocker.
	Runtime string
	// NoPrewarm stops starting instances of a function's same-worker
	// consumers when it fires (see engine.Config.NoPrewarm).
	NoPrewarm bool
	// DockerHost is the Docker daemon's address for the docker runtime
	// (default: $DOCKER_HOST, else Docker's default socket).
	DockerHost string
	// Observer, if set, also receives every run record (tests and benchmarks).
	Observer engine.Recorder
	// Secret is the cluster secret: the worker signs its requests to the
	// gateway and its peers with it and answers only requests signed with
	// it (all but GET /healthz and /metrics). Empty turns both off
	// (docs/security.md).
	Secret string
}

func (c *Config) setDefaults() {
	if c.ID == "" {
		c.ID = "worker-0"
	}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8000"
	}
	if c.Gateway == "" {
		c.Gateway = "http://127.0.0.1:7000"
	}
	if c.MaxBody <= 0 {
		c.MaxBody = 256 << 20
	}
	if c.SyntheticBinary == "" {
		c.SyntheticBinary = findSynthetic()
	}
	if c.Python == "" {
		c.Python = findPython()
	}
	if c.Runtime == "" {
		c.Runtime = RuntimeProcess
	}
}

// Runtimes: how a worker runs function instances.
const (
	// RuntimeProcess runs each instance as a child process of the agent.
	RuntimeProcess = "process"
	// RuntimeDocker runs each instance as a Docker container.
	RuntimeDocker = "docker"
)

// newBackend returns the instance backend of cfg.Runtime and what closes it.
func newBackend(cfg Config, log *slog.Logger) (runtime.Backend, func(), error) {
	switch cfg.Runtime {
	case RuntimeProcess:
		return runtime.ProcessBackend{}, func() {}, nil
	case RuntimeDocker:
		ns := cfg.Data.Namespace
		if ns == "" {
			ns = "faasflow"
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		b, err := docker.New(ctx, docker.Config{Host: cfg.DockerHost, Cluster: ns, Worker: cfg.ID}, log)
		if err != nil {
			return nil, nil, err
		}
		return b, func() {
			if err := b.Close(); err != nil {
				log.Warn("close the docker runtime", "err", err)
			}
		}, nil
	}
	return nil, nil, fmt.Errorf("unknown runtime %q: use %s or %s (--runtime)", cfg.Runtime, RuntimeProcess, RuntimeDocker)
}

// findPython takes $FAASFLOW_PYTHON, then prefers the system interpreter by
// absolute path: a version manager's shim on PATH adds a tenth of a second
// to every start.
func findPython() string {
	if p := os.Getenv("FAASFLOW_PYTHON"); p != "" {
		return p
	}
	if _, err := os.Stat("/usr/bin/python3"); err == nil {
		return "/usr/bin/python3"
	}
	p, _ := exec.LookPath("python3")
	return p
}

// findSynthetic looks for faasflow-synthetic beside this program, then on PATH.
func findSynthetic() string {
	const name = "faasflow-synthetic"
	if exe, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(exe), name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	return ""
}

// Worker is a running worker agent.
type Worker struct {
	cfg    Config
	log    *slog.Logger
	ln     net.Listener
	engine *engine.Engine
	pool   *runtime.Pool
	rec    *Recorder
	client *http.Client
	sender *api.Sender // messages to peers
	arts   *artifacts
	stores engine.Stores
	direct *store.Direct
	// closeBackend ends the pool's backend, after the pool.
	closeBackend func()
	// started is when New ran; the gateway sees a change as a restart.
	started time.Time

	metrics *telemetry.Metrics
	// couch receives run records in the full profile (nil otherwise).
	couch *telemetry.CouchDBSink
}

// New prepares a worker: it creates its data directory, listens on
// cfg.Listen and the instance socket, but serves nothing until Run.
func New(cfg Config, log *slog.Logger) (*Worker, error) {
	cfg.setDefaults()
	if cfg.DataDir == "" {
		return nil, errors.New("worker needs a data directory (--data-dir)")
	}
	for _, dir := range []string{cfg.DataDir, filepath.Join(cfg.DataDir, "logs"), filepath.Join(cfg.DataDir, "artifacts")} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("create worker data directory: %w", err)
		}
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listen on %s: %w (is another worker using that port? set --listen)", cfg.Listen, err)
	}
	if cfg.URL == "" {
		cfg.URL = "http://" + ln.Addr().String()
	}
	log = log.With("worker", cfg.ID)
	backend, closeBackend, err := newBackend(cfg, log)
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("worker %s: %w", cfg.ID, err)
	}
	pool, err := runtime.NewPool(runtime.PoolConfig{
		SocketPath: filepath.Join(cfg.DataDir, "agent.sock"), KeepAlive: cfg.KeepAlive, MaxBody: cfg.MaxBody,
		MaxInstances: cfg.MaxInstances, MaxQueue: cfg.MaxQueue,
	}, backend, log)
	if err != nil {
		ln.Close()
		closeBackend()
		return nil, err
	}
	rec, err := NewRecorder(filepath.Join(cfg.DataDir, "runs.jsonl"))
	if err != nil {
		ln.Close()
		pool.Close()
		closeBackend()
		return nil, err
	}
	stores, direct, err := openStores(cfg)
	if err != nil {
		ln.Close()
		pool.Close()
		closeBackend()
		rec.Close()
		return nil, fmt.Errorf("worker %s data plane: %w", cfg.ID, err)
	}
	client := api.SignClient(api.NewHTTPClient(), cfg.Secret)
	direct.SetClient(client)
	w := &Worker{cfg: cfg, log: log, ln: ln, pool: pool, closeBackend: closeBackend, rec: rec, client: client, stores: stores, direct: direct, started: time.Now(),
		arts: &artifacts{dir: filepath.Join(cfg.DataDir, "artifacts"), gateway: cfg.Gateway, client: client}}
	tr := &httpTransport{client: client, sender: api.NewSender(), gateway: cfg.Gateway}
	tr.sender.Secret = cfg.Secret
	w.sender = tr.sender
	w.metrics = telemetry.NewMetrics()
	recs := recorders{rec, metricsRecorder{w.metrics}}
	if cfg.Data.CouchDBURL != "" {
		// FaaSFlow keeps per-function records in this database.
		if w.couch, err = telemetry.NewCouchDBSink(cfg.Data.CouchDBURL, telemetry.DBWorkflowLatency, log); err != nil {
			log.Warn("run records will not go to CouchDB", "url", cfg.Data.CouchDBURL, "err", err)
		} else {
			recs = append(recs, sinkRecorder{w.couch})
		}
	}
	if cfg.Observer != nil {
		recs = append(recs, cfg.Observer)
	}
	w.engine = engine.New(engine.Config{Worker: cfg.ID, InlineMax: cfg.InlineMax, NoPrewarm: cfg.NoPrewarm}, pool, tr, stores, recs, log)
	log.Info("worker configured", "listen", ln.Addr().String(), "url", cfg.URL, "gateway", cfg.Gateway,
		"data_dir", cfg.DataDir, "keep_alive", cfg.KeepAlive, "inline_max", cfg.InlineMax, "runtime", cfg.Runtime,
		"max_body", cfg.MaxBody, "max_instances", cfg.MaxInstances, "max_queue", cfg.MaxQueue,
		"local_tier", store.TierOf(stores.Local), "remote_tier", store.TierOf(stores.Remote), "signed", cfg.Secret != "")
	return w, nil
}

// Addr is the address the HTTP API listens on.
func (w *Worker) Addr() string { return w.ln.Addr().String() }

// URL is the worker's base URL.
func (w *Worker) URL() string { return w.cfg.URL }

// Engine exposes the worker's engine (for tests and benchmarks).
func (w *Worker) Engine() *engine.Engine { return w.engine }

// Run serves until ctx ends, then shuts down: it stops every instance it
// started and flushes its run records.
func (w *Worker) Run(ctx context.Context) error {
	go w.registerLoop(ctx)
	err := api.Serve(ctx, w.ln, w.Handler())
	w.engine.Close()
	w.sender.Close()
	w.pool.Close()
	w.closeBackend()
	closeStores(w.stores, w.direct)
	w.rec.Close()
	if w.couch != nil {
		w.couch.Close()
	}
	w.log.Info("worker stopped")
	return err
}

// HeartbeatInterval is how often a worker registers again with the
// gateway: its heartbeat, which also lets a restarted gateway learn of it.
const HeartbeatInterval = time.Second

// registerLoop tells the gateway about this worker, at start and then
// every HeartbeatInterval.
func (w *Worker) registerLoop(ctx context.Context) {
	delay := 100 * time.Millisecond
	registered := false
	for {
		err := w.register(ctx)
		switch {
		case err == nil && !registered:
			w.log.Info("registered with gateway", "gateway", w.cfg.Gateway)
			registered, delay = true, HeartbeatInterval
		case err != nil && registered:
			w.log.Warn("gateway unreachable", "gateway", w.cfg.Gateway, "err", err)
			registered, delay = false, 500*time.Millisecond
		}
		if err != nil && !registered {
			delay = min(delay*2, 2*time.Second)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}
