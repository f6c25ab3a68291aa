// Package runtime runs function instances for a worker agent: a pool per
// function of long-lived instances (warm reuse, last in first out, a cap on
// instances, keep-alive), started by a Backend, that speak the instance
// protocol (package fn/protocol) over the agent's Unix socket.
package runtime

import (
	"context"
	"errors"
	"time"

	"github.com/faasflow/faasflow-go/fn/protocol"
)

// Spec says how to start instances of one function.
type Spec struct {
	// Key identifies the pool: instances are reused only for the same key.
	Key string
	// Function is the function's name, for logs and errors.
	Function string
	// Executable is the program to run; Args its arguments.
	Executable string
	Args       []string
	// Env is added to the instance's environment.
	Env []string
	// MaxInstances caps concurrent instances of this function (<= 0 means 1).
	MaxInstances int
	// LogPath receives the instance's stdout and stderr (appended); empty discards them.
	LogPath string
	// Runtime is the function's runtime (go, python, exec, synthetic), for
	// backends that package functions into images. For python, Executable
	// is the interpreter and Args[0] the function's zip application.
	Runtime string
	// CPU is the share of cores one instance may use and MemoryMB its
	// memory limit in MiB (0 = unlimited). The docker backend enforces
	// them; the process backend ignores them.
	CPU      float64
	MemoryMB int
}

// Backend starts instance processes. The instance connects back to the
// agent's socket (given in env) on its own.
type Backend interface {
	// Start launches one instance. env holds the protocol variables to pass
	// to it. It returns once the instance is launched, not when it is ready.
	Start(ctx context.Context, spec Spec, env []string) (Process, error)
}

// Process is one running instance as its backend sees it.
type Process interface {
	// Exited is closed when the instance has ended.
	Exited() <-chan struct{}
	// ExitErr describes how the instance ended, with the tail of its output;
	// valid after Exited is closed.
	ExitErr() error
	// Kill ends the instance at once.
	Kill()
}

// Call is one run to execute on an instance.
type Call struct {
	Run protocol.Run
	// Body holds the inline input bytes the Run's Datums point into.
	Body []byte
	// Deadline is when the run is abandoned and its instance killed.
	Deadline time.Time
	// OnOutput receives each output the function posts, in order, from the
	// instance's reader goroutine; data belongs to the callee.
	OnOutput func(name string, data []byte)
	// OnDone, when set, is called from the instance's reader goroutine as
	// soon as the instance says the run ended, after the last OnOutput and
	// before Execute returns (which happens a hand-over to the caller's
	// goroutine later); ok is true when the function succeeded.
	OnDone func(ok bool)
	// Fetch serves the instance's requests for stored inputs.
	Fetch func(key string) ([]byte, error)
	// Cancel, when closed, tells the function its run no longer matters
	// (its context is cancelled); the run still ends on its own or at its
	// deadline. Nil means never.
	Cancel <-chan struct{}
}

// Result is how a run ended. Err is set when the run did not complete:
// the function failed, panicked, overran its deadline or its instance died.
type Result struct {
	Done protocol.Done
	Err  error
	// ColdStart is true when a new instance was started for this run.
	ColdStart bool
	// Queued is the time spent getting an instance: waiting for a free one,
	// or starting one (a cold start).
	Queued time.Duration
}

// ErrTimeout is wrapped by Result.Err when a run overran its deadline.
var ErrTimeout = errors.New("timed out")
