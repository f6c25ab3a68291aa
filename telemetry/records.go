package telemetry

import "time"

// PhaseInvocation is the phase of an Invocation record.
const PhaseInvocation = "invocation"

// Databases FaaSFlow's records go to in CouchDB.
const (
	// DBResults holds one Invocation record per ended invocation.
	DBResults = "results"
	// DBWorkflowLatency holds one record per function run.
	DBWorkflowLatency = "workflow_latency"
)

// Invocation is the record of one ended invocation, written by the gateway,
// with FaaSFlow's field names. Times are Unix seconds.
type Invocation struct {
	RequestID string `json:"request_id"`
	// TemplateName is the workflow's name, as FaaSFlow names it.
	TemplateName string `json:"template_name"`
	Workflow     string `json:"workflow"`
	// Phase is always PhaseInvocation.
	Phase string `json:"phase"`
	// Time is the invocation's duration in seconds (FaaSFlow's `time` is
	// the duration of the phase a record describes), the same as Latency.
	Time float64 `json:"time"`
	// St and Ed are the invocation's start and end.
	St float64 `json:"st"`
	Ed float64 `json:"ed"`
	// Latency is Ed - St in seconds.
	Latency float64 `json:"latency"`
	Status  string  `json:"status"`
	Error   string  `json:"error,omitempty"`
	// Mode is the execution mode the workflow was deployed with.
	Mode string `json:"mode"`
}

// NewInvocation makes the record of an invocation of workflow that ran from
// start to end and ended with status (and errMsg when it failed).
func NewInvocation(requestID, workflow, mode, status, errMsg string, start, end time.Time) Invocation {
	return Invocation{
		RequestID:    requestID,
		TemplateName: workflow,
		Workflow:     workflow,
		Phase:        PhaseInvocation,
		Time:         end.Sub(start).Seconds(),
		St:           UnixSeconds(start),
		Ed:           UnixSeconds(end),
		Latency:      end.Sub(start).Seconds(),
		Status:       status,
		Error:        errMsg,
		Mode:         mode,
	}
}

// UnixSeconds is t in Unix seconds with sub-second precision, as FaaSFlow
// records times.
func UnixSeconds(t time.Time) float64 {
	return float64(t.UnixNano()) / 1e9
}
