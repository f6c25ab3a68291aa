//go:build linux

package multihost_test

import (
	"context"
	"fmt"
	"net/http"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/internal/netns"
	"github.com/faasflow/faasflow-go/internal/testcluster"
)

var wordcountFile = filepath.Join("..", "..", "benchmarks", "wordcount", "workflow.yaml")

// TestMultihostWordcount runs the wordcount benchmark on a gateway and
// three workers on four hosts: deployed with the CLI (round-robin, so the
// data crosses hosts) and invoked with it, the result equal to a direct
// count.
func TestMultihostWordcount(t *testing.T) {
	c := startCluster(t, clusterOptions{})
	abs, err := filepath.Abs(wordcountFile)
	if err != nil {
		t.Fatal(err)
	}
	c.deploy(abs, "--placement", "round-robin")
	for _, seed := range []uint64{1, 2} {
		inv := c.invokeCLI("wordcount", fmt.Sprintf(`{"seed": %d}`, seed), time.Minute)
		if inv.Status != api.StatusSucceeded {
			t.Fatalf("wordcount seed %d: %s: %s", seed, inv.Status, inv.Error)
		}
		testcluster.CheckWordcount(t, inv, seed, "wordcount on 3 hosts")
		t.Logf("wordcount seed %d on 3 worker hosts: %.1f ms", seed, inv.Latency*1e3)
	}
	if c.token != "" {
		// Without the token the API refuses, across hosts as well.
		resp, err := c.net.HTTPClient("gw", 5*time.Second).Get(c.gwURL + "/v1/workers")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("GET /v1/workers without the API token: %s, want 401", resp.Status)
		}
	}
}

// killMidRun is the shared part of the worker-crash tests: it deploys the
// slow chain (its step b, slow seconds long, on worker-1) with the given
// deploy flags, starts an invocation, SIGKILLs worker-1's process while b
// runs, and measures when the gateway lists worker-1 as lost. It returns
// the request ID and the time of the kill, for the caller to check how
// the invocation ends.
//
// CHECKPOINT/RESTORE: TestMultihostWorkerKilledCheckpoint calls it with
// `--checkpoint`; further variants (a cut link with checkpoints, a kill of
// the worker running a or c) go beside it the same way.
func killMidRun(t *testing.T, c *cluster, name string, slow float64, deployFlags ...string) (id string, killed time.Time) {
	t.Helper()
	c.deploy(writeChain(t, name, slow), append(append([]string{}, chainPlacement...), deployFlags...)...)
	id = c.startRunning(name, "payload-"+name, 2*time.Second)
	victim := c.workers[1]
	killed = time.Now()
	if err := victim.Kill(); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed %s (pid %d) with SIGKILL while b of %s ran on it", victim.Name, victim.PID(), id)
	seen, ok := c.waitLost(workerID(1), true, 10*time.Second)
	if !ok {
		t.Fatalf("the gateway did not list %s as lost within 10s of its kill", workerID(1))
	}
	detect := seen.Sub(killed)
	t.Logf("RESULT kill: %s listed lost %s after SIGKILL (heartbeat limit %s)", workerID(1), detect.Round(time.Millisecond), lostAfter)
	if detect > lostLimit {
		t.Errorf("worker loss detected after %s, want within %s", detect.Round(time.Millisecond), lostLimit)
	}
	return id, killed
}

// TestMultihostWorkerKilled kills a worker's process while a long step
// runs on it: the gateway notices within 5 s, and the invocation fails
// with "worker lost" instead of hanging.
func TestMultihostWorkerKilled(t *testing.T) {
	c := startCluster(t, clusterOptions{})
	id, killed := killMidRun(t, c, "mh-kill", 10)
	inv, ended := c.awaitEnd(id, 15*time.Second)
	if inv == nil {
		t.Fatalf("invocation %s still running 15s after its worker was killed (a hang)", id)
	}
	t.Logf("RESULT kill: invocation %s ended %s after the kill: %s: %s", id, ended.Sub(killed).Round(time.Millisecond), inv.Status, inv.Error)
	if inv.Status != api.StatusFailed || !strings.Contains(inv.Error, "worker lost") {
		t.Fatalf("invocation %s = %s %q, want failed with an error containing \"worker lost\"", id, inv.Status, inv.Error)
	}
	if !strings.Contains(inv.Error, workerID(1)) {
		t.Errorf("the error %q does not name the lost worker %s", inv.Error, workerID(1))
	}
}

