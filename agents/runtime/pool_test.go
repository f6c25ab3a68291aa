package runtime_test

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/agents/runtime"
	"github.com/faasflow/faasflow-go/fn/protocol"
)

// binDir holds the function programs built by TestMain, one per name.
var binDir string

// programs are the function programs the tests run as instances.
var programs = map[string]string{
	"noop":  "github.com/faasflow/faasflow-go/benchmarks/chain/noop",   // copies input in to output out
	"sleep": "github.com/faasflow/faasflow-go/benchmarks/faults/sleep", // sleeps input seconds, ignores cancellation
	"panic": "github.com/faasflow/faasflow-go/benchmarks/faults/panic", // panics when input mode is "panic"
	"fail":  "github.com/faasflow/faasflow-go/benchmarks/faults/fail",  // fails with "deliberate failure"
	// copies in to out, but does not exit when the agent closes the connection
	"linger": "github.com/faasflow/faasflow-go/agents/runtime/testdata/linger",
}

func TestMain(m *testing.M) { os.Exit(testMain(m)) }

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "rtbin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// go build -o dir/ names each binary after the last element of its
	// import path, which is also its key in programs.
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, pkg := range programs {
		args = append(args, pkg)
	}
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build the test function programs: %v\n%s", err, out)
		return 1
	}
	binDir = dir
	return m.Run()
}

func TestProcessRuntimeContract(t *testing.T) {
	testRuntimeContract(t, func(t *testing.T, cfg runtime.PoolConfig) *runtime.Pool {
		// t.TempDir paths can overflow the 108-byte limit of a Unix socket path.
		dir, err := os.MkdirTemp("", "rt")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		cfg.SocketPath = filepath.Join(dir, "agent.sock")
		p, err := runtime.NewPool(cfg, runtime.ProcessBackend{}, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatalf("NewPool: %v", err)
		}
		t.Cleanup(p.Close)
		return p
	})
}

// testRuntimeContract is what every backend must do for the Pool, checked
// through what a worker sees: results, Stats and the instance processes.
// newPool returns a pool using the backend under test with cfg (it fills in
// the socket path) and closes it when the test ends.
//
// Instances are found as child processes of the test (see instancePIDs); a
// backend whose instances are not children will need its own way to list
// and kill them.
func testRuntimeContract(t *testing.T, newPool func(t *testing.T, cfg runtime.PoolConfig) *runtime.Pool) {
	tests := []struct {
		name string
		cfg  runtime.PoolConfig
		test func(t *testing.T, p *runtime.Pool)
	}{
		{name: "start and run", test: testStartAndRun},
		{name: "warm instance is reused", test: testReuse},
		{name: "last used instance is reused first", test: testLIFO},
		{name: "spare instance expires while the busy one stays warm", cfg: runtime.PoolConfig{KeepAlive: 3 * time.Second}, test: testLIFOExpiresSpare},
		{name: "max instances caps concurrent instances", test: testMaxInstances},
		{name: "timeout kills and replaces the instance", test: testTimeout},
		{name: "function error keeps the instance warm", test: testFunctionError},
		{name: "panic keeps the instance warm", test: testPanic},
		{name: "instance killed during a run", test: testKilledDuringRun},
		{name: "instance killed while idle", test: testKilledWhileIdle},
		{name: "stored inputs are fetched", test: testFetch},
		{name: "idle instance stops after keep-alive", cfg: runtime.PoolConfig{KeepAlive: 300 * time.Millisecond}, test: testKeepAlive},
		{name: "expired instance that does not exit is killed", cfg: runtime.PoolConfig{KeepAlive: 300 * time.Millisecond}, test: testKeepAliveLinger},
		{name: "close stops every instance", test: testClose},
		{name: "close stops instances it is retiring", cfg: runtime.PoolConfig{KeepAlive: 300 * time.Millisecond}, test: testCloseAfterExpiry},
		{name: "close stops instances still starting", cfg: runtime.PoolConfig{StartTimeout: time.Minute}, test: testCloseWhileStarting},
		{name: "program that never says hello", cfg: runtime.PoolConfig{StartTimeout: 500 * time.Millisecond}, test: testNoHello},
		{name: "program that exits at once", test: testExitsAtOnce},
		{name: "program that does not exist", test: testMissingProgram},
		{name: "output over the size limit", cfg: runtime.PoolConfig{MaxBody: 4 << 10}, test: testOutputTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.test(t, newPool(t, tt.cfg))
		})
	}
}

