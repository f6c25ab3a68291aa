package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/faasflow/faasflow-go/cluster"
)

func cmdCluster(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("cluster needs up, down or status")
	}
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	provider := fs.String("provider", "local", "where the cluster runs: local")
	workers := fs.Int("workers", 3, "number of workers")
	gwPort := fs.Int("gateway-port", 7000, "gateway port (local provider)")
	wkPort := fs.Int("worker-port", 8000, "first worker port (local provider)")
	keepAlive := fs.Duration("keep-alive", 0, "how long idle function instances stay warm (default 10m)")
	binDir := fs.String("bin", "", "directory with faasflow-gateway and faasflow-worker (default: beside this program)")
	rt := fs.String("runtime", "process", "how workers run function instances: process or docker (the daemon at $DOCKER_HOST)")
	var data cluster.DataConfig
	fs.StringVar(&data.Profile, "profile", "embedded", "data profile: embedded (no services) or full (Redis, Kafka, CouchDB)")
	fs.StringVar(&data.Redis, "redis", os.Getenv("FAASFLOW_REDIS_ADDR"), "Redis host:port for the full profile (default $FAASFLOW_REDIS_ADDR)")
	fs.StringVar(&data.Kafka, "kafka", os.Getenv("FAASFLOW_KAFKA_BROKERS"), "Kafka brokers for the full profile (default $FAASFLOW_KAFKA_BROKERS)")
	fs.StringVar(&data.CouchDB, "couchdb", os.Getenv("FAASFLOW_COUCHDB_URL"), "CouchDB URL for the full profile (default $FAASFLOW_COUCHDB_URL)")
	fs.StringVar(&data.RemoteTier, "remote", "", "remote tier instead of the profile's: direct, kafka or couchdb")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	if *provider != "local" {
		return fmt.Errorf("provider %q is not available yet: use --provider local", *provider)
	}
	dir := stateDir()
	switch args[0] {
	case "up":
		if *binDir == "" {
			if exe, err := os.Executable(); err == nil {
				*binDir = filepath.Dir(exe)
			}
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		s, err := cluster.Up(ctx, cluster.LocalConfig{
			StateDir: dir, BinDir: *binDir, Workers: *workers, GatewayPort: *gwPort, WorkerPort: *wkPort, KeepAlive: *keepAlive,
			Data: data, Runtime: *rt,
		})
		if err != nil {
			return err
		}
		fmt.Printf("cluster up: gateway %s, %d workers, %s data profile (state in %s)\n", s.Gateway, *workers, data.Profile, dir)
		return nil
	case "down":
		if err := cluster.Down(dir, 10*time.Second); err != nil {
			return err
		}
		fmt.Println("cluster down")
		return nil
	case "status":
		return clusterStatus(ctx, dir)
	}
	return usagef("unknown cluster command %q: use up, down or status", args[0])
}

func clusterStatus(ctx context.Context, dir string) error {
	s, err := cluster.LoadState(dir)
	if errors.Is(err, os.ErrNotExist) {
		fmt.Println("no cluster is up")
		return nil
	}
	if err != nil {
		return err
	}
	fmt.Printf("provider %s, gateway %s, up since %s\n", s.Provider, s.Gateway, s.Started.Format(time.RFC3339))
	alive := map[int]bool{}
	for _, p := range s.Alive() {
		alive[p.PID] = true
	}
	for _, p := range s.Processes {
		state := "running"
		if !alive[p.PID] {
			state = "DEAD (see " + p.Log + ")"
		}
		fmt.Printf("  %-10s pid %-7d %-22s %s\n", p.Name, p.PID, p.Listen, state)
	}
	ws, err := newClient("").Workers(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("%d workers registered with the gateway\n", len(ws))
	return nil
}
