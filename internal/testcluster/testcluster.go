// Package testcluster runs a whole FaaSFlow cluster — a gateway and N
// workers — inside a test process, on 127.0.0.1 ports chosen by the kernel,
// with real function instances. Tests and benchmarks use it to deploy and
// invoke workflows end to end.
package testcluster

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/agents/engine"
	"github.com/faasflow/faasflow-go/agents/store"
	"github.com/faasflow/faasflow-go/agents/worker"
	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/build"
	"github.com/faasflow/faasflow-go/gateway"
	"github.com/faasflow/faasflow-go/workflow"
)

// Cluster is a running in-process cluster.
type Cluster struct {
	Gateway *gateway.Gateway
	Workers []*worker.Worker
	Client  *api.Client
	// Token and Secret are the cluster's API token and secret:
	// authentication is always on, as in every real cluster (Client
	// sends the token).
	Token, Secret string
	dir           string
	cancel        context.CancelFunc
	stops         []context.CancelFunc // one per worker
	wg            sync.WaitGroup
}

// Options tune a test cluster.
type Options struct {
	Workers   int             // default 3
	KeepAlive time.Duration   // worker instance keep-alive (default theirs)
	Logs      io.Writer       // default: discarded
	Observer  engine.Recorder // receives every run record of every worker
	// LostAfter is the gateway's heartbeat limit. Default 10s: tests run
	// under the race detector on two cores, where a live worker's beat can
	// be late; tests of worker loss set it lower.
	LostAfter time.Duration
	// Data is every worker's data plane (default: the embedded profile).
	// An empty Namespace gets one unique to this cluster.
	Data worker.DataConfig
	// Runtime and DockerHost choose how workers run instances (default:
	// processes); see worker.Config.
	Runtime, DockerHost string
	// NoPrewarm turns off pre-warming consumers' instances.
	NoPrewarm bool
	// GatewayMaxBody is the gateway's body limit (default its own).
	GatewayMaxBody int
}

// Start brings a cluster up and stops it when the test ends.
func Start(tb testing.TB, opt Options) *Cluster {
	tb.Helper()
	if opt.Workers <= 0 {
		opt.Workers = 3
	}
	if opt.Logs == nil {
		opt.Logs = io.Discard
	}
	log := slog.New(slog.NewTextHandler(opt.Logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	// Unix socket paths must stay short, so avoid deep temp directories.
	dir, err := os.MkdirTemp("", "ffc")
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &Cluster{dir: dir, cancel: cancel}
	tb.Cleanup(c.stop)
	if c.Token, err = api.NewSecret(); err != nil {
		tb.Fatal(err)
	}
	if c.Secret, err = api.NewSecret(); err != nil {
		tb.Fatal(err)
	}

	if opt.LostAfter <= 0 {
		opt.LostAfter = 10 * time.Second
	}
	gcfg := gateway.Config{Listen: "127.0.0.1:0", DataDir: filepath.Join(dir, "gw"), LostAfter: opt.LostAfter, MaxBody: opt.GatewayMaxBody,
		Token: c.Token, Secret: c.Secret}
	if opt.Data.CouchDBURL != "" {
		// As faasflow-gateway --couchdb: checkpointed values in CouchDB.
		cp, err := store.NewCouchDB(store.CouchDBConfig{URL: opt.Data.CouchDBURL, DB: gateway.CheckpointsDB})
		if err != nil {
			tb.Fatal(err)
		}
		tb.Cleanup(func() { cp.Close() })
		gcfg.Checkpoints = cp
	}
	gw, err := gateway.New(gcfg, log)
	if err != nil {
		tb.Fatal(err)
	}
	c.Gateway = gw
	c.run(func() error { return gw.Run(ctx) })
	synth, err := build.Go(ctx, moduleDir(tb, "cmd/faasflow-synthetic"), buildCache)
	if err != nil {
		tb.Fatal(err)
	}
	if opt.Data.Namespace == "" {
		opt.Data.Namespace = "test-" + filepath.Base(dir)
	}
	for i := 0; i < opt.Workers; i++ {
		w, err := worker.New(worker.Config{
			Data:            opt.Data,
			SyntheticBinary: synth.Path,
			ID:              workerID(i), Listen: "127.0.0.1:0", Gateway: gw.URL(),
			DataDir: filepath.Join(dir, workerID(i)), KeepAlive: opt.KeepAlive, Observer: opt.Observer,
			Runtime: opt.Runtime, DockerHost: opt.DockerHost, NoPrewarm: opt.NoPrewarm,
			Secret: c.Secret,
		}, log)
		if err != nil {
			tb.Fatal(err)
		}
		c.Workers = append(c.Workers, w)
		wctx, stop := context.WithCancel(ctx)
		c.stops = append(c.stops, stop)
		c.run(func() error { return w.Run(wctx) })
	}
	c.Client = api.NewClient(gw.URL())
	c.Client.Token = c.Token
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, err := c.Client.Health(ctx)
		if err == nil && n == opt.Workers {
			break
		}
		if time.Now().After(deadline) {
			tb.Fatalf("test cluster not ready: %d of %d workers registered (%v)", n, opt.Workers, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return c
}

// moduleDir returns a directory of this module, found from the package
// being tested by walking up to go.mod.
func moduleDir(tb testing.TB, rel string) string {
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, rel)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("go.mod not found above the test's directory")
		}
		dir = parent
	}
}

func workerID(i int) string { return fmt.Sprintf("worker-%d", i) }

func (c *Cluster) run(f func() error) {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		f()
	}()
}