func testStartAndRun(t *testing.T, p *runtime.Pool) {
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i * 7)
	}
	inputs := []struct {
		name  string
		value []byte
	}{
		{name: "text", value: []byte(`{"hello":"world"}`)},
		{name: "empty", value: []byte{}},
		{name: "1 MiB of binary", value: big},
	}
	for _, in := range inputs {
		t.Run(in.name, func(t *testing.T) {
			spec := fnSpec("noop", 1)
			spec.Key += "/" + in.name // a pool of its own, so that each run starts an instance
			j := newJob("noop", "in", in.value)
			res := execute(t, p, spec, j)
			if res.Err != nil {
				t.Fatalf("Execute: %v", res.Err)
			}
			got, ok := j.output("out")
			if !ok {
				t.Fatalf("no output out; outputs: %v", j.outputNames())
			}
			if !bytes.Equal(got, in.value) {
				t.Errorf("out: got %d bytes, want the %d bytes of the input", len(got), len(in.value))
			}
			if res.Done.Run != j.call.Run.Run {
				t.Errorf("Done.Run: got %d, want %d", res.Done.Run, j.call.Run.Run)
			}
			if res.Done.StartNS <= 0 || res.Done.StartNS > res.Done.EndNS {
				t.Errorf("Done: st %d, ed %d; want 0 < st <= ed", res.Done.StartNS, res.Done.EndNS)
			}
			if !res.ColdStart {
				t.Errorf("ColdStart: got false for the first run of a function, want true")
			}
		})
	}
}

func testReuse(t *testing.T, p *runtime.Pool) {
	spec := fnSpec("noop", 4)
	first := mustRun(t, p, spec, newJob("noop", "in", []byte("1")))
	pids := instancePIDs(t, spec.Executable)
	second := mustRun(t, p, spec, newJob("noop", "in", []byte("2")))

	if !first.ColdStart || second.ColdStart {
		t.Errorf("ColdStart of two runs: got %v, %v; want true, false", first.ColdStart, second.ColdStart)
	}
	if got, want := p.Stats()[spec.Key], [2]int{1, 1}; got != want {
		t.Errorf("Stats: got %v (total, idle), want %v", got, want)
	}
	if got := instancePIDs(t, spec.Executable); len(pids) != 1 || !slices.Equal(got, pids) {
		t.Errorf("instance processes: got %v after the second run, want the same single one as after the first, %v", got, pids)
	}
}

func testLIFO(t *testing.T, p *runtime.Pool) {
	spec := fnSpec("noop", 2)
	startTwoInstances(t, p, spec)
	pids := instancePIDs(t, spec.Executable)
	for i := range 5 {
		res := mustRun(t, p, spec, newJob("noop", "in", []byte("again")))
		if res.ColdStart {
			t.Errorf("sequential run %d was a cold start, want a warm instance", i)
		}
	}
	if got, want := p.Stats()[spec.Key], [2]int{2, 2}; got != want {
		t.Errorf("Stats after sequential runs: got %v (total, idle), want %v", got, want)
	}
	if got := instancePIDs(t, spec.Executable); len(pids) != 2 || !slices.Equal(got, pids) {
		t.Errorf("instance processes: got %v, want the two started first, %v", got, pids)
	}
}

