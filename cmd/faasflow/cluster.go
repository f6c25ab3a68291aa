package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/faasflow/faasflow-go/cluster"
)

func cmdCluster(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("cluster needs up, down or status")
	}
	if args[0] == "check" {
		return cmdClusterCheck(ctx, args[1:])
	}
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	provider := fs.String("provider", "local", "where the cluster runs: local (processes here), docker (containers here, through Terraform and Ansible) or aws")
	workers := fs.Int("workers", 3, "number of workers")
	gwPort := fs.Int("gateway-port", 7000, "gateway port (local provider)")
	wkPort := fs.Int("worker-port", 8000, "first worker port (local provider)")
	keepAlive := fs.Duration("keep-alive", 0, "how long idle function instances stay warm (default 10m)")
	keep := fs.Int("keep", 0, "invocations the gateway remembers before forgetting the oldest (default 10000)")
	binDir := fs.String("bin", "", "directory with faasflow-gateway and faasflow-worker (default: beside this program)")
	rt := fs.String("runtime", "process", "how workers run function instances: process or docker (the daemon at $DOCKER_HOST)")
	var data cluster.DataConfig
	fs.StringVar(&data.Profile, "profile", "embedded", "data profile: embedded (no services) or full (Redis, Kafka, CouchDB)")
	fs.StringVar(&data.Redis, "redis", os.Getenv("FAASFLOW_REDIS_ADDR"), "Redis host:port for the full profile (default $FAASFLOW_REDIS_ADDR)")
	fs.StringVar(&data.Kafka, "kafka", os.Getenv("FAASFLOW_KAFKA_BROKERS"), "Kafka brokers for the full profile (default $FAASFLOW_KAFKA_BROKERS)")
	fs.StringVar(&data.CouchDB, "couchdb", os.Getenv("FAASFLOW_COUCHDB_URL"), "CouchDB URL for the full profile (default $FAASFLOW_COUCHDB_URL)")
	fs.StringVar(&data.RemoteTier, "remote", "", "remote tier instead of the profile's: direct, kafka or couchdb")
	repo := fs.String("repo", "", "docker, aws: the faasflow tree with infra/ and ansible/ (default: the working directory, else beside bin/)")
	noCheck := fs.Bool("no-check", false, "docker, aws: skip the health check after up")
	var tfVars stringList
	fs.Var(&tfVars, "var", "docker, aws: a Terraform variable name=value (repeatable; TF_VAR_name works too)")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	switch *provider {
	case "local":
	case "docker", "aws":
		return cmdInfraCluster(ctx, args[0], &infraOptions{
			provider: *provider, workers: *workers, binDir: *binDir, profile: data.Profile, runtime: *rt,
			tfVars: tfVars, noCheck: *noCheck, repo: *repo,
		})
	default:
		return usagef("unknown provider %q: use local, docker or aws", *provider)
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
			StateDir: dir, BinDir: *binDir, Workers: *workers, GatewayPort: *gwPort, WorkerPort: *wkPort, KeepAlive: *keepAlive, Keep: *keep,
			Data: data, Runtime: *rt,
		})
		if err != nil {
			return err
		}
		fmt.Printf("cluster up: gateway %s, %d workers, %s data profile (state in %s; API token in %s)\n",
			s.Gateway, *workers, data.Profile, dir, filepath.Join(dir, cluster.TokenFile))
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

// cmdInfraCluster runs up, down or status for the Terraform providers.
func cmdInfraCluster(ctx context.Context, action string, o *infraOptions) error {
	root, err := repoRoot(o.repo)
	if err != nil {
		return err
	}
	o.repo = root
	if o.binDir == "" {
		o.binDir = filepath.Join(root, "bin")
	}
	if o.profile == "embedded" {
		// Provisioned clusters run Kafka, CouchDB and Redis: use them.
		o.profile = "full"
	}
	switch action {
	case "up":
		return infraUp(ctx, o)
	case "down":
		return infraDown(ctx, o)
	case "status":
		return infraStatus(ctx, o)
	}
	return usagef("unknown cluster command %q: use up, down, status or check", action)
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ",") }

// Set adds one value.
func (l *stringList) Set(v string) error {
	*l = append(*l, v)
	return nil
}
