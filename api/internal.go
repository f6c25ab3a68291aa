package api

import "github.com/faasflow/faasflow-go/workflow"

// The internal API between gateway and workers: deployments pushed to
// workers, messages between producers and consumers (PUT
// /v1/workflows/{name} and the message stream, GET /v1/messages/stream, on
// workers; see Sender), and reports of
// results and failures (POST /v1/internal/reports on the gateway).

// Deployment is a workflow as deployed on the cluster: every worker gets the
// whole workflow and the whole placement, so it knows where to send outputs.
type Deployment struct {
	Workflow *workflow.Workflow `json:"workflow"`
	// Placement maps each function to the ID of the worker that runs it.
	Placement map[string]string `json:"placement"`
	// Workers maps worker IDs to their base URLs ("http://127.0.0.1:8000").
	Workers map[string]string `json:"workers"`
	// Mode is the execution mode ("dataflow").
	Mode    string `json:"mode"`
	Version int64  `json:"version"`
	// Checkpoint asks workers to report what each completed run sent, so
	// the gateway can resume an invocation that lost a worker from its
	// completed runs instead of failing it.
	Checkpoint bool `json:"checkpoint,omitempty"`
}

// Kind is what a Message carries.
type Kind string

// Message kinds.
const (
	// KindValue is an output value for normal inputs, or one item of a list
	// input (Index is then the producing instance's item number).
	KindValue Kind = "value"
	// KindItem is item number Index of a foreach output.
	KindItem Kind = "item"
	// KindCount says how many items a foreach output had (Count): it goes
	// to the foreach consumers and to the functions gathering their outputs.
	KindCount Kind = "count"
	// KindSkip says From will send nothing to the targets.
	KindSkip Kind = "skip"
	// KindStart starts an invocation on a worker that gets no other first message.
	KindStart Kind = "start"
	// KindInputs starts an invocation on a worker whose functions take
	// workflow inputs: the value is a JSON object of input name → value of
	// those given, and the worker hands each input to its targets placed
	// there, null when it was not given. One message per worker instead of
	// one per input: v1 workflows have hundreds.
	KindInputs Kind = "inputs"
	// KindRestore starts a resumed invocation on a worker (checkpointed
	// workflows): the value is a JSON list of the RunIDs that completed in
	// an earlier attempt, which are not run again. Every worker of the
	// deployment gets one before any other message of the attempt.
	KindRestore Kind = "restore"
)

// RunID names one run of a function in an invocation: Index is the
// foreach item of a map function, -1 for functions that run once.
type RunID struct {
	Function string `json:"function"`
	Index    int    `json:"index"`
}

// Sent is one message a completed run sent, as kept in a checkpoint: the
// gateway sends it again when it resumes the invocation.
type Sent struct {
	Kind    Kind              `json:"kind"`
	Index   int               `json:"index"`
	Count   int               `json:"count,omitempty"`
	Targets []workflow.Target `json:"targets"`
	Data    []byte            `json:"data,omitempty"`
}

// Message is one notification between producers and consumers. The value
// itself travels beside it as raw bytes.
type Message struct {
	Invocation string `json:"invocation"`
	Workflow   string `json:"workflow"`
	// DeadlineMS is the invocation's deadline in Unix milliseconds.
	DeadlineMS int64 `json:"deadline_ms"`
	// From is the producing function, or workflow.InputFunction.
	From    string            `json:"from"`
	Kind    Kind              `json:"kind"`
	Index   int               `json:"index"`
	Count   int               `json:"count,omitempty"`
	Targets []workflow.Target `json:"targets,omitempty"`
	// Ref, when set, says the value waits in a store instead of riding
	// with the message.
	Ref *DataRef `json:"ref,omitempty"`
	// SentNS is when the producer sent the message, in Unix nanoseconds
	// (for hop latency).
	SentNS int64 `json:"sent_ns,omitempty"`
}

// DataRef locates a value in a store.
type DataRef struct {
	// Tier is the store's tier name ("direct", "kafka", "couchdb").
	Tier string `json:"tier"`
	Key  string `json:"key"`
	Size int64  `json:"size"`
}

// Report tells the gateway about a result value or a failure.
type Report struct {
	Invocation string `json:"invocation"`
	Worker     string `json:"worker"`
	// Kind is "result" (a value, or a skip, for a result key), "fail", or
	// "checkpoint" (the body is the JSON list of Sent messages of run From,
	// Index).
	Kind     string `json:"kind"`
	From     string `json:"from,omitempty"`
	Key      string `json:"key,omitempty"`
	Skip     bool   `json:"skip,omitempty"`
	Function string `json:"function,omitempty"`
	Error    string `json:"error,omitempty"`
	// Index is a checkpointed run's foreach item (-1 for a single run).
	Index int `json:"index,omitempty"`
	// Peer is the worker a failed send could not reach: the gateway waits
	// for its heartbeat verdict before failing the invocation.
	Peer string `json:"peer,omitempty"`
}
