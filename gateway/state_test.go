package gateway

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/api"
)

// openGateway starts a gateway on dir, served through httptest; stop
// closes it as a stopped process would leave it.
func openGateway(t *testing.T, dir string, cfg Config) (g *Gateway, srv *httptest.Server, stop func()) {
	t.Helper()
	cfg.Listen, cfg.DataDir = "127.0.0.1:0", dir
	g, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	g.ln.Close()
	srv = httptest.NewServer(g.Handler())
	stop = func() {
		srv.Close()
		g.Close()
	}
	t.Cleanup(stop)
	return g, srv, stop
}

func (w *fakeWorker) deploys() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.deployed)
}

// TestRestartKeepsState: a gateway started on the data directory of a
// stopped one has its workflows (same version, next deploy after it) and
// the invocations it remembered, with their results, small and large;
// one that was running comes back failed; the worker is given the
// workflow again when it registers, and a new invocation runs.
func TestRestartKeepsState(t *testing.T) {
	dir := t.TempDir()
	fw := newFakeWorker(t)
	ctx := context.Background()

	g1, srv1, stop1 := openGateway(t, dir, Config{})
	g1.registerWorker(api.RegisterWorker{ID: "w0", URL: fw.srv.URL})
	c1 := api.NewClient(srv1.URL)
	info, err := c1.Deploy(ctx, &api.DeployRequest{Workflow: parseWF(t, twoStep), MaxInflight: 7})
	if err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("y", 6000) // over memoryResultMax: stored in results/
	for _, id := range []string{"small", "large", "running"} {
		if _, err := c1.Invoke(ctx, "two", &api.InvokeRequest{RequestID: id, Async: true}); err != nil {
			t.Fatal(err)
		}
	}
	finish(t, srv1.URL, "small")
	for _, key := range []string{"answer", "extra"} {
		api.PostRaw(ctx, srv1.Client(), srv1.URL+"/v1/internal/reports", api.HeaderReport,
			api.Report{Invocation: "large", Kind: "result", From: "b", Key: key}, []byte(big))
	}
	waitFor(t, func() bool {
		inv := g1.lookup("large")
		inv.mu.Lock()
		defer inv.mu.Unlock()
		return inv.stored
	})
	stop1()

	g2, srv2, _ := openGateway(t, dir, Config{})
	c2 := api.NewClient(srv2.URL)
	wfs, err := c2.Workflows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(wfs) != 1 || wfs[0].Name != "two" || wfs[0].Version != info.Version || wfs[0].MaxInflight != 7 || wfs[0].Placement["a"] != "w0" {
		t.Fatalf("workflows after restart = %+v, want two, version %d, as deployed", wfs, info.Version)
	}
	tests := []struct {
		id, status, result, err string
	}{
		{id: "small", status: api.StatusSucceeded, result: `"ok"`},
		{id: "large", status: api.StatusSucceeded, result: `"` + big + `"`},
		{id: "running", status: api.StatusFailed, err: "the gateway stopped while this invocation ran"},
	}
	for _, tt := range tests {
		got, err := c2.Invocation(ctx, tt.id, 0)
		if err != nil {
			t.Fatalf("invocation %s after restart: %v", tt.id, err)
		}
		if got.Status != tt.status || string(got.Result["answer"]) != tt.result || !strings.Contains(got.Error, tt.err) {
			t.Errorf("invocation %s after restart = %s %q (result %.20s), want %s %q (result %.20s)", tt.id, got.Status, got.Error, got.Result["answer"], tt.status, tt.err, tt.result)
		}
	}
	if list, err := c2.Invocations(ctx, "two", "", 0); err != nil || len(list) != 3 || list[0].RequestID != "running" {
		t.Fatalf("invocation list after restart = %+v, %v; want the three, newest first", list, err)
	}

	// The worker registers with the new gateway and is given the workflow.
	before := len(fw.deploys())
	g2.registerWorker(api.RegisterWorker{ID: "w0", URL: fw.srv.URL})
	waitFor(t, func() bool { return len(fw.deploys()) == before+1 })
	if _, err := c2.Invoke(ctx, "two", &api.InvokeRequest{RequestID: "after", Async: true}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool {
		m, _ := fw.snapshot()
		return slices.ContainsFunc(m, func(m api.Message) bool { return m.Invocation == "after" })
	})
	finish(t, srv2.URL, "after")
	if got, err := c2.Invocation(ctx, "after", time.Second); err != nil || got.Status != api.StatusSucceeded {
		t.Fatalf("invocation after restart = %+v, %v", got, err)
	}
	again, err := c2.Deploy(ctx, &api.DeployRequest{Workflow: parseWF(t, twoStep)})
	if err != nil {
		t.Fatal(err)
	}
	if again.Version != info.Version+1 {
		t.Errorf("version after restart = %d, want %d (continuing from the saved one)", again.Version, info.Version+1)
	}
}

