package runtimetest

import (
	"bytes"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/agents/runtime"
)

// Harness is how the contract drives and observes one backend.
type Harness struct {
	// Programs is the directory of the programs built by BuildPrograms.
	Programs string
	// NewPool returns a pool using the backend under test with cfg (it
	// fills in the socket path) and closes it when the test ends.
	NewPool func(tb testing.TB, cfg runtime.PoolConfig) *runtime.Pool
	// Instances lists the running instances of spec's program, sorted, each
	// by an ID that stays the same for the life of the instance (a PID, a
	// container ID).
	Instances func(t *testing.T, spec runtime.Spec) []string
	// Kill ends instance id at once, as a crash would.
	Kill func(t *testing.T, id string)
}

// Run checks the runtime contract: what every backend must do for the
// Pool, checked through what a worker sees: results, Stats and the
// instances the harness finds.
func Run(t *testing.T, h Harness) {
	c := &contract{h: h}
	tests := []struct {
		name string
		cfg  runtime.PoolConfig
		test func(t *testing.T, p *runtime.Pool)
	}{
		{name: "start and run", test: c.testStartAndRun},
		{name: "warm instance is reused", test: c.testReuse},
		{name: "last used instance is reused first", test: c.testLIFO},
		{name: "spare instance expires while the busy one stays warm", cfg: runtime.PoolConfig{KeepAlive: 3 * time.Second}, test: c.testLIFOExpiresSpare},
		{name: "max instances caps concurrent instances", test: c.testMaxInstances},
		{name: "timeout kills and replaces the instance", test: c.testTimeout},
		{name: "function error keeps the instance warm", test: c.testFunctionError},
		{name: "the end is told before Execute returns", test: c.testOnDone},
		{name: "panic keeps the instance warm", test: c.testPanic},
		{name: "instance killed during a run", test: c.testKilledDuringRun},
		{name: "instance killed while idle", test: c.testKilledWhileIdle},
		{name: "stored inputs are fetched", test: c.testFetch},
		{name: "idle instance stops after keep-alive", cfg: runtime.PoolConfig{KeepAlive: 300 * time.Millisecond}, test: c.testKeepAlive},
		{name: "expired instance that does not exit is killed", cfg: runtime.PoolConfig{KeepAlive: 300 * time.Millisecond}, test: c.testKeepAliveLinger},
		{name: "close stops every instance", test: c.testClose},
		{name: "close stops instances it is retiring", cfg: runtime.PoolConfig{KeepAlive: 300 * time.Millisecond}, test: c.testCloseAfterExpiry},
		{name: "close stops instances still starting", cfg: runtime.PoolConfig{StartTimeout: time.Minute}, test: c.testCloseWhileStarting},
		{name: "program that never says hello", cfg: runtime.PoolConfig{StartTimeout: 500 * time.Millisecond}, test: c.testNoHello},
		{name: "program that exits at once", test: c.testExitsAtOnce},
		{name: "program that does not exist", test: c.testMissingProgram},
		{name: "output over the size limit", cfg: runtime.PoolConfig{MaxBody: 4 << 10}, test: c.testOutputTooLarge},
		{name: "prewarm starts an instance ahead of the run", test: c.testPrewarm},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.test(t, h.NewPool(t, tt.cfg))
		})
	}
}

type contract struct{ h Harness }

func (c *contract) spec(name string, maxInstances int) runtime.Spec {
	return Spec(c.h.Programs, name, maxInstances)
}

// alive reports whether instance id of spec's program still runs.
func (c *contract) alive(t *testing.T, spec runtime.Spec) func(id string) bool {
	running := c.h.Instances(t, spec)
	return func(id string) bool { return slices.Contains(running, id) }
}

