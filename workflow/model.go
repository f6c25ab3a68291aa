// Package workflow defines the workflow model shared by the CLI, the gateway
// and the worker agents: functions, their inputs and outputs, the edges between
// them, switch branches, and the graph facts the engine derives from them.
//
// Workflows come from files (the native YAML format, DataFlower's
// workflow_info.yaml + templates_info.yaml) through the loaders in this
// package, and travel between processes as JSON. Every loaded or decoded
// workflow goes through Validate before use; Validate also fills the derived
// fields (marked "derived") that the engine relies on.
package workflow

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Reserved pseudo-function names used in targets and sources.
const (
	// InputFunction is the source name of the workflow's own inputs, given at invoke time.
	InputFunction = "$input"
	// ResultFunction is the target name for the workflow's result: a Target
	// {Function: ResultFunction, Input: key} puts the value under key in the result.
	ResultFunction = "$result"
)

// Workflow is a named DAG of functions.
type Workflow struct {
	Name string `json:"name"`
	// Inputs are the workflow's inputs: each is given by the caller at invoke
	// time (a JSON value) and sent to its targets.
	Inputs []*Output `json:"inputs"`
	// Functions in file order.
	Functions []*Function `json:"functions"`
	// Timeout bounds one invocation end to end; zero means DefaultWorkflowTimeout.
	Timeout Duration `json:"timeout,omitempty"`

	// Source is the file the workflow was loaded from, used in error messages.
	Source string `json:"source,omitempty"`

	// Results lists the result keys in order of first appearance (derived).
	Results []*Input `json:"-"`
	// Order is the function names in a topological order (derived).
	Order []string `json:"-"`

	byName map[string]*Function
	// where records, for a loaded workflow, the file, field path and line of
	// each element, so that Validate's errors use the source file's terms.
	where map[srcKey]place
}

// Defaults for fields a file leaves unset. The timeouts and MaxInstances
// apply through the Effective methods and the engine; DefaultRuntime is set
// by the native loader for functions that give code without a runtime.
const (
	DefaultFunctionTimeout = 60 * time.Second
	DefaultWorkflowTimeout = 10 * time.Minute
	DefaultMaxInstances    = 16
	DefaultRuntime         = "go"
)

// Function is one step of a workflow.
type Function struct {
	Name string `json:"name"`
	// Runtime says how the code runs: "go" (a Go main package built with the
	// fn SDK), "python" (a directory with a main.py using the faasflow
	// module), "exec" (a prebuilt executable speaking the instance protocol)
	// or "synthetic" (no code: see Synthetic).
	Runtime string `json:"runtime"`
	// Code is the Go package directory (runtime go), the directory with
	// main.py (runtime python) or the executable path (runtime exec);
	// loaders make it absolute. Empty for imported formats
	// whose code is bound at deploy time.
	Code string `json:"code,omitempty"`
	// Artifact is the sha256 (hex) of the executable, set by the CLI when it
	// builds and uploads the code at deploy time.
	Artifact string `json:"artifact,omitempty"`
	// CPU is the share of a core the function may use (0 = unlimited).
	CPU float64 `json:"cpu,omitempty"`
	// MemoryMB is the memory limit in MiB (0 = unlimited).
	MemoryMB int `json:"memory_mb,omitempty"`
	// Timeout bounds one run; zero means DefaultFunctionTimeout.
	Timeout Duration `json:"timeout,omitempty"`
	// Retries is how many times a failed run is tried again (0 = never).
	Retries int `json:"retries,omitempty"`
	// MaxInstances caps the concurrent instances on one worker; zero means DefaultMaxInstances.
	MaxInstances int `json:"max_instances,omitempty"`
	// Synthetic is set for a function without code that only takes time and
	// emits data of its outputs' declared sizes (FaaSFlow v1 workflows);
	// its Runtime is "synthetic".
	Synthetic *Synthetic `json:"synthetic,omitempty"`

	Inputs  []*Input  `json:"inputs"`
	Outputs []*Output `json:"outputs"`
	// Switch, when not empty, makes this a switch function: after a run its
	// branches are tried in order and the first whose condition holds (or the
	// default branch) sends its routes; every other branch's targets are told
	// they will receive nothing.
	Switch []*Branch `json:"switch,omitempty"`

	// Line is where the function is defined in Source (0 when unknown).
	Line int `json:"line,omitempty"`

	// ForeachInput is the input that receives one item per instance when this
	// function consumes a foreach output, else "" (derived).
	ForeachInput string `json:"-"`
	// ForeachFrom is the function whose foreach output feeds ForeachInput (derived).
	ForeachFrom string `json:"-"`
	// CountTo lists the functions with list inputs that gather items of this
	// function's foreach consumers: they receive the item count (derived).
	CountTo []string `json:"-"`
	// Reach lists every target any run of this function may send to,
	// across unconditional outputs and all branches, without duplicates (derived).
	Reach []Target `json:"-"`
}

// Input is a named input of a function (or a result key).
type Input struct {
	Name string `json:"name"`
	// List makes this a merge input: it gathers one value from each instance
	// of a foreach consumer and is complete when their count is known.
	List bool `json:"list,omitempty"`

	// Sources are the functions that may send to this input (derived). An
	// input with several sources takes the first value that arrives; it is
	// dead (and so is its function) only when every source has said it will
	// send nothing.
	Sources []string `json:"-"`
	// CountFrom is, for a list input, the foreach producer whose item count
	// completes it (derived).
	CountFrom string `json:"-"`

	Line int `json:"line,omitempty"`
}

