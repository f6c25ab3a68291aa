package experiments

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"time"

	"go.yaml.in/yaml/v3"
)

// Levels are the co-location levels of the original artifact, lightest first.
var Levels = []string{"low", "mid", "high", "ultraHigh"}

// File is an experiment file (experiments/default.yaml): the workflows to
// run with their inputs, and the shape of each experiment. Flags of
// `faasflow experiment` override its values.
type File struct {
	// RequestTimeout bounds one invocation as the client sees it; a request
	// still unanswered then counts as timed out.
	RequestTimeout time.Duration `yaml:"request_timeout" json:"request_timeout"`
	// DefaultMemoryMB is the memory charged, for container GB-s, to a
	// function that declares none.
	DefaultMemoryMB int `yaml:"default_memory_mb" json:"default_memory_mb"`
	// Mode and Placement are given to every deploy (empty: the gateway's
	// defaults, dataflow and round-robin).
	Mode      string `yaml:"mode" json:"mode,omitempty"`
	Placement string `yaml:"placement" json:"placement,omitempty"`
	// Workflows are the benchmarks, in the order the experiments run them.
	Workflows []WorkflowSpec `yaml:"workflows" json:"workflows"`
	// Latency, Throughput and Colocation shape each experiment.
	Latency    OpenLoopSpec   `yaml:"latency" json:"latency"`
	Throughput ClosedLoopSpec `yaml:"throughput" json:"throughput"`
	Colocation ColocationSpec `yaml:"colocation" json:"colocation"`
}

// WorkflowSpec is one benchmark of an experiment file.
type WorkflowSpec struct {
	// Name is the workflow's name as deployed.
	Name string `yaml:"name" json:"name"`
	// Dir is the workflow's directory (or file), relative to where
	// `faasflow experiment` runs; a missing one skips the workflow.
	Dir string `yaml:"dir" json:"dir"`
	// Input is given to every invocation, as YAML values.
	Input map[string]any `yaml:"input" json:"input,omitempty"`
	// RPM is the open-loop rate of the latency experiment, per minute.
	RPM float64 `yaml:"rpm" json:"rpm"`
}

// OpenLoopSpec shapes an open-loop experiment.
type OpenLoopSpec struct {
	// Workflows restricts the experiment to these names (empty: all).
	Workflows []string `yaml:"workflows" json:"workflows,omitempty"`
	// Duration is how long requests are fired; Warmup the first part of it
	// whose requests are left out of the results.
	Duration time.Duration `yaml:"duration" json:"duration"`
	Warmup   time.Duration `yaml:"warmup" json:"warmup"`
	// RampUp fires 4×, 3× and 2× slower in the first three windows of
	// RampWindow (the original: 20 s).
	RampUp     bool          `yaml:"ramp_up" json:"ramp_up"`
	RampWindow time.Duration `yaml:"ramp_window" json:"ramp_window"`
}

// ClosedLoopSpec shapes the throughput experiment.
type ClosedLoopSpec struct {
	// Workflows restricts the experiment to these names (empty: all).
	Workflows []string `yaml:"workflows" json:"workflows,omitempty"`
	// Clients invoke back to back, the next one starting ClientGap after
	// the previous.
	Clients   int           `yaml:"clients" json:"clients"`
	ClientGap time.Duration `yaml:"client_gap" json:"client_gap"`
	// Duration is how long clients invoke; requests fired in the first
	// Warmup are left out of the results.
	Duration time.Duration `yaml:"duration" json:"duration"`
	Warmup   time.Duration `yaml:"warmup" json:"warmup"`
}

// ColocationSpec shapes the co-location experiment: every workflow of the
// level at once, each at its own rate.
type ColocationSpec struct {
	OpenLoopSpec `yaml:",inline"`
	// Level is the default level (low, mid, high, ultraHigh).
	Level string `yaml:"level" json:"level"`
	// RateScale multiplies the levels' rates, to fit the original's load
	// (three 16-vCPU workers) on a smaller machine.
	RateScale float64 `yaml:"rate_scale" json:"rate_scale"`
	// Levels maps a level to requests per minute per workflow.
	Levels map[string]map[string]float64 `yaml:"levels" json:"levels"`
}

// LoadFile reads and checks an experiment file.
func LoadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read experiment file: %w", err)
	}
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("experiment file %s: %w", path, err)
	}
	if err := f.Check(); err != nil {
		return nil, fmt.Errorf("experiment file %s: %w", path, err)
	}
	return &f, nil
}