// TestRestartKeepLimit: a restarted gateway remembers at most Keep
// invocations, the newest, and removes the forgotten ones' result files.
func TestRestartKeepLimit(t *testing.T) {
	dir := t.TempDir()
	fw := newFakeWorker(t)
	ctx := context.Background()
	g1, srv1, stop1 := openGateway(t, dir, Config{})
	g1.registerWorker(api.RegisterWorker{ID: "w0", URL: fw.srv.URL})
	c1 := api.NewClient(srv1.URL)
	if _, err := c1.Deploy(ctx, &api.DeployRequest{Workflow: parseWF(t, twoStep)}); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("z", 6000)
	for _, id := range []string{"k1", "k2", "k3"} {
		if _, err := c1.Invoke(ctx, "two", &api.InvokeRequest{RequestID: id, Async: true}); err != nil {
			t.Fatal(err)
		}
		for _, key := range []string{"answer", "extra"} {
			api.PostRaw(ctx, srv1.Client(), srv1.URL+"/v1/internal/reports", api.HeaderReport,
				api.Report{Invocation: id, Kind: "result", From: "b", Key: key}, []byte(big))
		}
		waitFor(t, func() bool { _, err := os.Stat(g1.resultPath(id)); return err == nil })
	}
	stop1()

	g2, srv2, _ := openGateway(t, dir, Config{Keep: 2})
	list, err := api.NewClient(srv2.URL).Invocations(ctx, "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, inv := range list {
		ids = append(ids, inv.RequestID)
	}
	if !slices.Equal(ids, []string{"k3", "k2"}) {
		t.Fatalf("invocations after a restart with keep 2 = %v, want [k3 k2]", ids)
	}
	if _, err := os.Stat(g2.resultPath("k1")); !os.IsNotExist(err) {
		t.Errorf("result file of the forgotten k1: %v, want it removed", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "journal.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 2 {
		t.Errorf("journal has %d lines after the restart, want 2 (rewritten with what is remembered)", n)
	}
}

// TestWorkerRejoin: a worker that registers again from a new URL gets the
// deployments placed on it, with its new URL, and so do its peers; one
// that restarted at the same URL (a new start time) gets them too; a
// plain heartbeat pushes nothing.
func TestWorkerRejoin(t *testing.T) {
	g, srv, fakes := newTestGateway(t, 2)
	ctx := context.Background()
	if _, err := api.NewClient(srv.URL).Deploy(ctx, &api.DeployRequest{Workflow: parseWF(t, twoStep), Placement: "static", Table: map[string]string{"a": "w1", "b": "w0"}}); err != nil {
		t.Fatal(err)
	}
	g.registerWorker(api.RegisterWorker{ID: "w0", URL: fakes[0].srv.URL}) // heartbeat
	moved := newFakeWorker(t)
	g.registerWorker(api.RegisterWorker{ID: "w1", URL: moved.srv.URL})
	waitFor(t, func() bool { return len(moved.deploys()) == 1 && len(fakes[0].deploys()) == 2 })
	g.mu.Lock()
	d := g.workflows["two"]
	g.mu.Unlock()
	if got := d.dep.Workers["w1"]; got != moved.srv.URL {
		t.Fatalf("deployment has w1 at %s, want its new URL %s", got, moved.srv.URL)
	}
	b, err := os.ReadFile(g.workflowPath("two"))
	if err != nil || !strings.Contains(string(b), moved.srv.URL) {
		t.Fatalf("saved workflow does not have w1's new URL (%v)", err)
	}
	var saved savedWorkflow
	if err := json.Unmarshal(b, &saved); err != nil || saved.Deployment.Workers["w1"] != moved.srv.URL {
		t.Fatalf("saved workflow = %+v, %v", saved, err)
	}

	g.registerWorker(api.RegisterWorker{ID: "w0", URL: fakes[0].srv.URL, Started: time.Now()})
	waitFor(t, func() bool { return len(fakes[0].deploys()) == 3 })
	time.Sleep(50 * time.Millisecond)
	if n := len(moved.deploys()); n != 1 {
		t.Errorf("w1 got %d deploys after w0 restarted at the same URL, want still 1", n)
	}
}
