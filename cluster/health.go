package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/segmentio/kafka-go"

	"github.com/faasflow/faasflow-go/api"
)

// CheckResult is one line of the health table.
type CheckResult struct {
	Check  string
	Target string
	OK     bool
	Detail string
	Took   time.Duration
}

// Bundle files: a deploy request whose functions are already built, and
// the built executables by sha256, so that a node without a Go toolchain
// can deploy the workflow.
const (
	BundleRequest   = "deploy.json"
	BundleArtifacts = "artifacts"
)

// Check runs the health checks of a cluster from where it runs (a node on
// the cluster network): the gateway and every worker agent answer and are
// registered, Kafka, CouchDB and every worker's Redis answer, and, when
// bundle is a bundle directory, its workflow deploys and one invocation
// succeeds.
func Check(ctx context.Context, c *Config, bundle string) []CheckResult {
	var out []CheckResult
	run := func(check, target string, f func(ctx context.Context) (string, error)) bool {
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		t0 := time.Now()
		detail, err := f(cctx)
		r := CheckResult{Check: check, Target: target, OK: err == nil, Detail: detail, Took: time.Since(t0)}
		if err != nil {
			r.Detail = err.Error()
		}
		out = append(out, r)
		return r.OK
	}
	client := api.NewClient(c.Gateway)
	client.Token = c.Token
	gatewayUp := run("gateway", c.Gateway, func(ctx context.Context) (string, error) {
		n, err := client.Health(ctx)
		return fmt.Sprintf("ready, %d workers registered", n), err
	})
	registered := map[string]api.WorkerInfo{}
	if gatewayUp {
		if ws, err := client.Workers(ctx); err == nil {
			for _, w := range ws {
				registered[w.ID] = w
			}
		}
	}
	for _, w := range c.Workers {
		run("worker "+w.ID, w.URL, func(ctx context.Context) (string, error) {
			if err := getJSON(ctx, w.URL+"/healthz", nil); err != nil {
				return "", err
			}
			info, ok := registered[w.ID]
			switch {
			case !ok:
				return "", errors.New("answers but is not registered with the gateway")
			case info.Lost:
				return "", errors.New("registered but missing its heartbeats")
			}
			return "ready, registered", nil
		})
	}
	for _, w := range c.Workers {
		run("redis "+w.ID, w.Redis, func(ctx context.Context) (string, error) {
			rc := redis.NewClient(&redis.Options{Addr: w.Redis, MaxRetries: -1})
			defer rc.Close()
			pong, err := rc.Ping(ctx).Result()
			return pong, err
		})
	}
	run("kafka", c.Kafka, func(ctx context.Context) (string, error) {
		brokers := strings.Split(c.Kafka, ",")
		conn, err := (&kafka.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, "tcp", brokers[0])
		if err != nil {
			return "", err
		}
		defer conn.Close()
		bs, err := conn.Brokers()
		if err != nil {
			return "", fmt.Errorf("metadata: %w", err)
		}
		ctrl, err := conn.Controller()
		if err != nil {
			return "", fmt.Errorf("controller: %w", err)
		}
		return fmt.Sprintf("%d broker(s), controller %s", len(bs), net.JoinHostPort(ctrl.Host, fmt.Sprint(ctrl.Port))), nil
	})
	run("couchdb", c.CouchDB, func(ctx context.Context) (string, error) {
		var welcome map[string]any
		if err := getJSON(ctx, c.CouchDB+"/", &welcome); err != nil {
			return "", err
		}
		name := "couchdb"
		if _, ok := welcome["couchdb"]; !ok {
			name = "pouchdb-server" // answers CouchDB's API with its own welcome
		}
		return fmt.Sprintf("%s %v", name, welcome["version"]), nil
	})
	if bundle != "" && gatewayUp {
		run("invoke wordcount", c.Gateway, func(ctx context.Context) (string, error) {
			return invokeBundle(ctx, client, bundle)
		})
	}
	return out
}

// invokeBundle deploys a bundle's workflow and invokes it once.
func invokeBundle(ctx context.Context, client *api.Client, dir string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, BundleRequest))
	if err != nil {
		return "", fmt.Errorf("bundle: %w", err)
	}
	var req api.DeployRequest
	if err := json.Unmarshal(b, &req); err != nil {
		return "", fmt.Errorf("bundle %s: %w", BundleRequest, err)
	}
	arts, err := os.ReadDir(filepath.Join(dir, BundleArtifacts))
	if err != nil {
		return "", fmt.Errorf("bundle: %w", err)
	}
	for _, a := range arts {
		if err := client.UploadArtifact(ctx, a.Name(), filepath.Join(dir, BundleArtifacts, a.Name())); err != nil {
			return "", fmt.Errorf("upload %s: %w", a.Name(), err)
		}
	}
	info, err := client.Deploy(ctx, &req)
	if err != nil {
		return "", fmt.Errorf("deploy: %w", err)
	}
	inv, err := client.Invoke(ctx, info.Name, &api.InvokeRequest{})
	if err != nil {
		return "", fmt.Errorf("invoke: %w", err)
	}
	if inv.Status != api.StatusSucceeded {
		return "", fmt.Errorf("invocation %s %s: %s", inv.RequestID, inv.Status, inv.Error)
	}
	keys := make([]string, 0, len(inv.Result))
	for k := range inv.Result {
		keys = append(keys, k)
	}
	return fmt.Sprintf("%s in %.0f ms on %d workers (result: %s)", inv.Status, inv.Latency*1e3, len(distinct(info.Placement)), strings.Join(keys, ",")), nil
}

func distinct(m map[string]string) map[string]bool {
	out := map[string]bool{}
	for _, v := range m {
		out[v] = true
	}
	return out
}

// getJSON GETs url and decodes its 200 answer into v (nil: only checks
// that the answer is 200).
func getJSON(ctx context.Context, url string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	if v == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// PrintChecks writes the results as a table and reports whether all passed.
func PrintChecks(w io.Writer, results []CheckResult) bool {
	tw := tabwriter.NewWriter(w, 2, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "CHECK\tTARGET\tSTATUS\tTIME\tDETAIL")
	all := true
	for _, r := range results {
		status := "ok"
		if !r.OK {
			status = "FAIL"
			all = false
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Check, r.Target, status, r.Took.Round(time.Millisecond), r.Detail)
	}
	tw.Flush()
	return all
}
