// Package api holds the types of FaaSFlow's HTTP APIs — the gateway's
// public API, and the internal calls between gateway and workers — and a
// client for the public API used by the CLI and tests.
package api

import (
	"encoding/json"
	"time"

	"github.com/faasflow/faasflow-go/placement"
	"github.com/faasflow/faasflow-go/workflow"
)

// Headers carrying JSON metadata beside a raw body.
const (
	// HeaderMessage carries an engine.Message on POST /v1/internal/relay
	// (gateway, mastersp mode).
	HeaderMessage = "Faasflow-Message"
	// HeaderReport carries an engine.Report on POST /v1/internal/reports (gateway).
	HeaderReport = "Faasflow-Report"
)

// Placement strategies.
const (
	PlacementRoundRobin = "round-robin"
	PlacementStatic     = "static"
	PlacementSingle     = "single"
)

// Execution modes.
const (
	// ModeDataflow (DataFlower): a function fires when its inputs have
	// arrived; outputs go to consumers as soon as they are posted.
	ModeDataflow = "dataflow"
	// ModeWorkerSP (FaaSFlow): control flow; a function fires when its
	// predecessors have finished, and the worker that ran a predecessor
	// triggers the successor itself.
	ModeWorkerSP = "workersp"
	// ModeMasterSP (baseline): every completion goes to the gateway, which
	// triggers the successors.
	ModeMasterSP = "mastersp"
)

// Modes lists the execution modes.
var Modes = []string{ModeDataflow, ModeWorkerSP, ModeMasterSP}

// DeployRequest is the body of POST /v1/workflows.
type DeployRequest struct {
	Workflow *workflow.Workflow `json:"workflow"`
	// Placement is "round-robin" (default), "static" or "single".
	Placement string `json:"placement,omitempty"`
	// Table maps functions to worker IDs for static placement; for
	// "single", the one worker to use (key "*"), else the first worker.
	Table map[string]string `json:"table,omitempty"`
	// Mode is the execution mode (default "dataflow").
	Mode string `json:"mode,omitempty"`
	// Checkpoint keeps what every completed run sent, so an invocation
	// that loses a worker resumes on the others from its completed runs
	// instead of failing with "worker lost".
	Checkpoint bool `json:"checkpoint,omitempty"`
	// MaxInflight caps the workflow's invocations running at once; more
	// are refused with 429 (0 = the gateway's --max-inflight; negative =
	// unlimited).
	MaxInflight int `json:"max_inflight,omitempty"`
}

// WorkflowInfo describes a deployed workflow.
type WorkflowInfo struct {
	Name      string            `json:"name"`
	Mode      string            `json:"mode"`
	Placement map[string]string `json:"placement"`
	Strategy  string            `json:"strategy"`
	Functions int               `json:"functions"`
	Version   int64             `json:"version"`
	Deployed  time.Time         `json:"deployed"`
	// Checkpoint says invocations resume after a lost worker.
	Checkpoint bool `json:"checkpoint,omitempty"`
	// MaxInflight is the cap on invocations running at once (see
	// DeployRequest; 0 = the gateway's).
	MaxInflight int `json:"max_inflight,omitempty"`
	// Explain describes the placement: functions per worker and the edges
	// (with bytes) that cross workers.
	Explain placement.Explanation `json:"explain"`
}

// InvokeRequest is the body of POST /v1/workflows/{name}/invocations.
type InvokeRequest struct {
	// RequestID makes the call idempotent: the same ID returns the same
	// invocation. Empty means the gateway picks one.
	RequestID string `json:"request_id,omitempty"`
	// Input maps workflow input names to JSON values; missing inputs are null.
	Input map[string]json.RawMessage `json:"input,omitempty"`
	// Async returns at once with the invocation's ID instead of waiting.
	Async bool `json:"async,omitempty"`
}

// Invocation statuses.
const (
	StatusRunning   = "running"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
)

// Invocation is an invocation's status and, once it succeeded, its result.
type Invocation struct {
	RequestID string    `json:"request_id"`
	Workflow  string    `json:"workflow"`
	Status    string    `json:"status"`
	Error     string    `json:"error,omitempty"`
	Submitted time.Time `json:"submitted"`
	// Latency is the end-to-end time in seconds, once ended.
	Latency float64 `json:"latency,omitempty"`
	// Result maps result keys to their values (JSON values as they are,
	// other bytes as a JSON string, or {"base64": "..."} when not UTF-8).
	Result map[string]json.RawMessage `json:"result,omitempty"`
}

// Ended reports whether the invocation has finished, well or not.
func (i *Invocation) Ended() bool { return i.Status != StatusRunning && i.Status != "" }

// RegisterWorker is the body of POST /v1/internal/workers.
type RegisterWorker struct {
	ID string `json:"id"`
	// URL is the worker's base URL ("http://127.0.0.1:8000").
	URL string `json:"url"`
	// Slots is how many function instances the worker runs at once (0 = unlimited).
	Slots int `json:"slots,omitempty"`
	// MemoryMB is the memory for functions in MiB (0 = unlimited).
	MemoryMB int `json:"memory_mb,omitempty"`
	// Started is when the worker process started: a change tells the
	// gateway that the worker restarted and lost its deployments.
	Started time.Time `json:"started,omitzero"`
}

// WorkerInfo describes a registered worker.
type WorkerInfo struct {
	RegisterWorker
	LastSeen time.Time `json:"last_seen"`
	// Lost is true while the worker misses its heartbeats: new placements
	// avoid it, and invocations running on it failed.
	Lost bool `json:"lost,omitempty"`
}

// Error is the body of every error response.
type Error struct {
	Error string `json:"error"`
}
