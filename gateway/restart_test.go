package gateway_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/agents/worker"
	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/build"
	"github.com/faasflow/faasflow-go/gateway"
	"github.com/faasflow/faasflow-go/workflow"
)

// runGateway serves a gateway on dir until the returned stop is called.
func runGateway(t *testing.T, listen, dir string, log *slog.Logger) (*gateway.Gateway, func()) {
	t.Helper()
	g, err := gateway.New(gateway.Config{Listen: listen, DataDir: dir, LostAfter: 10 * time.Second}, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		g.Run(ctx)
	}()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return g, stop
}

func waitWorkers(t *testing.T, c *api.Client, n int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got, err := c.Health(context.Background())
		if err == nil && got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d workers registered (%v)", got, n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestGatewayRestart stops a gateway with real workers running, starts a
// new one on the same address and data directory, and checks that the
// workflow and the finished invocation (with its result) are still there
// and that, once the workers have beaten again, the workflow runs.
func TestGatewayRestart(t *testing.T) {
	dir, err := os.MkdirTemp("", "gwrestart") // short: worker sockets live under it
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	synth, err := build.Go(ctx, filepath.Join("..", "cmd", "faasflow-synthetic"), filepath.Join(os.TempDir(), "faasflow-test-build"))
	if err != nil {
		t.Fatal(err)
	}

	gwDir := filepath.Join(dir, "gw")
	g1, stop1 := runGateway(t, "127.0.0.1:0", gwDir, log)
	addr := g1.Addr()
	wctx, stopWorkers := context.WithCancel(ctx)
	var wg sync.WaitGroup
	t.Cleanup(func() { stopWorkers(); wg.Wait() })
	// startWorker runs a worker until the returned stop is called.
	startWorker := func(id string) func() {
		w, err := worker.New(worker.Config{ID: id, Listen: "127.0.0.1:0", Gateway: "http://" + addr, DataDir: filepath.Join(dir, id),
			SyntheticBinary: synth.Path, Data: worker.DataConfig{Namespace: "restart-" + filepath.Base(dir)}}, log)
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(wctx)
		done := make(chan struct{})
		wg.Go(func() { defer close(done); w.Run(ctx) })
		return func() { stop(); <-done }
	}
	startWorker("worker-0")
	stopWorker1 := startWorker("worker-1")
	c := api.NewClient(g1.URL())
	waitWorkers(t, c, 2)
	wf, err := workflow.ParseNative([]byte(synthetic2), "synth2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Deploy(ctx, &api.DeployRequest{Workflow: wf})
	if err != nil {
		t.Fatal(err)
	}
	first, err := c.Invoke(ctx, "synth2", &api.InvokeRequest{RequestID: "before-restart"})
	if err != nil || first.Status != api.StatusSucceeded {
		t.Fatalf("invocation before the restart = %+v, %v", first, err)
	}

	stop1()
	_, _ = runGateway(t, addr, gwDir, log)
	wfs, err := c.Workflows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(wfs) != 1 || wfs[0].Name != "synth2" || wfs[0].Version != info.Version {
		t.Fatalf("workflows after the restart = %+v, want synth2 version %d", wfs, info.Version)
	}
	got, err := c.Invocation(ctx, "before-restart", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != api.StatusSucceeded || string(got.Result["out"]) != string(first.Result["out"]) || len(got.Result) == 0 {
		t.Fatalf("invocation after the restart = %+v, want %+v", got, first)
	}
	waitWorkers(t, c, 2)
	after, err := c.Invoke(ctx, "synth2", &api.InvokeRequest{RequestID: "after-restart"})
	if err != nil || after.Status != api.StatusSucceeded {
		t.Fatalf("invocation after the restart = %+v, %v", after, err)
	}

	// A worker restarted (before the gateway noticed it gone) has no
	// deployments and a new port: the gateway installs the workflow on it
	// again, with its new URL on its peers too.
	if wfs[0].Placement["b"] != "worker-1" && wfs[0].Placement["a"] != "worker-1" {
		t.Fatalf("placement %v does not use worker-1", wfs[0].Placement)
	}
	url1 := func() string {
		ws, _ := c.Workers(ctx)
		for _, w := range ws {
			if w.ID == "worker-1" {
				return w.URL
			}
		}
		return ""
	}
	old := url1()
	stopWorker1()
	startWorker("worker-1")
	deadline := time.Now().Add(15 * time.Second)
	for url1() == old {
		if time.Now().After(deadline) {
			t.Fatal("the restarted worker-1 did not register within 15s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The workflow is installed on it in the background: until then its
	// invocations fail at once ("not deployed on this worker").
	for {
		ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
		inv, err := c.Invoke(ictx, "synth2", &api.InvokeRequest{})
		cancel()
		if err == nil && inv.Status == api.StatusSucceeded {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("invocation after worker-1 restarted = %+v, %v", inv, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
