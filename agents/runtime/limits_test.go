package runtime_test

import (
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/agents/runtime"
	"github.com/faasflow/faasflow-go/agents/runtime/runtimetest"
)

// TestPoolMaxInstances: the worker's cap on instances per function wins
// over a larger max_instances of the function; calls beyond it wait and
// all complete.
func TestPoolMaxInstances(t *testing.T) {
	p := newPool(t, runtime.PoolConfig{MaxInstances: 2}, runtime.ProcessBackend{})
	spec := runtimetest.Spec(binDir, "sleep", 10)
	stop := make(chan struct{})
	var most atomic.Int64
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			most.Store(max(most.Load(), int64(p.Stats()[spec.Key][0])))
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	const calls = 5
	results := make([]runtime.Result, calls)
	var wg sync.WaitGroup
	for i := range calls {
		wg.Go(func() {
			results[i] = runtimetest.Execute(t, p, spec, runtimetest.NewJob("sleep", "seconds", []byte("0.2")))
		})
	}
	wg.Wait()
	close(stop)
	<-sampled
	for i, res := range results {
		if res.Err != nil {
			t.Errorf("call %d: %v", i, res.Err)
		}
	}
	if got := most.Load(); got != 2 {
		t.Errorf("most instances at once: got %d, want 2 (the pool's cap, under the function's 10)", got)
	}
}

// TestPoolQueueFull: with one instance busy and MaxQueue calls waiting,
// the next call fails at once with an error naming the function and the
// limit, and the calls already queued still complete.
func TestPoolQueueFull(t *testing.T) {
	p := newPool(t, runtime.PoolConfig{MaxQueue: 2}, runtime.ProcessBackend{})
	spec := runtimetest.Spec(binDir, "sleep", 1)
	const accepted = 3 // one running, two waiting
	results := make([]runtime.Result, accepted)
	var wg sync.WaitGroup
	for i := range accepted {
		wg.Go(func() {
			results[i] = runtimetest.Execute(t, p, spec, runtimetest.NewJob("sleep", "seconds", []byte("0.5")))
		})
		if i == 0 {
			runtimetest.WaitFor(t, "the first call to take the instance", func() bool { return p.Stats()[spec.Key][0] == 1 })
		}
	}
	time.Sleep(200 * time.Millisecond) // let the two others queue

	t0 := time.Now()
	res := runtimetest.Execute(t, p, spec, runtimetest.NewJob("sleep", "seconds", []byte("0")))
	if !errors.Is(res.Err, runtime.ErrQueueFull) {
		t.Fatalf("call over the queue: Err = %v, want ErrQueueFull", res.Err)
	}
	for _, want := range []string{"function sleep", "2 calls waiting", "--max-queue=2"} {
		if !strings.Contains(res.Err.Error(), want) {
			t.Errorf("Err = %q, want it to say %q", res.Err, want)
		}
	}
	if took := time.Since(t0); took > 100*time.Millisecond {
		t.Errorf("refused call took %s, want it refused at once", took)
	}
	wg.Wait()
	for i, res := range results {
		if res.Err != nil {
			t.Errorf("accepted call %d: %v", i, res.Err)
		}
	}
	// The queue has drained: calls are taken again.
	runtimetest.MustRun(t, p, spec, runtimetest.NewJob("sleep", "seconds", []byte("0")))
}

// TestOutputTooLargeNamesOutput: the error for an output over the worker's
// limit names the function, the output and the limit.
func TestOutputTooLargeNamesOutput(t *testing.T) {
	p := newPool(t, runtime.PoolConfig{MaxBody: 4 << 10}, runtime.ProcessBackend{})
	spec := runtimetest.Spec(binDir, "noop", 1)
	res := runtimetest.Execute(t, p, spec, runtimetest.NewJob("noop", "in", make([]byte, 64<<10)))
	if res.Err == nil {
		t.Fatal("run with a 64 KiB output succeeded, want it over the 4 KiB limit")
	}
	for _, want := range []string{"function noop", `output "out"`, "65536 bytes", "limit of 4096 bytes", "--max-body"} {
		if !strings.Contains(res.Err.Error(), want) {
			t.Errorf("Err = %q, want it to say %q", res.Err, want)
		}
	}
}
