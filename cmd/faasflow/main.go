// Command faasflow is FaaSFlow's command line: it brings clusters up and
// down, validates and deploys workflows, invokes them and shows their logs.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/cluster"
	"github.com/faasflow/faasflow-go/version"
)

const usage = `faasflow — a serverless workflow engine (FaaSFlow + DataFlower)

Usage:
  faasflow cluster up [--workers N] [--provider local]   start a cluster (gateway + N workers)
  faasflow cluster down                                   stop it
  faasflow cluster status                                 show its processes and workers
  faasflow validate FILE...                               check workflow files
  faasflow convert FILE [-o OUT]                          write a workflow (native, DataFlower, v1) as native YAML
  faasflow build FILE|DIR [--docker-host H]                build the functions, and their images for the docker runtime
  faasflow deploy FILE|DIR [--mode M] [--placement P] [--table fn=worker,...] [--bind FILE] [--explain]
  faasflow invoke NAME [--input JSON|@file] [--request-id ID] [--async]
  faasflow status REQUEST_ID [--wait 30s]                 an invocation's status and result
  faasflow list [workflows|invocations|workers]
  faasflow logs [REQUEST_ID] [--process NAME] [-n LINES]  run records, or process logs
  faasflow experiment latency|throughput|colocation [--file F] [--workflows W,W] [--duration D] ...
                                                          the papers' experiments (experiments/default.yaml)
  faasflow experiment overhead|data FILE... [--modes M,M] [-n N] [--time-scale S]
  faasflow results diff RUN_DIR... [--expected CSV] [--tolerances FILE]
  faasflow results summarize RAW.json [-o CSV] [--workflow FILE]  summary of raw per-request results
  faasflow results plot RUN_DIR [--expected CSV]          redraw a run's latency CDF and timeline
  faasflow version

Environment:
  FAASFLOW_HOME     state directory of the local cluster (default ~/.faasflow)
  FAASFLOW_GATEWAY  gateway URL (default: the local cluster's, else http://127.0.0.1:7000)
  FAASFLOW_TOKEN    the gateway's API token (default: read from $FAASFLOW_HOME/token, which
                    cluster up writes, else /etc/faasflow/token on a provisioned gateway node)
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		var ue usageError
		if errors.As(err, &ue) {
			fmt.Fprintf(os.Stderr, "faasflow: %v\n\n%s", err, usage)
			os.Exit(2)
		}
		fmt.Fprintf(os.Stderr, "faasflow: %v\n", err)
		os.Exit(1)
	}
}

type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Print(usage)
		return nil
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "cluster":
		return cmdCluster(ctx, rest)
	case "validate":
		return cmdValidate(rest)
	case "convert":
		return cmdConvert(rest, os.Stdout)
	case "build":
		return cmdBuild(ctx, rest)
	case "deploy":
		return cmdDeploy(ctx, rest)
	case "invoke":
		return cmdInvoke(ctx, rest)
	case "status":
		return cmdStatus(ctx, rest)
	case "list":
		return cmdList(ctx, rest)
	case "logs":
		return cmdLogs(ctx, rest)
	case "experiment":
		return cmdExperiment(ctx, rest)
	case "results":
		return cmdResults(rest)
	case "version":
		fmt.Println(version.Version)
		return nil
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	return usagef("unknown command %q", cmd)
}

// parse parses flags that may come before, between or after positional
// arguments, and returns the positional ones.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	fs.SetOutput(new(strings.Builder))
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, usageError{err}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// stateDir is where the local cluster keeps its state.
func stateDir() string {
	if d := os.Getenv("FAASFLOW_HOME"); d != "" {
		return d
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".faasflow"
	}
	return filepath.Join(home, ".faasflow")
}

// gatewayURL picks the gateway: flag, environment, local cluster, default.
func gatewayURL(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if u := os.Getenv("FAASFLOW_GATEWAY"); u != "" {
		return u
	}
	if s, err := cluster.LoadState(stateDir()); err == nil && s.Gateway != "" {
		return s.Gateway
	}
	return "http://127.0.0.1:7000"
}

// newClient returns a client of the gateway (see gatewayURL) that sends
// the API token (see apiToken).
func newClient(flagValue string) *api.Client {
	c := api.NewClient(gatewayURL(flagValue))
	token, err := apiToken()
	if err != nil {
		fmt.Fprintf(os.Stderr, "faasflow: warning: %v; calling the gateway without a token\n", err)
	}
	c.Token = token
	return c
}

// tokenPaths are where the API token is looked for when FAASFLOW_TOKEN is
// not set: the local cluster's state directory, then where Ansible puts it
// on a provisioned gateway node.
func tokenPaths() []string {
	return []string{filepath.Join(stateDir(), cluster.TokenFile), "/etc/faasflow/token"}
}

// apiToken picks the gateway's API token: $FAASFLOW_TOKEN, else the first
// token file that exists (tokenPaths); "" when there is none.
func apiToken() (string, error) {
	if t := os.Getenv("FAASFLOW_TOKEN"); t != "" {
		return strings.TrimSpace(t), nil
	}
	for _, p := range tokenPaths() {
		if _, err := os.Stat(p); err != nil {
			continue
		}
		return api.ReadSecretFile(p)
	}
	return "", nil
}