// TestMultihostWorkerKilledCheckpoint is the checkpoint/restore variant:
// deployed with `faasflow deploy --checkpoint`, the gateway places the
// killed worker's functions anew and resumes from the completed ones, so
// the invocation succeeds with the right result.
func TestMultihostWorkerKilledCheckpoint(t *testing.T) {
	c := startCluster(t, clusterOptions{})
	const slow = 4
	id, killed := killMidRun(t, c, "mh-ckpt", slow, "--checkpoint")
	inv, ended := c.awaitEnd(id, lostLimit+slow*time.Second+20*time.Second)
	if inv == nil {
		t.Fatalf("invocation %s (checkpointed) still running %s after its worker was killed", id, lostLimit+slow*time.Second+20*time.Second)
	}
	t.Logf("RESULT checkpoint: invocation %s ended %s after the kill: %s %s", id, ended.Sub(killed).Round(time.Millisecond), inv.Status, inv.Error)
	checkChain(t, inv, "payload-mh-ckpt")
}

// TestMultihostLinkCut cuts the link of the host of a worker running a long
// step: the gateway lists the worker lost within 5 s and fails the
// invocation with "worker lost"; once the link is back the worker rejoins
// and a new invocation through it succeeds.
func TestMultihostLinkCut(t *testing.T) {
	c := startCluster(t, clusterOptions{})
	c.deploy(writeChain(t, "mh-cut", 10), chainPlacement...)
	c.deploy(writeChain(t, "mh-fast", 0), chainPlacement...)
	checkChain(t, c.invokeCLI("mh-fast", `{"x": "before"}`, 30*time.Second), "before")

	id := c.startRunning("mh-cut", "payload-cut", 2*time.Second)
	cut := time.Now()
	if err := c.net.Cut(workerHost(1)); err != nil {
		t.Fatal(err)
	}
	restored := false
	restore := func() {
		if !restored {
			restored = true
			if err := c.net.Restore(workerHost(1)); err != nil {
				t.Error(err)
			}
		}
	}
	defer restore()
	t.Logf("cut the link of host %s (%s) while b of %s ran on it", workerHost(1), workerID(1), id)

	seen, ok := c.waitLost(workerID(1), true, 10*time.Second)
	if !ok {
		t.Fatalf("the gateway did not list %s as lost within 10s of the cut", workerID(1))
	}
	detect := seen.Sub(cut)
	t.Logf("RESULT cut: %s listed lost %s after its link was cut", workerID(1), detect.Round(time.Millisecond))
	if detect > lostLimit {
		t.Errorf("lost link detected after %s, want within %s", detect.Round(time.Millisecond), lostLimit)
	}
	inv, ended := c.awaitEnd(id, 15*time.Second)
	if inv == nil {
		t.Fatalf("invocation %s still running 15s after the cut (a hang)", id)
	}
	t.Logf("RESULT cut: invocation %s ended %s after the cut: %s: %s", id, ended.Sub(cut).Round(time.Millisecond), inv.Status, inv.Error)
	if inv.Status != api.StatusFailed || !strings.Contains(inv.Error, "worker lost") {
		t.Errorf("invocation %s = %s %q, want failed with an error containing \"worker lost\"", id, inv.Status, inv.Error)
	}

	back := time.Now()
	restore()
	seen, ok = c.waitLost(workerID(1), false, 15*time.Second)
	if !ok {
		t.Fatalf("%s did not rejoin within 15s of its link coming back", workerID(1))
	}
	t.Logf("RESULT cut: %s rejoined %s after its link came back", workerID(1), seen.Sub(back).Round(time.Millisecond))
	checkChain(t, c.invokeCLI("mh-fast", `{"x": "after"}`, 30*time.Second), "after")
}

