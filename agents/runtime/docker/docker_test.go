package docker_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"

	"github.com/faasflow/faasflow-go/agents/runtime"
	"github.com/faasflow/faasflow-go/agents/runtime/docker"
	"github.com/faasflow/faasflow-go/agents/runtime/runtimetest"
	"github.com/faasflow/faasflow-go/fn/protocol"
	"github.com/faasflow/faasflow-go/internal/services"
)

// binDir holds the function programs built by TestMain, one per name.
var binDir string

func TestMain(m *testing.M) { os.Exit(runtimetest.Main(m, &binDir)) }

// dockerHost returns the test daemon's address, or skips the test.
func dockerHost(tb testing.TB) string { return services.Docker(tb) }

// testClient is the test's own client, to look at and kill containers.
func testClient(tb testing.TB) *client.Client {
	cli, err := client.NewClientWithOpts(client.WithHost(dockerHost(tb)), client.WithAPIVersionNegotiation())
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cli.Close() })
	return cli
}

// uniqueName returns prefix with a random suffix, for cluster labels that
// no other test uses.
func uniqueName(prefix string) string {
	var b [4]byte
	rand.Read(b[:])
	return prefix + "-" + hex.EncodeToString(b[:])
}

// newBackend returns a backend labelling its containers with cluster and
// worker, closed when the test ends.
func newBackend(tb testing.TB, cluster, worker string) *docker.Backend {
	tb.Helper()
	b, err := docker.New(context.Background(), docker.Config{Host: dockerHost(tb), Cluster: cluster, Worker: worker}, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatalf("docker.New: %v", err)
	}
	tb.Cleanup(func() {
		if err := b.Close(); err != nil {
			tb.Errorf("Close: %v", err)
		}
	})
	return b
}

// newPool returns a pool on backend that is closed when the test ends.
func newPool(tb testing.TB, cfg runtime.PoolConfig, backend runtime.Backend) *runtime.Pool {
	// t.TempDir paths can overflow the 108-byte limit of a Unix socket path.
	dir, err := os.MkdirTemp("", "rt")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	cfg.SocketPath = filepath.Join(dir, "agent.sock")
	p, err := runtime.NewPool(cfg, backend, slog.New(slog.DiscardHandler))
	if err != nil {
		tb.Fatalf("NewPool: %v", err)
	}
	tb.Cleanup(p.Close)
	return p
}