// Output is a named output of a function (or of the workflow's inputs) and
// the targets its value is sent to.
type Output struct {
	Name string `json:"name"`
	// Foreach makes the output a stream of items: each posted item starts one
	// instance of every consumer, and the item count goes to the merge side.
	Foreach bool     `json:"foreach,omitempty"`
	To      []Target `json:"to,omitempty"`
	// Size is the output's declared size in bytes (0 = unknown): what a
	// synthetic function emits (per item for a foreach output), and the
	// weight of the output's edges for placement.
	Size int64 `json:"size,omitempty"`
	Line int   `json:"line,omitempty"`
}

// Synthetic describes what a synthetic function does in a run: it takes
// Seconds (sleeping, or spinning a core when Busy), then posts every
// output — an output named like one of its inputs passes that input's value
// on (so switch conditions can read it), any other output is Size bytes,
// and a foreach output posts Items items.
type Synthetic struct {
	Seconds float64 `json:"seconds"`
	Busy    bool    `json:"busy,omitempty"`
	// Items is the number of items of each foreach output (default 1).
	Items int `json:"items,omitempty"`
}

// Branch is one arm of a switch function.
type Branch struct {
	// When is a condition over the function's outputs (see package expr);
	// empty means the default branch, which must be last.
	When   string   `json:"when,omitempty"`
	Routes []*Route `json:"routes"`
	Line   int      `json:"line,omitempty"`
}

// Route sends one output of a switch function, or a bare signal, to targets
// when its branch is taken.
type Route struct {
	// Output is the output sent; for a signal it is only a label.
	Output string `json:"output"`
	// Signal routes carry no data (the value is JSON null): they only let
	// their targets fire.
	Signal bool     `json:"signal,omitempty"`
	To     []Target `json:"to"`
	Line   int      `json:"line,omitempty"`
}

// Target names one input of one function, or a result key when Function is ResultFunction.
type Target struct {
	Function string `json:"function"`
	Input    string `json:"input"`
}

func (t Target) String() string { return t.Function + "." + t.Input }

// Function returns the named function, or nil when there is none. It works
// only after Validate.
func (w *Workflow) Function(name string) *Function { return w.byName[name] }

// Input returns the named input of f, or nil.
func (f *Function) Input(name string) *Input {
	for _, in := range f.Inputs {
		if in.Name == name {
			return in
		}
	}
	return nil
}

// Output returns the named output of f, or nil.
func (f *Function) Output(name string) *Output {
	for _, out := range f.Outputs {
		if out.Name == name {
			return out
		}
	}
	return nil
}

// IsMap reports whether f runs once per item of a foreach output.
func (f *Function) IsMap() bool { return f.ForeachInput != "" }

// EffectiveTimeout is the run timeout with the default applied.
func (f *Function) EffectiveTimeout() time.Duration {
	if f.Timeout > 0 {
		return time.Duration(f.Timeout)
	}
	return DefaultFunctionTimeout
}

// EffectiveTimeout is the invocation timeout with the default applied.
func (w *Workflow) EffectiveTimeout() time.Duration {
	if w.Timeout > 0 {
		return time.Duration(w.Timeout)
	}
	return DefaultWorkflowTimeout
}

// Duration is a time.Duration written as a Go duration string ("1.5s") in
// JSON and YAML; a bare number means seconds.
type Duration time.Duration

// MarshalJSON writes the duration as a string such as "1m30s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		v, err := ParseDuration(s)
		if err != nil {
			return err
		}
		*d = v
		return nil
	}
	var secs float64
	if err := json.Unmarshal(b, &secs); err != nil {
		return fmt.Errorf("duration must be a string like \"30s\" or a number of seconds: %s", b)
	}
	v, err := seconds(secs)
	if err != nil {
		return fmt.Errorf("invalid duration %s: %w", b, err)
	}
	*d = v
	return nil
}

// ParseDuration reads "30s", "1m", "250ms" or a bare number of seconds such
// as "30" or "1.5". Negative durations are rejected.
func ParseDuration(s string) (Duration, error) {
	if v, err := time.ParseDuration(s); err == nil {
		if v < 0 {
			return 0, fmt.Errorf("duration %q is negative", s)
		}
		return Duration(v), nil
	}
	secs, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: write it like \"30s\", \"1m\" or a number of seconds", s)
	}
	v, err := seconds(secs)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: %w", s, err)
	}
	return v, nil
}

// maxSeconds is the longest duration a Duration holds, in seconds.
const maxSeconds = float64(math.MaxInt64) / float64(time.Second)

// seconds converts a number of seconds, rejecting what a Duration cannot hold.
func seconds(secs float64) (Duration, error) {
	switch {
	case math.IsNaN(secs):
		return 0, fmt.Errorf("not a number")
	case secs < 0:
		return 0, fmt.Errorf("duration is negative")
	case secs >= maxSeconds:
		return 0, fmt.Errorf("duration is too long (at most %.0f seconds)", maxSeconds)
	}
	return Duration(secs * float64(time.Second)), nil
}