// TestMultihostBadLinks delays and drops packets on every worker's link
// (20 ms, 2 % of the packets each host sends): wordcount still gives the
// right result; the test logs the latency against clean links.
func TestMultihostBadLinks(t *testing.T) {
	c := startCluster(t, clusterOptions{})
	abs, err := filepath.Abs(wordcountFile)
	if err != nil {
		t.Fatal(err)
	}
	c.deploy(abs, "--placement", "round-robin")
	const n = 5
	run := func(what string) []float64 {
		var ms []float64
		t0 := time.Now()
		defer func() { t.Logf("%d invocations on %s in %s", n, what, time.Since(t0).Round(time.Millisecond)) }()
		for i := range n {
			seed := uint64(10 + i)
			inv := c.invokeCLI("wordcount", fmt.Sprintf(`{"seed": %d}`, seed), 90*time.Second)
			if inv.Status != api.StatusSucceeded {
				t.Fatalf("wordcount seed %d (%s): %s: %s", seed, what, inv.Status, inv.Error)
			}
			testcluster.CheckWordcount(t, inv, seed, "wordcount, "+what)
			ms = append(ms, inv.Latency*1e3)
		}
		return ms
	}
	c.invokeCLI("wordcount", `{"seed": 9}`, 90*time.Second) // warm the instances
	clean := run("clean links")

	imp := netns.Impairment{Delay: 20 * time.Millisecond, Loss: 2}
	var how string
	for i := range c.workers {
		h, err := c.net.Impair(workerHost(i), imp)
		if err != nil {
			t.Fatal(err)
		}
		how = h
	}
	bad := run("bad links")
	for i := range c.workers {
		if d, ok := c.net.DelayStats(workerHost(i)); ok {
			t.Logf("%s: %d packets delayed", workerHost(i), d)
		}
	}
	for i := range c.workers {
		if w, err := c.workerState(workerID(i)); err != nil || w.Lost {
			t.Errorf("%s lost on bad links (%v)", workerID(i), err)
		}
	}
	p50 := func(v []float64) float64 {
		s := append([]float64(nil), v...)
		sort.Float64s(s)
		return s[len(s)/2]
	}
	t.Logf("RESULT bad links: %d invocations each, all right; wordcount p50 %.1f ms on clean links, %.1f ms with %s on each worker's egress (%s): +%.1f ms",
		n, p50(clean), p50(bad), imp, how, p50(bad)-p50(clean))
	t.Logf("latencies (ms): clean %.1f, bad %.1f", clean, bad)
}

// TestMultihostGatewayKilled SIGKILLs the gateway after a wordcount
// invocation and starts it again on the same data directory: the deployed
// workflow and the finished invocation, result included, are still there,
// the workers re-register by their heartbeats, and the workflow runs.
func TestMultihostGatewayKilled(t *testing.T) {
	c := startCluster(t, clusterOptions{})
	abs, err := filepath.Abs(wordcountFile)
	if err != nil {
		t.Fatal(err)
	}
	c.deploy(abs, "--placement", "round-robin")
	before := c.invokeCLI("wordcount", `{"seed": 3}`, time.Minute)
	if before.Status != api.StatusSucceeded {
		t.Fatalf("wordcount before the kill: %s: %s", before.Status, before.Error)
	}
	if err := c.gateway.Kill(); err != nil {
		t.Fatal(err)
	}
	c.startGateway("gateway-restarted")
	c.waitWorkers(3, 30*time.Second)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wfs, err := c.api.Workflows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(wfs) != 1 || wfs[0].Name != "wordcount" {
		t.Fatalf("workflows after the restart: %+v, want wordcount", wfs)
	}
	got, err := c.status(before.RequestID)
	if err != nil {
		t.Fatalf("invocation %s after the restart: %v", before.RequestID, err)
	}
	if got.Status != api.StatusSucceeded {
		t.Fatalf("invocation after the restart: %s: %s", got.Status, got.Error)
	}
	testcluster.CheckWordcount(t, got, 3, "result kept across a gateway kill")
	after := c.invokeCLI("wordcount", `{"seed": 4}`, time.Minute)
	if after.Status != api.StatusSucceeded {
		t.Fatalf("wordcount after the restart: %s: %s", after.Status, after.Error)
	}
	testcluster.CheckWordcount(t, after, 4, "wordcount after a gateway kill")
}
