// Package runtimetest is the contract every runtime.Backend meets for the
// Pool. A backend's test calls Run with a Harness; the same cases run
// against every backend, so a worker can use any of them the same way. It
// also holds the helpers those tests and the runtime benchmarks share.
package runtimetest

import (
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/agents/runtime"
	"github.com/faasflow/faasflow-go/fn/protocol"
)

// Programs are the function programs the contract runs as instances, by
// name (the last element of each import path).
var Programs = map[string]string{
	"noop":  "github.com/faasflow/faasflow-go/benchmarks/chain/noop",   // copies input in to output out
	"sleep": "github.com/faasflow/faasflow-go/benchmarks/faults/sleep", // sleeps input seconds, ignores cancellation
	"panic": "github.com/faasflow/faasflow-go/benchmarks/faults/panic", // panics when input mode is "panic"
	"fail":  "github.com/faasflow/faasflow-go/benchmarks/faults/fail",  // fails with "deliberate failure"
	// copies in to out, but does not exit when the agent closes the connection
	"linger": "github.com/faasflow/faasflow-go/agents/runtime/testdata/linger",
	// never connects to the agent
	"mute": "github.com/faasflow/faasflow-go/agents/runtime/testdata/mute",
	// exits with status 1 at once
	"exitnow": "github.com/faasflow/faasflow-go/agents/runtime/testdata/exitnow",
	// says hello as instances built by an older faasflow did (a JSON header)
	"oldsdk": "github.com/faasflow/faasflow-go/agents/runtime/testdata/oldsdk",
}

// Main is a TestMain body: it builds the test programs, sets *dir to
// their directory, runs the tests and removes the programs.
func Main(m *testing.M, dir *string) int {
	d, err := BuildPrograms()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(d)
	*dir = d
	return m.Run()
}

// BuildPrograms builds every program of Programs as a static executable
// into a new temporary directory, which the caller removes.
func BuildPrograms() (string, error) {
	dir, err := os.MkdirTemp("", "rtbin")
	if err != nil {
		return "", err
	}
	// go build -o dir/ names each binary after the last element of its
	// import path, which is also its key in Programs.
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, pkg := range Programs {
		args = append(args, pkg)
	}
	cmd := exec.Command("go", args...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return "", fmt.Errorf("build the test function programs: %v\n%s", err, out)
	}
	return dir, nil
}

// Spec returns the spec of the program name built into dir.
func Spec(dir, name string, maxInstances int) runtime.Spec {
	return runtime.Spec{Key: name, Function: name, Executable: filepath.Join(dir, name), MaxInstances: maxInstances, Runtime: "go"}
}

// Job is a Call built by hand, with the outputs it received.
type Job struct {
	Call runtime.Call

	mu      sync.Mutex
	outputs map[string][]byte
}

var lastRunID atomic.Uint64

// NewJob returns a run of function with one inline input and one output, out.
func NewJob(function, input string, value []byte) *Job {
	j := &Job{outputs: map[string][]byte{}}
	j.Call = runtime.Call{
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

// Stored turns the job's input into a stored value under key, served by fetch.
func (j *Job) Stored(key string, fetch func(key string) ([]byte, error)) *Job {
	j.Call.Run.Inputs[0].Value = &protocol.Datum{Key: key}
	j.Call.Body = nil
	j.Call.Fetch = fetch
	return j
}

// Output returns the output name, if the function posted it.
func (j *Job) Output(name string) ([]byte, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	v, ok := j.outputs[name]
	return v, ok
}

// OutputNames lists the outputs the function posted, sorted.
func (j *Job) OutputNames() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Sorted(maps.Keys(j.outputs))
}

// Execute runs j on p, with a minute's deadline unless j has one.
func Execute(tb testing.TB, p *runtime.Pool, spec runtime.Spec, j *Job) runtime.Result {
	if j.Call.Deadline.IsZero() {
		j.Call.Deadline = time.Now().Add(time.Minute)
	}
	return p.Execute(tb.Context(), spec, &j.Call)
}

// MustRun runs j and fails the test unless it succeeds.
func MustRun(tb testing.TB, p *runtime.Pool, spec runtime.Spec, j *Job) runtime.Result {
	tb.Helper()
	res := Execute(tb, p, spec, j)
	if res.Err != nil {
		tb.Fatalf("run of %s: %v", spec.Function, res.Err)
	}
	return res
}

// WaitFor polls cond until it holds, failing the test after a generous bound.
func WaitFor(tb testing.TB, what string, cond func() bool) {
	tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			tb.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ColdStart measures the first run on a new instance (start, hello and
// the run itself) of spec's noop-like program: each iteration runs on a
// fresh pool from newPool, made and closed outside the timer. One untimed
// run first lets a backend prepare what it caches (an image).
func ColdStart(b *testing.B, newPool func(tb testing.TB) *runtime.Pool, spec runtime.Spec) {
	run := func() {
		p := newPool(b)
		defer p.Close()
		b.StartTimer()
		res := MustRun(b, p, spec, NewJob(spec.Function, "in", []byte(`"x"`)))
		b.StopTimer()
		if !res.ColdStart {
			b.Fatal("run on a fresh pool was not a cold start")
		}
	}
	b.StopTimer()
	run()
	b.ResetTimer()
	b.StopTimer()
	for range b.N {
		run()
	}
}

// WarmRun measures a run of spec's noop-like program on an idle instance.
func WarmRun(b *testing.B, p *runtime.Pool, spec runtime.Spec) {
	MustRun(b, p, spec, NewJob(spec.Function, "in", []byte(`"x"`)))
	b.ResetTimer()
	for range b.N {
		if res := MustRun(b, p, spec, NewJob(spec.Function, "in", []byte(`"x"`))); res.ColdStart {
			b.Fatal("run on a warm pool was a cold start")
		}
	}
}