// testLIFOExpiresSpare checks what last-in-first-out is for: under a steady
// sequential load one instance serves every run, so the other idles out.
// (Round robin would keep both warm forever.)
func testLIFOExpiresSpare(t *testing.T, p *runtime.Pool) {
	spec := fnSpec("noop", 2)
	startTwoInstances(t, p, spec)
	deadline := time.Now().Add(30 * time.Second)
	for runs := 0; p.Stats()[spec.Key][0] != 1; runs++ {
		if time.Now().After(deadline) {
			t.Fatalf("after %d sequential runs the pool still has %v (total, idle), want the unused instance expired", runs, p.Stats()[spec.Key])
		}
		if res := mustRun(t, p, spec, newJob("noop", "in", []byte("x"))); res.ColdStart {
			// Only a stall longer than the keep-alive (3 s) between two runs
			// could let the busy instance expire.
			t.Fatalf("run %d was a cold start: the instance in use expired instead of the spare", runs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if res := mustRun(t, p, spec, newJob("noop", "in", []byte("x"))); res.ColdStart {
		t.Errorf("run after the spare expired was a cold start, want the warm instance")
	}
	if got := instancePIDs(t, spec.Executable); len(got) != 1 {
		t.Errorf("instance processes: got %v, want one", got)
	}
}

func testMaxInstances(t *testing.T, p *runtime.Pool) {
	spec := fnSpec("sleep", 1)
	const calls = 3
	const seconds = 0.2

	stop := make(chan struct{})
	var maxTotal, maxProcs atomic.Int64
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			maxTotal.Store(max(maxTotal.Load(), int64(p.Stats()[spec.Key][0])))
			maxProcs.Store(max(maxProcs.Load(), int64(len(instancePIDs(t, spec.Executable)))))
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()

	results := make([]runtime.Result, calls)
	jobs := make([]*job, calls)
	var wg sync.WaitGroup
	for i := range calls {
		jobs[i] = newJob("sleep", "seconds", fmt.Append(nil, seconds))
		wg.Go(func() { results[i] = execute(t, p, spec, jobs[i]) })
	}
	wg.Wait()
	close(stop)
	<-sampled

	cold := 0
	var maxQueued time.Duration
	for i, res := range results {
		if res.Err != nil {
			t.Errorf("call %d: %v", i, res.Err)
			continue
		}
		if got, _ := jobs[i].output("out"); string(got) != `"slept"` {
			t.Errorf("call %d: out = %q, want %q", i, got, `"slept"`)
		}
		if res.ColdStart {
			cold++
		}
		maxQueued = max(maxQueued, res.Queued)
	}
	if cold != 1 {
		t.Errorf("cold starts: got %d, want 1 (one instance serves all calls)", cold)
	}
	if got := maxTotal.Load(); got > 1 {
		t.Errorf("Stats showed %d instances at once, want at most 1", got)
	}
	if got := maxProcs.Load(); got > 1 {
		t.Errorf("%d instance processes ran at once, want at most 1", got)
	}
	// The last call to get the instance waited for at least one whole run.
	if want := time.Duration(seconds * float64(time.Second)); maxQueued < want {
		t.Errorf("longest Queued: got %v, want at least one run's %v", maxQueued, want)
	}
}

func testTimeout(t *testing.T, p *runtime.Pool) {
	spec := fnSpec("sleep", 1)
	mustRun(t, p, spec, newJob("sleep", "seconds", []byte("0")))
	old := instancePIDs(t, spec.Executable)

	j := newJob("sleep", "seconds", []byte("30"))
	j.call.Deadline = time.Now().Add(time.Second)
	t0 := time.Now()
	res := execute(t, p, spec, j)
	if took := time.Since(t0); took > 15*time.Second {
		t.Errorf("Execute returned after %v, want soon after the 1 s deadline (the function sleeps 30 s)", took)
	}
	if !errors.Is(res.Err, runtime.ErrTimeout) {
		t.Fatalf("Result.Err: got %v, want one wrapping ErrTimeout", res.Err)
	}
	waitFor(t, "the timed-out instance to end", func() bool { return !slices.ContainsFunc(old, alive) })

	next := mustRun(t, p, spec, newJob("sleep", "seconds", []byte("0")))
	if !next.ColdStart {
		t.Errorf("run after a timeout: ColdStart false, want a new instance")
	}
	if got, want := p.Stats()[spec.Key], [2]int{1, 1}; got != want {
		t.Errorf("Stats: got %v (total, idle), want %v", got, want)
	}
}

func testFunctionError(t *testing.T, p *runtime.Pool) {
	spec := fnSpec("fail", 1)
	for i, wantCold := range []bool{true, false} {
		res := execute(t, p, spec, newJob("fail", "in", []byte("{}")))
		if res.Err == nil || !strings.Contains(res.Err.Error(), "deliberate failure") {
			t.Errorf("run %d: Result.Err = %v, want the function's error %q", i, res.Err, "deliberate failure")
		}
		if res.Done.Panic {
			t.Errorf("run %d: Done.Panic true for a returned error", i)
		}
		if res.ColdStart != wantCold {
			t.Errorf("run %d: ColdStart %v, want %v", i, res.ColdStart, wantCold)
		}
	}
	if got, want := p.Stats()[spec.Key], [2]int{1, 1}; got != want {
		t.Errorf("Stats: got %v (total, idle), want %v", got, want)
	}
}

func testPanic(t *testing.T, p *runtime.Pool) {
	spec := fnSpec("panic", 1)
	res := execute(t, p, spec, newJob("panic", "mode", []byte(`"panic"`)))
	if res.Err == nil || !strings.Contains(res.Err.Error(), "panic") {
		t.Errorf("Result.Err = %v, want one mentioning the panic", res.Err)
	}
	if !res.Done.Panic {
		t.Errorf("Done.Panic false, want true")
	}

	j := newJob("panic", "mode", []byte(`"calm"`))
	next := mustRun(t, p, spec, j)
	if got, _ := j.output("out"); string(got) != `"calm"` {
		t.Errorf("out after a panic: got %q, want %q", got, `"calm"`)
	}
	if next.ColdStart {
		t.Errorf("run after a panic was a cold start, want the same warm instance")
	}
}

func testKilledDuringRun(t *testing.T, p *runtime.Pool) {
	spec := fnSpec("sleep", 1)
	started := make(chan struct{})
	var once sync.Once
	j := newJob("sleep", "seconds", nil).stored("seconds", func(string) ([]byte, error) {
		once.Do(func() { close(started) })
		return []byte("60"), nil
	})
	// The deadline is long, so a run that ends by timing out fails the test.
	j.call.Deadline = time.Now().Add(45 * time.Second)
	resc := make(chan runtime.Result, 1)
	go func() { resc <- execute(t, p, spec, j) }()

	select {
	case <-started:
	case res := <-resc:
		t.Fatalf("run ended before the function asked for its input: %+v", res)
	case <-time.After(30 * time.Second):
		t.Fatal("function never asked for its input")
	}
	pids := instancePIDs(t, spec.Executable)
	if len(pids) != 1 {
		t.Fatalf("instance processes: got %v, want one", pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now()
	res := <-resc
	if took := time.Since(t0); took > 20*time.Second {
		t.Errorf("Execute returned %v after the instance was killed, want promptly", took)
	}
	if res.Err == nil || !strings.Contains(res.Err.Error(), "died") || errors.Is(res.Err, runtime.ErrTimeout) {
		t.Fatalf("Result.Err = %v, want one saying the instance died", res.Err)
	}

	next := mustRun(t, p, spec, newJob("sleep", "seconds", []byte("0")))
	if !next.ColdStart {
		t.Errorf("run after the instance died: ColdStart false, want a new instance")
	}
	if got := instancePIDs(t, spec.Executable); len(got) != 1 || got[0] == pids[0] {
		t.Errorf("instance processes: got %v, want one other than the killed %d", got, pids[0])
	}
	if got, want := p.Stats()[spec.Key], [2]int{1, 1}; got != want {
		t.Errorf("Stats: got %v (total, idle), want %v", got, want)
	}
}

func testKilledWhileIdle(t *testing.T, p *runtime.Pool) {
	spec := fnSpec("noop", 1)
	mustRun(t, p, spec, newJob("noop", "in", []byte("1")))
	pids := instancePIDs(t, spec.Executable)
	if len(pids) != 1 {
		t.Fatalf("instance processes: got %v, want one", pids)
	}
	if err := syscall.Kill(pids[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the pool to drop its dead idle instance", func() bool { return p.Stats()[spec.Key][0] == 0 })

	// The next call must not be handed the dead instance.
	res := mustRun(t, p, spec, newJob("noop", "in", []byte("2")))
	if !res.ColdStart {
		t.Errorf("run after the idle instance died: ColdStart false, want a new instance")
	}
}

func testFetch(t *testing.T, p *runtime.Pool) {
	spec := fnSpec("noop", 1)
	stored := map[string][]byte{"big": bytes.Repeat([]byte("stored "), 100<<10)}
	fetch := func(key string) ([]byte, error) {
		if v, ok := stored[key]; ok {
			return v, nil
		}
		return nil, fmt.Errorf("value %s is gone", key)
	}
	tests := []struct {
		name    string
		key     string
		wantOut []byte
		wantErr string
	}{
		{name: "stored value", key: "big", wantOut: stored["big"]},
		{name: "missing value", key: "lost", wantErr: "value lost is gone"},
		{name: "stored value after a missing one", key: "big", wantOut: stored["big"]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := newJob("noop", "in", nil).stored(tt.key, fetch)
			res := execute(t, p, spec, j)
			if tt.wantErr != "" {
				if res.Err == nil || !strings.Contains(res.Err.Error(), tt.wantErr) {
					t.Errorf("Result.Err = %v, want one containing %q", res.Err, tt.wantErr)
				}
				return
			}
			if res.Err != nil {
				t.Fatalf("Execute: %v", res.Err)
			}
			if got, _ := j.output("out"); !bytes.Equal(got, tt.wantOut) {
				t.Errorf("out: got %d bytes, want the %d stored", len(got), len(tt.wantOut))
			}
		})
	}
	if got, want := p.Stats()[spec.Key], [2]int{1, 1}; got != want {
		t.Errorf("Stats: got %v (total, idle), want %v", got, want)
	}
}

func testKeepAlive(t *testing.T, p *runtime.Pool) {
	spec := fnSpec("noop", 1)
	mustRun(t, p, spec, newJob("noop", "in", []byte("1")))
	pids := instancePIDs(t, spec.Executable)
	waitFor(t, "the idle instance to be stopped", func() bool { return p.Stats()[spec.Key][0] == 0 })
	waitFor(t, "the idle instance's process to end", func() bool { return !slices.ContainsFunc(pids, alive) })

	if res := mustRun(t, p, spec, newJob("noop", "in", []byte("2"))); !res.ColdStart {
		t.Errorf("run after keep-alive: ColdStart false, want a new instance")
	}
}

func testClose(t *testing.T, p *runtime.Pool) {
	noop, sleep := fnSpec("noop", 1), fnSpec("sleep", 1)
	mustRun(t, p, noop, newJob("noop", "in", []byte("idle")))

	started := make(chan struct{})
	var once sync.Once
	busy := newJob("sleep", "seconds", nil).stored("seconds", func(string) ([]byte, error) {
		once.Do(func() { close(started) })
		return []byte("60"), nil
	})
	resc := make(chan runtime.Result, 1)
	go func() { resc <- execute(t, p, sleep, busy) }()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("busy function never asked for its input")
	}
	pids := append(instancePIDs(t, noop.Executable), instancePIDs(t, sleep.Executable)...)
	if len(pids) != 2 {
		t.Fatalf("instance processes: got %v, want an idle and a busy one", pids)
	}

	p.Close()
	// Close waits for the instances, so none may be left when it returns.
	if left := slices.DeleteFunc(slices.Clone(pids), func(pid int) bool { return !alive(pid) }); len(left) > 0 {
		t.Errorf("instance processes %v still run after Close, want none of %v", left, pids)
	}
	select {
	case res := <-resc:
		if res.Err == nil {
			t.Errorf("busy run: no error, want it to fail when the pool closes")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("busy run did not end after Close")
	}
	if res := execute(t, p, noop, newJob("noop", "in", []byte("late"))); res.Err == nil {
		t.Errorf("Execute after Close: no error, want one")
	}
}

func testKeepAliveLinger(t *testing.T, p *runtime.Pool) {
	spec := fnSpec("linger", 1)
	mustRun(t, p, spec, newJob("linger", "in", []byte("1")))
	pids := instancePIDs(t, spec.Executable)
	if len(pids) != 1 {
		t.Fatalf("instance processes: got %v, want one", pids)
	}
	waitFor(t, "the idle instance to expire", func() bool { return p.Stats()[spec.Key][0] == 0 })
	waitFor(t, "the lingering instance to be killed", func() bool { return !alive(pids[0]) })
}

func testCloseAfterExpiry(t *testing.T, p *runtime.Pool) {
	spec := fnSpec("linger", 1)
	mustRun(t, p, spec, newJob("linger", "in", []byte("1")))
	pids := instancePIDs(t, spec.Executable)
	if len(pids) != 1 {
		t.Fatalf("instance processes: got %v, want one", pids)
	}
	// The pool has let the instance go, but its process has not ended.
	waitFor(t, "the idle instance to expire", func() bool { return p.Stats()[spec.Key][0] == 0 })
	p.Close()
	if alive(pids[0]) {
		t.Errorf("expired instance %d still runs after Close, want Close to stop it", pids[0])
	}
}

func testCloseWhileStarting(t *testing.T, p *runtime.Pool) {
	spec := runtime.Spec{Key: "mute", Function: "mute", Executable: "/bin/sleep", Args: []string{"100"}}
	resc := make(chan runtime.Result, 1)
	go func() { resc <- execute(t, p, spec, newJob("mute", "in", nil)) }()
	var pids []int
	waitFor(t, "the program to start", func() bool {
		pids = instancePIDs(t, spec.Executable)
		return len(pids) > 0
	})
	p.Close()
	if left := slices.DeleteFunc(slices.Clone(pids), func(pid int) bool { return !alive(pid) }); len(left) > 0 {
		t.Errorf("starting instance %v still runs after Close, want Close to stop it", left)
	}
	select {
	case res := <-resc:
		if res.Err == nil {
			t.Errorf("Execute: no error, want one as the pool closed before the instance said hello")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Execute still waits for the instance's hello 30 s after Close (start timeout 1 min)")
	}
}

func testNoHello(t *testing.T, p *runtime.Pool) {
	spec := runtime.Spec{Key: "mute", Function: "mute", Executable: "/bin/sleep", Args: []string{"100"}}
	resc := make(chan runtime.Result, 1)
	go func() { resc <- execute(t, p, spec, newJob("mute", "in", nil)) }()
	var pids []int
	waitFor(t, "the program to start", func() bool {
		pids = instancePIDs(t, spec.Executable)
		return len(pids) > 0
	})
	res := <-resc
	if res.Err == nil || !strings.Contains(res.Err.Error(), "fn.Run") {
		t.Errorf("Result.Err = %v, want one asking whether the program calls fn.Run", res.Err)
	}
	waitFor(t, "the mute program to be killed", func() bool { return !slices.ContainsFunc(pids, alive) })
	if got := p.Stats()[spec.Key]; got != [2]int{} {
		t.Errorf("Stats: got %v (total, idle), want no instances", got)
	}
}

func testExitsAtOnce(t *testing.T, p *runtime.Pool) {
	spec := runtime.Spec{Key: "false", Function: "false", Executable: "/bin/false"}
	res := execute(t, p, spec, newJob("false", "in", nil))
	if res.Err == nil || !strings.Contains(res.Err.Error(), "exited before connecting") {
		t.Errorf("Result.Err = %v, want one saying the program exited before connecting", res.Err)
	}
	if got := p.Stats()[spec.Key]; got != [2]int{} {
		t.Errorf("Stats: got %v (total, idle), want no instances", got)
	}
}

func testMissingProgram(t *testing.T, p *runtime.Pool) {
	exe := filepath.Join(t.TempDir(), "no-such-program")
	spec := runtime.Spec{Key: "missing", Function: "missing", Executable: exe}
	res := execute(t, p, spec, newJob("missing", "in", nil))
	if res.Err == nil || !strings.Contains(res.Err.Error(), exe) {
		t.Errorf("Result.Err = %v, want one naming %s", res.Err, exe)
	}
	if got := p.Stats()[spec.Key]; got != [2]int{} {
		t.Errorf("Stats: got %v (total, idle), want no instances", got)
	}
}

// startTwoInstances runs two noop calls that each wait in Fetch until both
// are running, so the pool must start two instances.
func startTwoInstances(t *testing.T, p *runtime.Pool, spec runtime.Spec) {
	t.Helper()
	var arrived sync.WaitGroup
	arrived.Add(2)
	both := make(chan struct{})
	go func() { arrived.Wait(); close(both) }()
	fetch := func(string) ([]byte, error) {
		arrived.Done()
		select {
		case <-both:
			return []byte("together"), nil
		case <-time.After(30 * time.Second):
			return nil, errors.New("the other run never started: the two runs did not overlap")
		}
	}
	results := make([]runtime.Result, 2)
	var wg sync.WaitGroup
	for i := range results {
		j := newJob("noop", "in", nil).stored("k", fetch)
		wg.Go(func() { results[i] = execute(t, p, spec, j) })
	}
	wg.Wait()
	for i, res := range results {
		if res.Err != nil {
			t.Fatalf("concurrent run %d: %v", i, res.Err)
		}
		if !res.ColdStart {
			t.Errorf("concurrent run %d: ColdStart false, want each on a new instance", i)
		}
	}
	if got, want := p.Stats()[spec.Key], [2]int{2, 2}; got != want {
		t.Fatalf("Stats after two concurrent runs: got %v (total, idle), want %v", got, want)
	}
}

// fnSpec returns the spec of one of the built function programs.
func fnSpec(name string, maxInstances int) runtime.Spec {
	return runtime.Spec{Key: name, Function: name, Executable: filepath.Join(binDir, name), MaxInstances: maxInstances}
}

// job is a Call built by hand, with the outputs it received.
type job struct {
	call runtime.Call

	mu      sync.Mutex
	outputs map[string][]byte
}

var lastRunID atomic.Uint64

// newJob returns a run of function with one inline input and one output, out.
func newJob(function, input string, value []byte) *job {
	j := &job{outputs: map[string][]byte{}}
	j.call = runtime.Call{
		Run: protocol.Run{
			Run: lastRunID.Add(1), Invocation: "inv", Function: function, Index: -1,
			Inputs:  []protocol.Input{{Name: input, Value: &protocol.Datum{Off: 0, Len: len(value)}}},
			Outputs: []protocol.OutSpec{{Name: "out"}},
		},
		Body: value,
		OnOutput: func(name string, data []byte) {
			j.mu.Lock()
			defer j.mu.Unlock()
			j.outputs[name] = data
		},
		Fetch: func(key string) ([]byte, error) { return nil, fmt.Errorf("no value stored under %s", key) },
	}
	return j
}

// stored turns the job's input into a stored value under key, served by fetch.
func (j *job) stored(key string, fetch func(key string) ([]byte, error)) *job {
	j.call.Run.Inputs[0].Value = &protocol.Datum{Key: key}
	j.call.Body = nil
	j.call.Fetch = fetch
	return j
}

func (j *job) output(name string) ([]byte, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	v, ok := j.outputs[name]
	return v, ok
}

func (j *job) outputNames() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Sorted(maps.Keys(j.outputs))
}

// execute runs j on p, with a minute's deadline unless j has one.
func execute(t *testing.T, p *runtime.Pool, spec runtime.Spec, j *job) runtime.Result {
	if j.call.Deadline.IsZero() {
		j.call.Deadline = time.Now().Add(time.Minute)
	}
	return p.Execute(t.Context(), spec, &j.call)
}

// mustRun runs j and fails the test unless it succeeds.
func mustRun(t *testing.T, p *runtime.Pool, spec runtime.Spec, j *job) runtime.Result {
	t.Helper()
	res := execute(t, p, spec, j)
	if res.Err != nil {
		t.Fatalf("run of %s: %v", spec.Function, res.Err)
	}
	return res
}

// waitFor polls cond until it holds, failing the test after a generous bound.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
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

// testOutputTooLarge: an output bigger than the agent accepts fails the run
// with an error that says so, and the next run works on a new instance.
func testOutputTooLarge(t *testing.T, p *runtime.Pool) {
	spec := fnSpec("noop", 1)
	res := execute(t, p, spec, newJob("noop", "in", make([]byte, 64<<10)))
	if res.Err == nil || !strings.Contains(res.Err.Error(), "too large") || !strings.Contains(res.Err.Error(), "--max-body") {
		t.Fatalf("Err = %v, want one saying the output is too large and how to allow it", res.Err)
	}
	if res := execute(t, p, spec, newJob("noop", "in", []byte("small"))); res.Err != nil {
		t.Fatalf("next run: %v", res.Err)
	}
}
