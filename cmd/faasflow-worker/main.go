// Command faasflow-worker runs a FaaSFlow worker agent: it runs the
// functions placed on it and triggers its peers directly.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/faasflow/faasflow-go/agents/worker"
	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/version"
)

func main() {
	var cfg worker.Config
	flag.StringVar(&cfg.ID, "id", "worker-0", "this worker's name in placements")
	flag.StringVar(&cfg.Listen, "listen", "127.0.0.1:8000", "address of the agent's HTTP API")
	flag.StringVar(&cfg.URL, "url", "", "URL the gateway and peers use to reach this worker (default http://<listen>)")
	flag.StringVar(&cfg.Gateway, "gateway", "http://127.0.0.1:7000", "gateway base URL")
	flag.StringVar(&cfg.DataDir, "data-dir", "", "directory for the instance socket, artifacts, logs and run records (required)")
	flag.DurationVar(&cfg.KeepAlive, "keep-alive", 0, "how long idle instances stay warm (default 10m)")
	flag.IntVar(&cfg.InlineMax, "inline-max", 0, "largest value sent inline, in bytes (default 16384)")
	flag.IntVar(&cfg.MaxBody, "max-body", 256<<20, "largest output or message in bytes")
	flag.IntVar(&cfg.MaxInstances, "max-instances", 0, "most instances of any one function on this worker, over its max_instances (0 = the function's own)")
	flag.IntVar(&cfg.MaxQueue, "max-queue", 0, "most calls of one function waiting for an instance; more fail their run (0 = 10000, -1 = unbounded)")
	flag.IntVar(&cfg.Slots, "slots", 0, "function instances this worker runs at once, for grouping placement (0 = unlimited)")
	flag.IntVar(&cfg.MemoryMB, "memory", 0, "memory for functions in MiB, for grouping placement (0 = unlimited)")
	flag.StringVar(&cfg.Python, "python", "", "interpreter for Python functions (default $FAASFLOW_PYTHON, else /usr/bin/python3, else python3 on PATH)")
	flag.StringVar(&cfg.SyntheticBinary, "synthetic", "", "faasflow-synthetic program for synthetic functions (default: beside this program, else on PATH)")
	flag.StringVar(&cfg.Data.Profile, "data-profile", "embedded", "data profile: embedded (memory + direct streams) or full (Redis + Kafka)")
	flag.StringVar(&cfg.Data.Remote, "remote", "", "remote tier instead of the profile's: direct, kafka or couchdb")
	flag.Int64Var(&cfg.Data.MemoryCap, "memory-cap", 1<<30, "bytes of values held in memory before spilling to <data-dir>/spill")
	flag.StringVar(&cfg.Data.RedisAddr, "redis", "", "Redis host:port (full profile)")
	kafka := flag.String("kafka", "", "Kafka brokers, host:port[,host:port...] (full profile)")
	flag.StringVar(&cfg.Data.CouchDBURL, "couchdb", "", "CouchDB URL (remote tier couchdb; run records also go to its workflow_latency database)")
	flag.StringVar(&cfg.Data.Namespace, "namespace", "faasflow", "prefix of this cluster's Redis keys and Kafka topics, to share services between clusters")
	flag.BoolVar(&cfg.NoPrewarm, "no-prewarm", false, "do not start instances of a function's consumers on this worker when it fires")
	flag.StringVar(&cfg.Runtime, "runtime", worker.RuntimeProcess, "how function instances run: process (child processes) or docker (containers)")
	flag.StringVar(&cfg.DockerHost, "docker-host", "", "Docker daemon address for --runtime docker (default $DOCKER_HOST, else the default socket)")
	secretFile := flag.String("secret-file", "", "file holding the cluster secret shared with the gateway and peers: requests are signed with it and only signed ones are answered; mode 0600. Without it the agent's API is open")
	level := flag.String("log-level", "info", "log level: debug, info, warn, error")
	flag.Parse()
	if *kafka != "" {
		cfg.Data.KafkaBrokers = strings.Split(*kafka, ",")
	}

	var l slog.Level
	if err := l.UnmarshalText([]byte(*level)); err != nil {
		fmt.Fprintln(os.Stderr, "--log-level:", err)
		os.Exit(2)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
	log.Info("starting faasflow-worker", "version", version.Version)
	if *secretFile != "" {
		var err error
		if cfg.Secret, err = api.ReadSecretFile(*secretFile); err != nil {
			log.Error("cannot start worker", "err", fmt.Errorf("--secret-file: %w", err))
			os.Exit(2)
		}
	} else {
		log.Warn("authentication is off: anyone who reaches this agent can use it; give --secret-file (docs/security.md)")
	}
	w, err := worker.New(cfg, log)
	if err != nil {
		log.Error("cannot start worker", "err", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := w.Run(ctx); err != nil {
		log.Error("worker failed", "err", err)
		os.Exit(1)
	}
}