// Check reports the first value of f that cannot run.
func (f *File) Check() error {
	if f.RequestTimeout <= 0 {
		return fmt.Errorf("request_timeout must be positive")
	}
	if f.DefaultMemoryMB < 0 {
		return fmt.Errorf("default_memory_mb must not be negative")
	}
	seen := map[string]bool{}
	for i, w := range f.Workflows {
		switch {
		case w.Name == "":
			return fmt.Errorf("workflow %d has no name", i+1)
		case seen[w.Name]:
			return fmt.Errorf("workflow %s is listed twice", w.Name)
		case w.Dir == "":
			return fmt.Errorf("workflow %s has no dir", w.Name)
		case w.RPM < 0:
			return fmt.Errorf("workflow %s: rpm must not be negative", w.Name)
		}
		seen[w.Name] = true
	}
	for _, spec := range []struct {
		name  string
		names []string
	}{{"latency", f.Latency.Workflows}, {"throughput", f.Throughput.Workflows}} {
		for _, n := range spec.names {
			if !seen[n] {
				return fmt.Errorf("%s names workflow %s, which is not in workflows", spec.name, n)
			}
		}
	}
	for level, rates := range f.Colocation.Levels {
		if !slices.Contains(Levels, level) {
			return fmt.Errorf("colocation level %q: use one of %v", level, Levels)
		}
		for n, rpm := range rates {
			if !seen[n] {
				return fmt.Errorf("colocation level %s names workflow %s, which is not in workflows", level, n)
			}
			if rpm <= 0 {
				return fmt.Errorf("colocation level %s: rate of %s must be positive", level, n)
			}
		}
	}
	if err := f.Latency.check("latency"); err != nil {
		return err
	}
	if err := f.Colocation.OpenLoopSpec.check("colocation"); err != nil {
		return err
	}
	if f.Colocation.RateScale <= 0 {
		return fmt.Errorf("colocation: rate_scale must be positive")
	}
	t := f.Throughput
	if t.Clients <= 0 || t.Duration <= 0 || t.ClientGap < 0 || t.Warmup < 0 || t.Warmup >= t.Duration {
		return fmt.Errorf("throughput needs clients > 0, client_gap ≥ 0 and 0 ≤ warmup < duration")
	}
	return nil
}

func (s OpenLoopSpec) check(name string) error {
	if s.Duration <= 0 || s.Warmup < 0 || s.Warmup >= s.Duration {
		return fmt.Errorf("%s needs a positive duration and 0 ≤ warmup < duration (got %s, %s)", name, s.Duration, s.Warmup)
	}
	if s.RampUp && s.RampWindow <= 0 {
		return fmt.Errorf("%s: ramp_up needs a positive ramp_window", name)
	}
	return nil
}

// Workflow returns the named workflow of the file, or nil.
func (f *File) Workflow(name string) *WorkflowSpec {
	for i := range f.Workflows {
		if f.Workflows[i].Name == name {
			return &f.Workflows[i]
		}
	}
	return nil
}

// Select returns the workflows named (all, in file order, when names is
// empty), or an error naming one that the file does not have.
func (f *File) Select(names []string) ([]*WorkflowSpec, error) {
	if len(names) == 0 {
		out := make([]*WorkflowSpec, len(f.Workflows))
		for i := range f.Workflows {
			out[i] = &f.Workflows[i]
		}
		return out, nil
	}
	var out []*WorkflowSpec
	for _, n := range names {
		w := f.Workflow(n)
		if w == nil {
			return nil, fmt.Errorf("workflow %q is not in the experiment file", n)
		}
		out = append(out, w)
	}
	return out, nil
}

// LevelRates returns the co-location rates (requests per minute, already
// multiplied by RateScale) of a level, by workflow name, sorted by name.
func (f *File) LevelRates(level string) ([]string, map[string]float64, error) {
	rates, ok := f.Colocation.Levels[level]
	if !ok {
		return nil, nil, fmt.Errorf("no colocation level %q in the experiment file (have %v)", level, Levels)
	}
	names := make([]string, 0, len(rates))
	out := make(map[string]float64, len(rates))
	for n, rpm := range rates {
		names = append(names, n)
		out[n] = rpm * f.Colocation.RateScale
	}
	sort.Strings(names)
	return names, out, nil
}

// JSONInput returns the workflow's input as JSON values for an invocation.
func (w *WorkflowSpec) JSONInput() (map[string]json.RawMessage, error) {
	out := make(map[string]json.RawMessage, len(w.Input))
	for k, v := range w.Input {
		b, err := json.Marshal(v)
		if err != nil {
			return nil, fmt.Errorf("workflow %s, input %s: %w", w.Name, k, err)
		}
		out[k] = b
	}
	return out, nil
}
