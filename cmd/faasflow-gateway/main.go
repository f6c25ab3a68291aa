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
	"github.com/faasflow/faasflow-go/version"
)

func main() {
	var cfg gateway.Config
	flag.StringVar(&cfg.Listen, "listen", "127.0.0.1:7000", "address of the HTTP API")
	flag.StringVar(&cfg.DataDir, "data-dir", "", "directory for artifacts and results (required)")
	flag.IntVar(&cfg.Keep, "keep", 10000, "invocations remembered before the oldest are forgotten")
	flag.IntVar(&cfg.MaxBody, "max-body", 256<<20, "largest request or result body in bytes")
	level := flag.String("log-level", "info", "log level: debug, info, warn, error")
	flag.Parse()

	log, err := newLogger(*level)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	log.Info("starting faasflow-gateway", "version", version.Version)
	g, err := gateway.New(cfg, log)
	if err != nil {
		log.Error("cannot start gateway", "err", err)
		os.Exit(1)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := g.Run(ctx); err != nil {
		log.Error("gateway failed", "err", err)
		os.Exit(1)
	}
}

func newLogger(level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: l})), nil
}
