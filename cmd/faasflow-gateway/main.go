// Command faasflow-gateway runs the FaaSFlow gateway: the HTTP API that
// deploys and invokes workflows.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/faasflow/faasflow-go/agents/store"
	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/gateway"
	"github.com/faasflow/faasflow-go/telemetry"
	"github.com/faasflow/faasflow-go/version"
)

func main() {
	var cfg gateway.Config
	flag.StringVar(&cfg.Listen, "listen", "127.0.0.1:7000", "address of the HTTP API")
	flag.StringVar(&cfg.DataDir, "data-dir", "", "directory for artifacts and results (required)")
	flag.IntVar(&cfg.Keep, "keep", 10000, "invocations remembered before the oldest are forgotten")
	flag.IntVar(&cfg.MaxBody, "max-body", 256<<20, "largest request or result body in bytes; larger ones get 413")
	flag.IntVar(&cfg.MaxInflight, "max-inflight", gateway.DefaultMaxInflight, "invocations of one workflow running at once; more get 429 with Retry-After (-1 = unlimited; a deploy's max_inflight overrides it)")
	flag.DurationVar(&cfg.LostAfter, "lost-after", 3*time.Second, "a worker silent this long is lost: its invocations fail with \"worker lost\" or resume (deploy --checkpoint)")
	couchURL := flag.String("couchdb", "", "CouchDB URL (http://[user:password@]host:port); when set, invocation records also go to its \"results\" database, and checkpointed values (deploy --checkpoint) wait in its \""+gateway.CheckpointsDB+"\" database")
	tokenFile := flag.String("token-file", "", "file holding the API token users must send (Authorization: Bearer); mode 0600. Without it the public API is open")
	secretFile := flag.String("secret-file", "", "file holding the cluster secret shared with the workers, which sign their requests with it; mode 0600. Without it /v1/internal/* is open")
	level := flag.String("log-level", "info", "log level: debug, info, warn, error")
	flag.Parse()

	log, err := newLogger(*level)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	log.Info("starting faasflow-gateway", "version", version.Version)
	if err := readSecrets(&cfg, *tokenFile, *secretFile); err != nil {
		log.Error("cannot start gateway", "err", err)
		os.Exit(2)
	}
	if cfg.Token == "" || cfg.Secret == "" {
		log.Warn("authentication is off: anyone who reaches the gateway can use it; give --token-file and --secret-file (docs/security.md)")
	}
	if err := run(cfg, *couchURL, log); err != nil {
		log.Error("gateway failed", "err", err)
		os.Exit(1)
	}
}

// run serves the gateway until SIGINT or SIGTERM, with its metrics and, when
// couchURL is set, a CouchDB sink for the invocation records, flushed on
// the way out.
func run(cfg gateway.Config, couchURL string, log *slog.Logger) error {
	cfg.Metrics = telemetry.NewMetrics()
	if couchURL != "" {
		sink, err := telemetry.NewCouchDBSink(couchURL, telemetry.DBResults, log)
		if err != nil {
			return fmt.Errorf("--couchdb: %w", err)
		}
		defer func() {
			if err := sink.Close(); err != nil {
				log.Warn("closing the CouchDB sink", "err", err)
			}
		}()
		if err := cfg.Metrics.RegisterSink("couchdb_results", sink); err != nil {
			return err
		}
		cfg.Sink = sink
		// Checkpointed values wait in the remote store, off the workers.
		checkpoints, err := store.NewCouchDB(store.CouchDBConfig{URL: couchURL, DB: gateway.CheckpointsDB})
		if err != nil {
			return fmt.Errorf("--couchdb: %w", err)
		}
		defer checkpoints.Close()
		cfg.Checkpoints = checkpoints
	}
	g, err := gateway.New(cfg, log)
	if err != nil {
		return fmt.Errorf("cannot start gateway: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return g.Run(ctx)
}

// readSecrets reads the API token and the cluster secret from their files
// (secrets never go on the command line, where ps shows them).
func readSecrets(cfg *gateway.Config, tokenFile, secretFile string) error {
	var err error
	if tokenFile != "" {
		if cfg.Token, err = api.ReadSecretFile(tokenFile); err != nil {
			return fmt.Errorf("--token-file: %w", err)
		}
	}
	if secretFile != "" {
		if cfg.Secret, err = api.ReadSecretFile(secretFile); err != nil {
			return fmt.Errorf("--secret-file: %w", err)
		}
	}
	return nil
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}