// running lists the IDs of the running containers with all these labels
// (key=value), sorted.
func running(tb testing.TB, cli *client.Client, labels ...string) []string {
	args := filters.NewArgs(filters.Arg("status", "running"))
	for _, l := range labels {
		args.Add("label", l)
	}
	list, err := cli.ContainerList(context.Background(), container.ListOptions{Filters: args})
	if err != nil {
		tb.Errorf("list containers: %v", err)
		return nil
	}
	var ids []string
	for _, c := range list {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return ids
}

func TestDockerRuntimeContract(t *testing.T) {
	cli := testClient(t)
	cluster := uniqueName("contract")
	b := newBackend(t, cluster, "w0")
	runtimetest.Run(t, runtimetest.Harness{
		Programs: binDir,
		NewPool: func(tb testing.TB, cfg runtime.PoolConfig) *runtime.Pool {
			return newPool(tb, cfg, b)
		},
		Instances: func(t *testing.T, spec runtime.Spec) []string {
			return running(t, cli, docker.LabelCluster+"="+cluster, docker.LabelFunction+"="+spec.Function)
		},
		Kill: func(t *testing.T, id string) {
			if err := cli.ContainerKill(context.Background(), id, "KILL"); err != nil {
				t.Fatalf("docker kill: %v", err)
			}
		},
	})
}

// TestContainerKilledMidRun: a container killed from outside (docker kill)
// fails its run well within the run's timeout, and the next run succeeds.
func TestContainerKilledMidRun(t *testing.T) {
	cli := testClient(t)
	cluster := uniqueName("killed")
	p := newPool(t, runtime.PoolConfig{}, newBackend(t, cluster, "w0"))
	spec := runtimetest.Spec(binDir, "sleep", 1)
	runtimetest.MustRun(t, p, spec, runtimetest.NewJob("sleep", "seconds", []byte("0")))
	ids := running(t, cli, docker.LabelCluster+"="+cluster)
	if len(ids) != 1 {
		t.Fatalf("containers: got %v, want one", ids)
	}

	const timeout = 30 * time.Second
	started := make(chan struct{})
	var once sync.Once
	j := runtimetest.NewJob("sleep", "seconds", nil).Stored("seconds", func(string) ([]byte, error) {
		once.Do(func() { close(started) }) // the run is under way
		return []byte("60"), nil
	})
	j.Call.Deadline = time.Now().Add(timeout)
	resc := make(chan runtime.Result, 1)
	go func() { resc <- runtimetest.Execute(t, p, spec, j) }()
	select {
	case <-started:
	case res := <-resc:
		t.Fatalf("run ended before the function asked for its input: %+v", res)
	}
	t0 := time.Now()
	if err := cli.ContainerKill(context.Background(), ids[0], "KILL"); err != nil {
		t.Fatalf("docker kill: %v", err)
	}
	res := <-resc
	took := time.Since(t0)
	if res.Err == nil || errors.Is(res.Err, runtime.ErrTimeout) || !strings.Contains(res.Err.Error(), "died") {
		t.Fatalf("Result.Err = %v, want one saying the instance died (not a timeout)", res.Err)
	}
	if took > timeout/2 {
		t.Errorf("the run failed %v after the kill, want well within its %v timeout", took, timeout)
	}
	t.Logf("run failed %v after docker kill: %v", took.Round(time.Millisecond), res.Err)

	next := runtimetest.MustRun(t, p, spec, runtimetest.NewJob("sleep", "seconds", []byte("0")))
	if !next.ColdStart {
		t.Errorf("next run: ColdStart false, want a new container")
	}
	runtimetest.WaitFor(t, "the killed container to be removed", func() bool {
		_, err := cli.ContainerInspect(context.Background(), ids[0])
		return cerrdefs.IsNotFound(err)
	})
}

// TestOnlyOurContainersAreRemoved: New removes this worker's leftover
// containers and Close its own, but containers of other workers, other
// clusters or without our labels survive both.
func TestOnlyOurContainersAreRemoved(t *testing.T) {
	cli := testClient(t)
	ctx := context.Background()
	cluster, worker := uniqueName("owned"), "w0"
	testLabel := uniqueName("foreign")

	// A first backend leaves a container behind, as a crashed worker would.
	first := newBackend(t, cluster, worker)
	sock := listenSocket(t)
	env := []string{protocol.EnvSocket + "=" + sock, protocol.EnvInstance + "=left", protocol.EnvToken + "=x"}
	leftover, err := first.Start(ctx, runtimetest.Spec(binDir, "mute", 1), env)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	defer leftover.Kill()
	ours := running(t, cli, docker.LabelCluster+"="+cluster, docker.LabelWorker+"="+worker)
	if len(ours) != 1 {
		t.Fatalf("our containers: got %v, want the leftover", ours)
	}
	info, err := cli.ContainerInspect(ctx, ours[0])
	if err != nil {
		t.Fatal(err)
	}

	// Containers from the same image that are not ours.
	foreign := map[string]map[string]string{
		"unlabelled":    {},
		"other worker":  {docker.LabelCluster: cluster, docker.LabelWorker: "w1"},
		"other cluster": {docker.LabelCluster: uniqueName("other"), docker.LabelWorker: worker},
	}
	foreignIDs := map[string]string{}
	for name, labels := range foreign {
		labels["faasflow.test"] = testLabel
		c, err := cli.ContainerCreate(ctx, &container.Config{Image: info.Config.Image, Labels: labels, NetworkDisabled: true},
			&container.HostConfig{NetworkMode: network.NetworkNone}, nil, nil, "")
		if err != nil {
			t.Fatalf("create the %s container: %v", name, err)
		}
		t.Cleanup(func() { cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true}) })
		if err := cli.ContainerStart(ctx, c.ID, container.StartOptions{}); err != nil {
			t.Fatalf("start the %s container: %v", name, err)
		}
		foreignIDs[name] = c.ID
	}
	checkForeign := func(when string) {
		t.Helper()
		alive := running(t, cli, "faasflow.test="+testLabel)
		for name, id := range foreignIDs {
			if !slices.Contains(alive, id) {
				t.Errorf("%s: the %s container is gone, want it left alone", when, name)
			}
		}
	}

	second := newBackend(t, cluster, worker)
	select {
	case <-leftover.Exited():
	case <-time.After(30 * time.Second):
		t.Fatal("the leftover container still runs 30 s after New")
	}
	if got := running(t, cli, docker.LabelCluster+"="+cluster, docker.LabelWorker+"="+worker); len(got) != 0 {
		t.Errorf("our containers after New: got %v, want the leftover removed", got)
	}
	checkForeign("after New")

	env[1] = protocol.EnvInstance + "=mine"
	if _, err := second.Start(ctx, runtimetest.Spec(binDir, "mute", 1), env); err != nil {
		t.Fatalf("Start: %v", err)
	}
	if err := second.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	all, err := cli.ContainerList(ctx, container.ListOptions{All: true, Filters: filters.NewArgs(
		filters.Arg("label", docker.LabelCluster+"="+cluster), filters.Arg("label", docker.LabelWorker+"="+worker))})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		if c.Labels["faasflow.test"] == "" {
			t.Errorf("container %s %v of this worker is left after Close, want it removed", c.ID, c.Names)
		}
	}
	checkForeign("after Close")
}

