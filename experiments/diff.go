package experiments

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// Meta describes a run, written beside its results as run.json.
type Meta struct {
	Kind     string  `json:"kind"`
	Workflow string  `json:"workflow"`
	RPM      float64 `json:"rpm,omitempty"`
	Duration string  `json:"duration,omitempty"`
	Warmup   string  `json:"warmup,omitempty"`
	RampUp   bool    `json:"ramp_up,omitempty"`
	Started  string  `json:"started"`
}

// WriteMeta writes dir/run.json.
func WriteMeta(dir string, m Meta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "run.json"), b, 0o644)
}

// ReadMeta reads dir/run.json.
func ReadMeta(dir string) (Meta, error) {
	var m Meta
	b, err := os.ReadFile(filepath.Join(dir, "run.json"))
	if err != nil {
		return m, fmt.Errorf("%s is not a run directory: %w", dir, err)
	}
	return m, json.Unmarshal(b, &m)
}

// summaryColumns are the metrics of a summary CSV, in order.
var summaryColumns = []string{"count", "errors", "avg", "p50", "p90", "p95", "p99", "min", "max"}

func (s Summary) values() []float64 {
	return []float64{float64(s.Count), float64(s.Errors), s.Avg, s.P50, s.P90, s.P95, s.P99, s.Min, s.Max}
}

// WriteSummary writes s as a summary CSV file.
func WriteSummary(path string, s Summary) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := FormatSummary(f, s); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// FormatSummary writes s as CSV: a header line and one row, latencies in
// seconds.
func FormatSummary(out io.Writer, s Summary) error {
	w := csv.NewWriter(out)
	w.Write(summaryColumns)
	row := make([]string, len(summaryColumns))
	for i, v := range s.values() {
		prec := 4
		if i < 2 {
			prec = 0
		}
		row[i] = strconv.FormatFloat(v, 'f', prec, 64)
	}
	w.Write(row)
	w.Flush()
	return w.Error()
}

// ReadSummary reads a summary CSV written by WriteSummary. Lines starting
// with # are comments (expected results say where they come from).
func ReadSummary(path string) (Summary, error) {
	var s Summary
	f, err := os.Open(path)
	if err != nil {
		return s, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comment = '#'
	rows, err := r.ReadAll()
	if err != nil {
		return s, fmt.Errorf("read summary %s: %w", path, err)
	}
	if len(rows) != 2 || len(rows[1]) != len(rows[0]) {
		return s, fmt.Errorf("summary %s must have a header and one row", path)
	}
	vals := map[string]float64{}
	for i, name := range rows[0] {
		v, err := strconv.ParseFloat(rows[1][i], 64)
		if err != nil {
			return s, fmt.Errorf("summary %s, column %s: %w", path, name, err)
		}
		vals[name] = v
	}
	s = Summary{Count: int(vals["count"]), Errors: int(vals["errors"]), Avg: vals["avg"], P50: vals["p50"],
		P90: vals["p90"], P95: vals["p95"], P99: vals["p99"], Min: vals["min"], Max: vals["max"]}
	return s, nil
}

// ReadRaw reads per-request records in FaaSFlow's raw schema ({request_id:
// {logs, fire_time, latency}}), ours or the original artifact's; records
// without a status count as succeeded.
func ReadRaw(path string) ([]*Request, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var raw map[string]*Request
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	reqs := make([]*Request, 0, len(raw))
	for id, r := range raw {
		r.RequestID = id
		if r.Status == "" {
			r.Status = "succeeded"
		}
		reqs = append(reqs, r)
	}
	return reqs, nil
}

// Tolerances say how far a run may be from its expected results.
type Tolerances struct {
	// MaxRatio bounds measured / expected per latency metric (avg, p50, ...).
	MaxRatio map[string]float64 `yaml:"max_ratio"`
	// MaxErrors bounds the failed requests of the run.
	MaxErrors int `yaml:"max_errors"`
}

// ReadTolerances reads a tolerances file.
func ReadTolerances(path string) (Tolerances, error) {
	var t Tolerances
	b, err := os.ReadFile(path)
	if err != nil {
		return t, err
	}
	if err := yaml.Unmarshal(b, &t); err != nil {
		return t, fmt.Errorf("read tolerances %s: %w", path, err)
	}
	return t, nil
}

// DiffRow is one metric compared.
type DiffRow struct {
	Metric             string
	Expected, Measured float64
	Ratio              float64
	OK                 bool
	Limit              string
}

// Diff compares a run's summary with the expected one.
func Diff(expected, measured Summary, tol Tolerances) []DiffRow {
	var rows []DiffRow
	ev, mv := expected.values(), measured.values()
	for i, name := range summaryColumns {
		row := DiffRow{Metric: name, Expected: ev[i], Measured: mv[i], OK: true}
		if ev[i] != 0 {
			row.Ratio = mv[i] / ev[i]
		}
		switch {
		case name == "errors":
			row.OK = measured.Errors <= tol.MaxErrors
			row.Limit = fmt.Sprintf("≤ %d", tol.MaxErrors)
		case tol.MaxRatio[name] > 0:
			row.OK = ev[i] == 0 || row.Ratio <= tol.MaxRatio[name]
			row.Limit = fmt.Sprintf("ratio ≤ %g", tol.MaxRatio[name])
		}
		rows = append(rows, row)
	}
	return rows
}

// PrintDiff writes the comparison as a table and reports whether every
// metric is within tolerance.
func PrintDiff(w io.Writer, rows []DiffRow) bool {
	all := true
	fmt.Fprintf(w, "%-8s %12s %12s %8s  %-14s %s\n", "METRIC", "EXPECTED", "MEASURED", "RATIO", "TOLERANCE", "VERDICT")
	for _, r := range rows {
		verdict := "ok"
		if !r.OK {
			verdict, all = "OUT", false
		}
		ratio := "-"
		if r.Ratio != 0 {
			ratio = fmt.Sprintf("%.2f", r.Ratio)
		}
		fmt.Fprintf(w, "%-8s %12.4g %12.4g %8s  %-14s %s\n", r.Metric, r.Expected, r.Measured, ratio, r.Limit, verdict)
	}
	return all
}
