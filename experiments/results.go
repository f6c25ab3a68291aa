package experiments

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"time"
)

// Meta describes a run, written beside its results as run.json.
type Meta struct {
	// Kind is latency, throughput or colocation; Level the co-location
	// level.
	Kind     string `json:"kind"`
	Level    string `json:"level,omitempty"`
	Workflow string `json:"workflow"`
	// Input is what every invocation was given.
	Input json.RawMessage `json:"input,omitempty"`
	// RPM is the open-loop rate; Clients and ClientGap shape a closed loop.
	RPM       float64 `json:"rpm,omitempty"`
	Clients   int     `json:"clients,omitempty"`
	ClientGap string  `json:"client_gap,omitempty"`
	Duration  string  `json:"duration,omitempty"`
	Warmup    string  `json:"warmup,omitempty"`
	RampUp    bool    `json:"ramp_up,omitempty"`
	// RampWindow is the length of each ramp-up window.
	RampWindow string `json:"ramp_window,omitempty"`
	// Mode and Placement are the deploy's (empty: the defaults).
	Mode            string `json:"mode,omitempty"`
	Placement       string `json:"placement,omitempty"`
	RequestTimeout  string `json:"request_timeout,omitempty"`
	DefaultMemoryMB int    `json:"default_memory_mb,omitempty"`
	// ExperimentFile is the experiment file the run's settings came from.
	ExperimentFile string `json:"experiment_file,omitempty"`
	Started        string `json:"started"`
}

// Name is the run's experiment name: its kind, and its level for
// co-location ("colocation-low").
func (m Meta) Name() string {
	if m.Level != "" {
		return m.Kind + "-" + m.Level
	}
	return m.Kind
}

// ExpectedName is the file name of the run's expected summary under
// results/expected/<source>/: "<name>-<workflow>.csv".
func (m Meta) ExpectedName() string { return m.Name() + "-" + m.Workflow + ".csv" }

// DirName is the run's results directory name: "<time>-<name>-<workflow>".
func (m Meta) DirName(started time.Time) string {
	return started.Format("20060102-150405") + "-" + m.Name() + "-" + m.Workflow
}

// WriteMeta writes dir/run.json.
func WriteMeta(dir string, m Meta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode run.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "run.json"), b, 0o644); err != nil {
		return fmt.Errorf("write run.json: %w", err)
	}
	return nil
}

// ReadMeta reads dir/run.json.
func ReadMeta(dir string) (Meta, error) {
	var m Meta
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if err != nil {
		return m, fmt.Errorf("%s is not a run directory: %w", dir, err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("%s/run.json: %w", dir, err)
	}
	return m, nil
}

// WriteResults writes raw.json (FaaSFlow's per-request schema, keyed by
// request ID) and summary.csv into dir, creating it.
func WriteResults(dir string, reqs []*Request, s Summary) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create results directory: %w", err)
	}
	raw := make(map[string]*Request, len(reqs))
	for i, r := range reqs {
		id := r.RequestID
		if id == "" {
			id = "unanswered-" + strconv.Itoa(i)
		}
		raw[id] = r
	}
	b, err := json.MarshalIndent(raw, "", " ")
	if err != nil {
		return fmt.Errorf("encode raw.json: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "raw.json"), b, 0o644); err != nil {
		return fmt.Errorf("write raw.json: %w", err)
	}
	return WriteSummary(filepath.Join(dir, "summary.csv"), s)
}

// sortByFireTime orders requests by the time they were fired.
func sortByFireTime(reqs []*Request) {
	sort.SliceStable(reqs, func(i, j int) bool { return reqs[i].FireTime < reqs[j].FireTime })
}
