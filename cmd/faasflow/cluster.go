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
		})
		if err != nil {
			return err
		}
		fmt.Printf("cluster up: gateway %s, %d workers (state in %s)\n", s.Gateway, *workers, dir)
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
