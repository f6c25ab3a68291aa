package runtime_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/agents/runtime"
	"github.com/faasflow/faasflow-go/agents/runtime/runtimetest"
)

// binDir holds the function programs built by TestMain, one per name.
var binDir string

func TestMain(m *testing.M) { os.Exit(runtimetest.Main(m, &binDir)) }

func TestProcessRuntimeContract(t *testing.T) {
	runtimetest.Run(t, runtimetest.Harness{
		Programs: binDir,
		NewPool: func(tb testing.TB, cfg runtime.PoolConfig) *runtime.Pool {
			return newPool(tb, cfg, runtime.ProcessBackend{})
		},
		Instances: func(t *testing.T, spec runtime.Spec) []string {
			var ids []string
			for _, pid := range instancePIDs(t, spec.Executable) {
				ids = append(ids, strconv.Itoa(pid))
			}
			return ids
		},
		Kill: func(t *testing.T, id string) {
			pid, _ := strconv.Atoi(id)
			if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		},
	})
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

// gatedBackend starts process instances once its gate is opened, so a
// test can act while an instance is starting.
type gatedBackend struct {
	gate    chan struct{}
	started chan struct{} // receives one value per Start call, before the gate
}

func newGatedBackend() *gatedBackend {
	return &gatedBackend{gate: make(chan struct{}), started: make(chan struct{}, 16)}
}

func (g *gatedBackend) Start(ctx context.Context, spec runtime.Spec, env []string) (runtime.Process, error) {
	g.started <- struct{}{}
	select {
	case <-g.gate:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return runtime.ProcessBackend{}.Start(ctx, spec, env)
}

func TestPrewarm(t *testing.T) {
	spec := func(max int) runtime.Spec { return runtimetest.Spec(binDir, "noop", max) }
	t.Run("run during a prewarm waits for the prewarmed instance", func(t *testing.T) {
		g := newGatedBackend()
		p := newPool(t, runtime.PoolConfig{}, g)
		s := spec(4)
		p.Prewarm(s)
		<-g.started
		resc := make(chan runtime.Result, 1)
		go func() { resc <- runtimetest.Execute(t, p, s, runtimetest.NewJob("noop", "in", []byte("1"))) }()
		time.Sleep(100 * time.Millisecond) // let the run find the prewarm in flight
		select {
		case <-g.started:
			t.Fatal("the run started an instance of its own while one was being prewarmed")
		default:
		}
		close(g.gate)
		res := <-resc
		if res.Err != nil {
			t.Fatalf("run: %v", res.Err)
		}
		if res.ColdStart {
			t.Errorf("ColdStart true, want false: the run took the prewarmed instance")
		}
		if res.Queued < 100*time.Millisecond {
			t.Errorf("Queued %v, want at least the 100 ms it waited for the prewarmed instance", res.Queued)
		}
		if got, want := p.Stats()[s.Key], [2]int{1, 1}; got != want {
			t.Errorf("Stats: got %v (total, idle), want %v", got, want)
		}
	})
	t.Run("second run during a prewarm starts its own instance", func(t *testing.T) {
		g := newGatedBackend()
		p := newPool(t, runtime.PoolConfig{}, g)
		s := spec(4)
		p.Prewarm(s)
		<-g.started
		results := make(chan runtime.Result, 2)
		for i := range 2 {
			go func() { results <- runtimetest.Execute(t, p, s, runtimetest.NewJob("noop", "in", fmt.Append(nil, i))) }()
		}
		<-g.started // the second run does not wait for the one prewarmed instance
		close(g.gate)
		cold := 0
		for range 2 {
			res := <-results
			if res.Err != nil {
				t.Fatalf("run: %v", res.Err)
			}
			if res.ColdStart {
				cold++
			}
		}
		if cold != 1 {
			t.Errorf("cold starts: got %d, want 1 (one run took the prewarmed instance)", cold)
		}
	})
	t.Run("no prewarm while an instance is starting", func(t *testing.T) {
		g := newGatedBackend()
		p := newPool(t, runtime.PoolConfig{}, g)
		s := spec(4)
		p.Prewarm(s)
		<-g.started
		p.Prewarm(s)
		if got, want := p.Stats()[s.Key], [2]int{1, 0}; got != want {
			t.Errorf("Stats after two Prewarms: got %v (total, idle), want %v", got, want)
		}
		close(g.gate)
		runtimetest.WaitFor(t, "the prewarmed instance to be idle", func() bool { return p.Stats()[s.Key] == [2]int{1, 1} })
	})
	t.Run("no prewarm at the cap", func(t *testing.T) {
		p := newPool(t, runtime.PoolConfig{}, runtime.ProcessBackend{})
		s := runtimetest.Spec(binDir, "sleep", 1)
		resc := make(chan runtime.Result, 1)
		go func() { resc <- runtimetest.Execute(t, p, s, runtimetest.NewJob("sleep", "seconds", []byte("1"))) }()
		runtimetest.WaitFor(t, "the run to start", func() bool { return p.Stats()[s.Key] == [2]int{1, 0} })
		p.Prewarm(s)
		if got, want := p.Stats()[s.Key], [2]int{1, 0}; got != want {
			t.Errorf("Stats after Prewarm at the cap: got %v (total, idle), want %v", got, want)
		}
		if res := <-resc; res.Err != nil {
			t.Fatal(res.Err)
		}
	})
	t.Run("failed prewarm leaves no instance and logs", func(t *testing.T) {
		var logs syncBuffer
		dir, err := os.MkdirTemp("", "rt")
		if err != nil {
			t.Fatal(err)
		}
		defer os.RemoveAll(dir)
		p, err := runtime.NewPool(runtime.PoolConfig{SocketPath: filepath.Join(dir, "agent.sock")}, runtime.ProcessBackend{},
			slog.New(slog.NewTextHandler(&logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		s := runtimetest.Spec(binDir, "exitnow", 1)
		p.Prewarm(s)
		runtimetest.WaitFor(t, "the failed prewarm to be dropped", func() bool { return p.Stats()[s.Key] == [2]int{} })
		p.Close() // waits for the prewarm
		if !strings.Contains(logs.String(), "prewarm failed") {
			t.Errorf("log: %q, want a line saying the prewarm failed", logs.String())
		}
	})
	t.Run("close during a prewarm", func(t *testing.T) {
		g := newGatedBackend()
		p := newPool(t, runtime.PoolConfig{}, g)
		p.Prewarm(spec(1))
		<-g.started
		p.Close() // returns once the prewarm has given up
		p.Prewarm(spec(1))
		select {
		case <-g.started:
			t.Error("Prewarm after Close started an instance")
		default:
		}
	})
}

// syncBuffer is a bytes.Buffer safe for concurrent use.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(b []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(b)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

// instancePIDs lists the live child processes of the test running exe, in
// PID order.
func instancePIDs(t *testing.T, exe string) []int {
	want, err := filepath.EvalSymlinks(exe) // /proc shows /bin/sleep as /usr/bin/sleep
	if err != nil {
		want = exe
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Errorf("list processes: %v", err)
		return nil
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !alive(pid) {
			continue
		}
		if got, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid)); err == nil && got == want {
			pids = append(pids, pid)
		}
	}
	slices.Sort(pids)
	return pids
}

// alive reports whether pid is a child of the test that has not ended (a
// zombie has ended).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The command name may hold spaces and parentheses; the fields after
	// it are state and parent PID.
	fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	return len(fields) >= 2 && fields[0] != "Z" && fields[1] == strconv.Itoa(os.Getpid())
}

// TestOlderSDKInstance: an instance whose program was built by a faasflow
// from before the binary headers says hello in JSON. Its run fails at once
// (not after the start timeout) saying what to do, and no instance stays.
func TestOlderSDKInstance(t *testing.T) {
	p := newPool(t, runtime.PoolConfig{StartTimeout: time.Minute}, runtime.ProcessBackend{})
	s := runtimetest.Spec(binDir, "oldsdk", 1)
	start := time.Now()
	res := runtimetest.Execute(t, p, s, runtimetest.NewJob("oldsdk", "in", []byte("1")))
	if res.Err == nil || !strings.Contains(res.Err.Error(), "older version of the instance protocol") || !strings.Contains(res.Err.Error(), "deploy the workflow again") {
		t.Fatalf("run: %v, want an error saying the program speaks an older protocol and to deploy again", res.Err)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("the run failed after %s, want at once", took)
	}
	runtimetest.WaitFor(t, "no instance of oldsdk", func() bool { return p.Stats()[s.Key] == [2]int{} })
}