// TestContainerSettings: a container runs with no network, the function's
// limits, our labels and only the agent's socket mounted.
func TestContainerSettings(t *testing.T) {
	cli := testClient(t)
	cluster := uniqueName("settings")
	p := newPool(t, runtime.PoolConfig{}, newBackend(t, cluster, "w0"))
	spec := runtimetest.Spec(binDir, "noop", 1)
	spec.CPU, spec.MemoryMB = 0.5, 64
	runtimetest.MustRun(t, p, spec, runtimetest.NewJob("noop", "in", []byte("1")))
	ids := running(t, cli, docker.LabelCluster+"="+cluster)
	if len(ids) != 1 {
		t.Fatalf("containers: got %v, want one", ids)
	}
	info, err := cli.ContainerInspect(context.Background(), ids[0])
	if err != nil {
		t.Fatal(err)
	}
	hc := info.HostConfig
	if hc.NetworkMode != network.NetworkNone {
		t.Errorf("network mode %q, want none", hc.NetworkMode)
	}
	if hc.NanoCPUs != 5e8 {
		t.Errorf("NanoCPUs %d, want 5e8 (cpu 0.5)", hc.NanoCPUs)
	}
	if hc.Memory != 64<<20 {
		t.Errorf("memory limit %d, want 64 MiB", hc.Memory)
	}
	if !hc.ReadonlyRootfs {
		t.Errorf("root file system writable, want read-only")
	}
	if got := info.Config.Labels[docker.LabelWorker]; got != "w0" {
		t.Errorf("label %s = %q, want w0", docker.LabelWorker, got)
	}
	if len(info.Mounts) != 1 || filepath.Base(info.Mounts[0].Source) != "agent.sock" || info.Mounts[0].RW {
		t.Errorf("mounts: %+v, want the agent's socket alone, read-only", info.Mounts)
	}
}

// TestMemoryLimitKills: a function over its memory limit dies, and the
// error says so.
func TestMemoryLimitKills(t *testing.T) {
	p := newPool(t, runtime.PoolConfig{}, newBackend(t, uniqueName("oom"), "w0"))
	spec := runtimetest.Spec(binDir, "noop", 1)
	spec.MemoryMB = 8
	// noop holds its input and output: 64 MiB is far over 8 MiB.
	res := runtimetest.Execute(t, p, spec, runtimetest.NewJob("noop", "in", make([]byte, 64<<20)))
	if res.Err == nil {
		t.Fatal("run with 64 MiB under an 8 MiB limit succeeded")
	}
	t.Logf("error: %v", res.Err)
	if !strings.Contains(res.Err.Error(), "out of memory") {
		t.Errorf("error %q does not say the function ran out of memory", res.Err)
	}
}

func TestDynamicExecutableIsRefused(t *testing.T) {
	p := newPool(t, runtime.PoolConfig{}, newBackend(t, uniqueName("dynamic"), "w0"))
	spec := runtime.Spec{Key: "true", Function: "true", Executable: "/bin/true", Runtime: "exec"}
	res := runtimetest.Execute(t, p, spec, runtimetest.NewJob("true", "in", nil))
	if res.Err == nil || !strings.Contains(res.Err.Error(), "dynamically linked") || !strings.Contains(res.Err.Error(), "CGO_ENABLED=0") {
		t.Errorf("Result.Err = %v, want one saying the program is dynamically linked and how to build it static", res.Err)
	}
}

func TestNoDaemon(t *testing.T) {
	_, err := docker.New(context.Background(), docker.Config{Host: "unix:///nonexistent/docker.sock", Cluster: "c", Worker: "w"}, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "docker.sh start") {
		t.Errorf("New with no daemon: %v, want an error saying how to start one", err)
	}
}

// listenSocket returns the path of a Unix socket that accepts and drops
// connections, for containers started without a pool.
func listenSocket(t *testing.T) string {
	dir, err := os.MkdirTemp("", "rt")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "agent.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	})
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		os.RemoveAll(dir)
	})
	return path
}