func (c *Cluster) stop() {
	c.cancel()
	c.wg.Wait()
	os.RemoveAll(c.dir)
}

// StopWorker stops worker i as a crash would look to the rest of the
// cluster: it stops answering and stops beating, and its instances die.
func (c *Cluster) StopWorker(i int) { c.stops[i]() }

// Deploy loads a workflow file (or directory), builds its Go functions,
// uploads them and deploys it with req's placement and mode (zero values
// are the defaults).
func (c *Cluster) Deploy(tb testing.TB, path string, req api.DeployRequest) *workflow.Workflow {
	tb.Helper()
	wf, err := workflow.LoadFile(path)
	if err != nil {
		tb.Fatalf("load %s: %v", path, err)
	}
	req.Workflow = wf
	c.DeployWorkflow(tb, &req)
	return wf
}

// buildCache is shared by every cluster of the test binary: building the
// same function twice is pointless.
var buildCache = filepath.Join(os.TempDir(), "faasflow-test-build")

// DeployWorkflow builds, uploads and deploys req.Workflow.
func (c *Cluster) DeployWorkflow(tb testing.TB, req *api.DeployRequest) {
	tb.Helper()
	ctx := context.Background()
	wf := req.Workflow
	arts, err := build.Workflow(ctx, wf, buildCache)
	if err != nil {
		tb.Fatalf("build %s: %v", wf.Name, err)
	}
	for sum, a := range arts {
		if err := c.Client.UploadArtifact(ctx, sum, a.Path); err != nil {
			tb.Fatal(err)
		}
	}
	if _, err := c.Client.Deploy(ctx, req); err != nil {
		tb.Fatalf("deploy %s: %v", wf.Name, err)
	}
}

// Invoke runs a workflow synchronously with the given inputs (JSON values).
func (c *Cluster) Invoke(tb testing.TB, name string, input map[string]string) *api.Invocation {
	tb.Helper()
	in := make(map[string]json.RawMessage, len(input))
	for k, v := range input {
		in[k] = json.RawMessage(v)
	}
	inv, err := c.Client.Invoke(context.Background(), name, &api.InvokeRequest{Input: in})
	if err != nil {
		tb.Fatalf("invoke %s: %v", name, err)
	}
	return inv
}

// LoadBound loads a workflow file that names no code (DataFlower's or
// FaaSFlow v1's) and binds its functions with a bindings file.
func LoadBound(tb testing.TB, file, bindings string) *workflow.Workflow {
	tb.Helper()
	wf, err := workflow.LoadFile(file)
	if err != nil {
		tb.Fatal(err)
	}
	b, err := workflow.LoadBindings(bindings)
	if err != nil {
		tb.Fatal(err)
	}
	if err := wf.Bind(b); err != nil {
		tb.Fatal(err)
	}
	return wf
}
