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

	"github.com/faasflow/faasflow-go/gateway"
	"github.com/faasflow/faasflow-go/telemetry"
	"github.com/faasflow/faasflow-go/version"
)

func main() {
	var cfg gateway.Config
	flag.StringVar(&cfg.Listen, "listen", "127.0.0.1:7000", "address of the HTTP API")
	flag.StringVar(&cfg.DataDir, "data-dir", "", "directory for artifacts and results (required)")
	flag.IntVar(&cfg.Keep, "keep", 10000, "invocations remembered before the oldest are forgotten")
	flag.IntVar(&cfg.MaxBody, "max-body", 256<<20, "largest request or result body in bytes")
	couchURL := flag.String("couchdb", "", "CouchDB URL (http://[user:password@]host:port); when set, invocation records also go to its \"results\" database")
	level := flag.String("log-level", "info", "log level: debug, info, warn, error")
	flag.Parse()

	log, err := newLogger(*level)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	log.Info("starting faasflow-gateway", "version", version.Version)
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
	}
	g, err := gateway.New(cfg, log)
	if err != nil {
		return fmt.Errorf("cannot start gateway: %w", err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return g.Run(ctx)
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}
