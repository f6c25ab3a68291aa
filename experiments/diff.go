package experiments

import (
	"encoding/json"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/faasflow/faasflow-go/api"
)

// ReadRaw reads per-request records in FaaSFlow's raw schema ({request_id:
// {logs, fire_time, latency}}), ours or the original artifact's; records
// without a status count as succeeded.
func ReadRaw(path string) ([]*Request, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read raw results: %w", err)
	}
	var raw map[string]*Request
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	reqs := make([]*Request, 0, len(raw))
	for id, r := range raw {
		if r == nil {
			return nil, fmt.Errorf("read %s: request %q is null, not a record", path, id)
		}
		r.RequestID = id
		if r.Status == "" {
			r.Status = api.StatusSucceeded
		}
		reqs = append(reqs, r)
	}
	sortByFireTime(reqs)
	return reqs, nil
}

// Tolerances say how far a run may be from its expected results.
type Tolerances struct {
	// MaxRatio bounds measured / expected per latency metric (avg, p50, ...).
	MaxRatio map[string]float64 `yaml:"max_ratio"`
	// MinRatio bounds measured / expected from below, for metrics where
	// more is better (throughput).
	MinRatio map[string]float64 `yaml:"min_ratio"`
	// MaxErrors bounds the failed requests of the run, MaxTimeouts the
	// timed-out ones.
	MaxErrors   int `yaml:"max_errors"`
	MaxTimeouts int `yaml:"max_timeouts"`
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
	// Ratio is Measured / Expected (0 when nothing is expected).
	Ratio float64
	OK    bool
	// Limit describes the tolerance ("ratio ≤ 1.5"), empty when the metric
	// is only shown.
	Limit string
}

// Diff compares a run's summary with the expected one. A metric with a
// tolerance is out of it when its ratio is past the bound; a metric whose
// expected value is 0 (an older file without it) has nothing to compare
// and passes. Errors and timeouts are bounded in number.
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
		case name == "timeouts":
			row.OK = measured.Timeouts <= tol.MaxTimeouts
			row.Limit = fmt.Sprintf("≤ %d", tol.MaxTimeouts)
		case tol.MaxRatio[name] > 0:
			row.OK = ev[i] == 0 || row.Ratio <= tol.MaxRatio[name]
			row.Limit = fmt.Sprintf("ratio ≤ %g", tol.MaxRatio[name])
		case tol.MinRatio[name] > 0:
			row.OK = ev[i] == 0 || row.Ratio >= tol.MinRatio[name]
			row.Limit = fmt.Sprintf("ratio ≥ %g", tol.MinRatio[name])
		}
		rows = append(rows, row)
	}
	return rows
}

// PrintDiff writes the comparison as a table and reports whether every
// metric is within tolerance.
func PrintDiff(w io.Writer, rows []DiffRow) bool {
	all := true
	fmt.Fprintf(w, "%-16s %12s %12s %8s  %-14s %s\n", "METRIC", "EXPECTED", "MEASURED", "RATIO", "TOLERANCE", "VERDICT")
	for _, r := range rows {
		verdict := "ok"
		if !r.OK {
			verdict, all = "OUT", false
		}
		if r.Limit == "" {
			verdict = "-"
		}
		ratio := "-"
		if r.Ratio != 0 {
			ratio = fmt.Sprintf("%.2f", r.Ratio)
		}
		fmt.Fprintf(w, "%-16s %12.4g %12.4g %8s  %-14s %s\n", r.Metric, r.Expected, r.Measured, ratio, r.Limit, verdict)
	}
	return all
}