func (c *contract) testStartAndRun(t *testing.T, p *runtime.Pool) {
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
			spec := c.spec("noop", 1)
			spec.Key += "/" + in.name // a pool of its own, so that each run starts an instance
			j := NewJob("noop", "in", in.value)
			res := Execute(t, p, spec, j)
			if res.Err != nil {
				t.Fatalf("Execute: %v", res.Err)
			}
			got, ok := j.Output("out")
			if !ok {
				t.Fatalf("no output out; outputs: %v", j.OutputNames())
			}
			if !bytes.Equal(got, in.value) {
				t.Errorf("out: got %d bytes, want the %d bytes of the input", len(got), len(in.value))
			}
			if res.Done.Run != j.Call.Run.Run {
				t.Errorf("Done.Run: got %d, want %d", res.Done.Run, j.Call.Run.Run)
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

func (c *contract) testReuse(t *testing.T, p *runtime.Pool) {
	spec := c.spec("noop", 4)
	first := MustRun(t, p, spec, NewJob("noop", "in", []byte("1")))
	ids := c.h.Instances(t, spec)
	second := MustRun(t, p, spec, NewJob("noop", "in", []byte("2")))

	if !first.ColdStart || second.ColdStart {
		t.Errorf("ColdStart of two runs: got %v, %v; want true, false", first.ColdStart, second.ColdStart)
	}
	if got, want := p.Stats()[spec.Key], [2]int{1, 1}; got != want {
		t.Errorf("Stats: got %v (total, idle), want %v", got, want)
	}
	if got := c.h.Instances(t, spec); len(ids) != 1 || !slices.Equal(got, ids) {
		t.Errorf("instances: got %v after the second run, want the same single one as after the first, %v", got, ids)
	}
}

func (c *contract) testLIFO(t *testing.T, p *runtime.Pool) {
	spec := c.spec("noop", 2)
	startTwoInstances(t, p, spec)
	ids := c.h.Instances(t, spec)
	for i := range 5 {
		res := MustRun(t, p, spec, NewJob("noop", "in", []byte("again")))
		if res.ColdStart {
			t.Errorf("sequential run %d was a cold start, want a warm instance", i)
		}
	}
	if got, want := p.Stats()[spec.Key], [2]int{2, 2}; got != want {
		t.Errorf("Stats after sequential runs: got %v (total, idle), want %v", got, want)
	}
	if got := c.h.Instances(t, spec); len(ids) != 2 || !slices.Equal(got, ids) {
		t.Errorf("instances: got %v, want the two started first, %v", got, ids)
	}
}

// testLIFOExpiresSpare checks what last-in-first-out is for: under a steady
// sequential load one instance serves every run, so the other idles out.
// (Round robin would keep both warm forever.)
func (c *contract) testLIFOExpiresSpare(t *testing.T, p *runtime.Pool) {
	spec := c.spec("noop", 2)
	startTwoInstances(t, p, spec)
	deadline := time.Now().Add(30 * time.Second)
	for runs := 0; p.Stats()[spec.Key][0] != 1; runs++ {
		if time.Now().After(deadline) {
			t.Fatalf("after %d sequential runs the pool still has %v (total, idle), want the unused instance expired", runs, p.Stats()[spec.Key])
		}
		if res := MustRun(t, p, spec, NewJob("noop", "in", []byte("x"))); res.ColdStart {
			// Only a stall longer than the keep-alive (3 s) between two runs
			// could let the busy instance expire.
			t.Fatalf("run %d was a cold start: the instance in use expired instead of the spare", runs)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if res := MustRun(t, p, spec, NewJob("noop", "in", []byte("x"))); res.ColdStart {
		t.Errorf("run after the spare expired was a cold start, want the warm instance")
	}
	WaitFor(t, "the expired spare instance to end", func() bool { return len(c.h.Instances(t, spec)) == 1 })
}

func (c *contract) testMaxInstances(t *testing.T, p *runtime.Pool) {
	spec := c.spec("sleep", 1)
	const calls = 3
	const seconds = 0.2

	stop := make(chan struct{})
	var maxTotal, maxInstances atomic.Int64
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			maxTotal.Store(max(maxTotal.Load(), int64(p.Stats()[spec.Key][0])))
			maxInstances.Store(max(maxInstances.Load(), int64(len(c.h.Instances(t, spec)))))
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()

	results := make([]runtime.Result, calls)
	jobs := make([]*Job, calls)
	var wg sync.WaitGroup
	for i := range calls {
		jobs[i] = NewJob("sleep", "seconds", fmt.Append(nil, seconds))
		wg.Go(func() { results[i] = Execute(t, p, spec, jobs[i]) })
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
		if got, _ := jobs[i].Output("out"); string(got) != `"slept"` {
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
	if got := maxInstances.Load(); got > 1 {
		t.Errorf("%d instances ran at once, want at most 1", got)
	}
	// The last call to get the instance waited for at least one whole run.
	if want := time.Duration(seconds * float64(time.Second)); maxQueued < want {
		t.Errorf("longest Queued: got %v, want at least one run's %v", maxQueued, want)
	}
}

func (c *contract) testTimeout(t *testing.T, p *runtime.Pool) {
	spec := c.spec("sleep", 1)
	MustRun(t, p, spec, NewJob("sleep", "seconds", []byte("0")))
	old := c.h.Instances(t, spec)

	j := NewJob("sleep", "seconds", []byte("30"))
	j.Call.Deadline = time.Now().Add(time.Second)
	t0 := time.Now()
	res := Execute(t, p, spec, j)
	if took := time.Since(t0); took > 15*time.Second {
		t.Errorf("Execute returned after %v, want soon after the 1 s deadline (the function sleeps 30 s)", took)
	}
	if !errors.Is(res.Err, runtime.ErrTimeout) {
		t.Fatalf("Result.Err: got %v, want one wrapping ErrTimeout", res.Err)
	}
	WaitFor(t, "the timed-out instance to end", func() bool { return !slices.ContainsFunc(old, c.alive(t, spec)) })

	next := MustRun(t, p, spec, NewJob("sleep", "seconds", []byte("0")))
	if !next.ColdStart {
		t.Errorf("run after a timeout: ColdStart false, want a new instance")
	}
	if got, want := p.Stats()[spec.Key], [2]int{1, 1}; got != want {
		t.Errorf("Stats: got %v (total, idle), want %v", got, want)
	}
}

func (c *contract) testFunctionError(t *testing.T, p *runtime.Pool) {
	spec := c.spec("fail", 1)
	for i, wantCold := range []bool{true, false} {
		res := Execute(t, p, spec, NewJob("fail", "in", []byte("{}")))
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

func (c *contract) testOnDone(t *testing.T, p *runtime.Pool) {
	for _, tt := range []struct {
		function string
		wantOK   bool
	}{{"noop", true}, {"fail", false}} {
		j := NewJob(tt.function, "in", []byte("{}"))
		var calls []bool
		var outputs []string // posted when OnDone ran
		j.Call.OnDone = func(ok bool) {
			calls = append(calls, ok)
			outputs = j.OutputNames()
		}
		Execute(t, p, c.spec(tt.function, 1), j)
		if len(calls) != 1 || calls[0] != tt.wantOK {
			t.Errorf("%s: OnDone calls %v, want one with ok=%v", tt.function, calls, tt.wantOK)
		}
		if tt.wantOK && !slices.Equal(outputs, []string{"out"}) {
			t.Errorf("%s: outputs posted when OnDone ran: %v, want [out]", tt.function, outputs)
		}
	}
}

func (c *contract) testPanic(t *testing.T, p *runtime.Pool) {
	spec := c.spec("panic", 1)
	res := Execute(t, p, spec, NewJob("panic", "mode", []byte(`"panic"`)))
	if res.Err == nil || !strings.Contains(res.Err.Error(), "panic") {
		t.Errorf("Result.Err = %v, want one mentioning the panic", res.Err)
	}
	if !res.Done.Panic {
		t.Errorf("Done.Panic false, want true")
	}

	j := NewJob("panic", "mode", []byte(`"calm"`))
	next := MustRun(t, p, spec, j)
	if got, _ := j.Output("out"); string(got) != `"calm"` {
		t.Errorf("out after a panic: got %q, want %q", got, `"calm"`)
	}
	if next.ColdStart {
		t.Errorf("run after a panic was a cold start, want the same warm instance")
	}
}

func (c *contract) testKilledDuringRun(t *testing.T, p *runtime.Pool) {
	spec := c.spec("sleep", 1)
	started := make(chan struct{})
	var once sync.Once
	j := NewJob("sleep", "seconds", nil).Stored("seconds", func(string) ([]byte, error) {
		once.Do(func() { close(started) })
		return []byte("60"), nil
	})
	// The deadline is long, so a run that ends by timing out fails the test.
	j.Call.Deadline = time.Now().Add(45 * time.Second)
	resc := make(chan runtime.Result, 1)
	go func() { resc <- Execute(t, p, spec, j) }()

	select {
	case <-started:
	case res := <-resc:
		t.Fatalf("run ended before the function asked for its input: %+v", res)
	case <-time.After(30 * time.Second):
		t.Fatal("function never asked for its input")
	}
	ids := c.h.Instances(t, spec)
	if len(ids) != 1 {
		t.Fatalf("instances: got %v, want one", ids)
	}
	c.h.Kill(t, ids[0])
	t0 := time.Now()
	res := <-resc
	if took := time.Since(t0); took > 20*time.Second {
		t.Errorf("Execute returned %v after the instance was killed, want promptly", took)
	}
	if res.Err == nil || !strings.Contains(res.Err.Error(), "died") || errors.Is(res.Err, runtime.ErrTimeout) {
		t.Fatalf("Result.Err = %v, want one saying the instance died", res.Err)
	}

	next := MustRun(t, p, spec, NewJob("sleep", "seconds", []byte("0")))
	if !next.ColdStart {
		t.Errorf("run after the instance died: ColdStart false, want a new instance")
	}
	WaitFor(t, "the killed instance to be gone", func() bool { return !c.alive(t, spec)(ids[0]) })
	if got := c.h.Instances(t, spec); len(got) != 1 || got[0] == ids[0] {
		t.Errorf("instances: got %v, want one other than the killed %s", got, ids[0])
	}
	if got, want := p.Stats()[spec.Key], [2]int{1, 1}; got != want {
		t.Errorf("Stats: got %v (total, idle), want %v", got, want)
	}
}

func (c *contract) testKilledWhileIdle(t *testing.T, p *runtime.Pool) {
	spec := c.spec("noop", 1)
	MustRun(t, p, spec, NewJob("noop", "in", []byte("1")))
	ids := c.h.Instances(t, spec)
	if len(ids) != 1 {
		t.Fatalf("instances: got %v, want one", ids)
	}
	c.h.Kill(t, ids[0])
	WaitFor(t, "the pool to drop its dead idle instance", func() bool { return p.Stats()[spec.Key][0] == 0 })

	// The next call must not be handed the dead instance.
	res := MustRun(t, p, spec, NewJob("noop", "in", []byte("2")))
	if !res.ColdStart {
		t.Errorf("run after the idle instance died: ColdStart false, want a new instance")
	}
}

func (c *contract) testFetch(t *testing.T, p *runtime.Pool) {
	spec := c.spec("noop", 1)
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
			j := NewJob("noop", "in", nil).Stored(tt.key, fetch)
			res := Execute(t, p, spec, j)
			if tt.wantErr != "" {
				if res.Err == nil || !strings.Contains(res.Err.Error(), tt.wantErr) {
					t.Errorf("Result.Err = %v, want one containing %q", res.Err, tt.wantErr)
				}
				return
			}
			if res.Err != nil {
				t.Fatalf("Execute: %v", res.Err)
			}
			if got, _ := j.Output("out"); !bytes.Equal(got, tt.wantOut) {
				t.Errorf("out: got %d bytes, want the %d stored", len(got), len(tt.wantOut))
			}
		})
	}
	if got, want := p.Stats()[spec.Key], [2]int{1, 1}; got != want {
		t.Errorf("Stats: got %v (total, idle), want %v", got, want)
	}
}

func (c *contract) testKeepAlive(t *testing.T, p *runtime.Pool) {
	spec := c.spec("noop", 1)
	MustRun(t, p, spec, NewJob("noop", "in", []byte("1")))
	ids := c.h.Instances(t, spec)
	WaitFor(t, "the idle instance to be stopped", func() bool { return p.Stats()[spec.Key][0] == 0 })
	WaitFor(t, "the idle instance to end", func() bool { return !slices.ContainsFunc(ids, c.alive(t, spec)) })

	if res := MustRun(t, p, spec, NewJob("noop", "in", []byte("2"))); !res.ColdStart {
		t.Errorf("run after keep-alive: ColdStart false, want a new instance")
	}
}

func (c *contract) testClose(t *testing.T, p *runtime.Pool) {
	noop, sleep := c.spec("noop", 1), c.spec("sleep", 1)
	MustRun(t, p, noop, NewJob("noop", "in", []byte("idle")))

	started := make(chan struct{})
	var once sync.Once
	busy := NewJob("sleep", "seconds", nil).Stored("seconds", func(string) ([]byte, error) {
		once.Do(func() { close(started) })
		return []byte("60"), nil
	})
	resc := make(chan runtime.Result, 1)
	go func() { resc <- Execute(t, p, sleep, busy) }()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("busy function never asked for its input")
	}
	idle, running := c.h.Instances(t, noop), c.h.Instances(t, sleep)
	if len(idle) != 1 || len(running) != 1 {
		t.Fatalf("instances: got %v of noop and %v of sleep, want an idle and a busy one", idle, running)
	}

	p.Close()
	// Close waits for the instances, so none may be left when it returns.
	if left := append(c.h.Instances(t, noop), c.h.Instances(t, sleep)...); len(left) > 0 {
		t.Errorf("instances %v still run after Close, want none", left)
	}
	select {
	case res := <-resc:
		if res.Err == nil {
			t.Errorf("busy run: no error, want it to fail when the pool closes")
		}
	case <-time.After(30 * time.Second):
		t.Fatal("busy run did not end after Close")
	}
	if res := Execute(t, p, noop, NewJob("noop", "in", []byte("late"))); res.Err == nil {
		t.Errorf("Execute after Close: no error, want one")
	}
}

func (c *contract) testKeepAliveLinger(t *testing.T, p *runtime.Pool) {
	spec := c.spec("linger", 1)
	MustRun(t, p, spec, NewJob("linger", "in", []byte("1")))
	ids := c.h.Instances(t, spec)
	if len(ids) != 1 {
		t.Fatalf("instances: got %v, want one", ids)
	}
	WaitFor(t, "the idle instance to expire", func() bool { return p.Stats()[spec.Key][0] == 0 })
	WaitFor(t, "the lingering instance to be killed", func() bool { return !c.alive(t, spec)(ids[0]) })
}

func (c *contract) testCloseAfterExpiry(t *testing.T, p *runtime.Pool) {
	spec := c.spec("linger", 1)
	MustRun(t, p, spec, NewJob("linger", "in", []byte("1")))
	ids := c.h.Instances(t, spec)
	if len(ids) != 1 {
		t.Fatalf("instances: got %v, want one", ids)
	}
	// The pool has let the instance go, but it has not ended.
	WaitFor(t, "the idle instance to expire", func() bool { return p.Stats()[spec.Key][0] == 0 })
	p.Close()
	if c.alive(t, spec)(ids[0]) {
		t.Errorf("expired instance %s still runs after Close, want Close to stop it", ids[0])
	}
}

func (c *contract) testCloseWhileStarting(t *testing.T, p *runtime.Pool) {
	spec := c.spec("mute", 1)
	resc := make(chan runtime.Result, 1)
	go func() { resc <- Execute(t, p, spec, NewJob("mute", "in", nil)) }()
	var ids []string
	WaitFor(t, "the program to start", func() bool {
		ids = c.h.Instances(t, spec)
		return len(ids) > 0
	})
	p.Close()
	if left := c.h.Instances(t, spec); len(left) > 0 {
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

func (c *contract) testNoHello(t *testing.T, p *runtime.Pool) {
	spec := c.spec("mute", 1)
	resc := make(chan runtime.Result, 1)
	go func() { resc <- Execute(t, p, spec, NewJob("mute", "in", nil)) }()
	var ids []string
	WaitFor(t, "the program to start", func() bool {
		ids = c.h.Instances(t, spec)
		return len(ids) > 0
	})
	res := <-resc
	if res.Err == nil || !strings.Contains(res.Err.Error(), "fn.Run") {
		t.Errorf("Result.Err = %v, want one asking whether the program calls fn.Run", res.Err)
	}
	WaitFor(t, "the mute program to be killed", func() bool { return !slices.ContainsFunc(ids, c.alive(t, spec)) })
	if got := p.Stats()[spec.Key]; got != [2]int{} {
		t.Errorf("Stats: got %v (total, idle), want no instances", got)
	}
}

func (c *contract) testExitsAtOnce(t *testing.T, p *runtime.Pool) {
	spec := c.spec("exitnow", 1)
	res := Execute(t, p, spec, NewJob("exitnow", "in", nil))
	if res.Err == nil || !strings.Contains(res.Err.Error(), "exited before connecting") {
		t.Errorf("Result.Err = %v, want one saying the program exited before connecting", res.Err)
	}
	if res.Err != nil && !strings.Contains(res.Err.Error(), "exiting at once") {
		t.Errorf("Result.Err = %v, want it to end with the program's output %q", res.Err, "exiting at once")
	}
	if got := p.Stats()[spec.Key]; got != [2]int{} {
		t.Errorf("Stats: got %v (total, idle), want no instances", got)
	}
}

func (c *contract) testMissingProgram(t *testing.T, p *runtime.Pool) {
	exe := filepath.Join(t.TempDir(), "no-such-program")
	spec := runtime.Spec{Key: "missing", Function: "missing", Executable: exe, Runtime: "go"}
	res := Execute(t, p, spec, NewJob("missing", "in", nil))
	if res.Err == nil || !strings.Contains(res.Err.Error(), exe) {
		t.Errorf("Result.Err = %v, want one naming %s", res.Err, exe)
	}
	if got := p.Stats()[spec.Key]; got != [2]int{} {
		t.Errorf("Stats: got %v (total, idle), want no instances", got)
	}
}

// testOutputTooLarge: an output bigger than the agent accepts fails the run
// with an error that says so, and the next run works on a new instance.
func (c *contract) testOutputTooLarge(t *testing.T, p *runtime.Pool) {
	spec := c.spec("noop", 1)
	res := Execute(t, p, spec, NewJob("noop", "in", make([]byte, 64<<10)))
	if res.Err == nil || !strings.Contains(res.Err.Error(), "too large") || !strings.Contains(res.Err.Error(), "--max-body") {
		t.Fatalf("Err = %v, want one saying the output is too large and how to allow it", res.Err)
	}
	for _, want := range []string{"function noop", "limit of 4096 bytes"} {
		if !strings.Contains(res.Err.Error(), want) {
			t.Errorf("Err = %v, want it to name %q", res.Err, want)
		}
	}
	if res := Execute(t, p, spec, NewJob("noop", "in", []byte("small"))); res.Err != nil {
		t.Fatalf("next run: %v", res.Err)
	}
}

// testPrewarm: a prewarmed instance serves the next run warm, and a
// second Prewarm while one is idle starts nothing.
func (c *contract) testPrewarm(t *testing.T, p *runtime.Pool) {
	spec := c.spec("noop", 2)
	p.Prewarm(spec)
	WaitFor(t, "the prewarmed instance to be idle", func() bool { return p.Stats()[spec.Key] == [2]int{1, 1} })
	p.Prewarm(spec)
	if got, want := p.Stats()[spec.Key], [2]int{1, 1}; got != want {
		t.Errorf("Stats after a second Prewarm: got %v (total, idle), want %v: one idle instance is enough", got, want)
	}
	if got := c.h.Instances(t, spec); len(got) != 1 {
		t.Errorf("instances: got %v, want the prewarmed one", got)
	}
	if res := MustRun(t, p, spec, NewJob("noop", "in", []byte("1"))); res.ColdStart {
		t.Errorf("run after Prewarm: ColdStart true, want the prewarmed instance")
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
		j := NewJob("noop", "in", nil).Stored("k", fetch)
		wg.Go(func() { results[i] = Execute(t, p, spec, j) })
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
