package experiments

import (
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/workflow"
)

// Summary describes the measured (non-warm-up) requests of a run.
// Latencies are in seconds.
type Summary struct {
	// Count is the measured requests that succeeded; Errors those that
	// failed and Timeouts those that timed out (neither is in the
	// latencies).
	Count, Errors, Timeouts           int
	Avg, P50, P90, P95, P99, Min, Max float64
	// Throughput is the succeeded measured requests per second of the
	// measured window.
	Throughput float64
	// GBs is the container GB-s of the measured requests: each function
	// run's memory in GB times its run time, summed. GBsPerRequest divides
	// it by the measured requests that ran.
	GBs, GBsPerRequest float64
}

// Costs say how much memory each function is charged for container GB-s.
type Costs struct {
	// MemoryMB is the declared memory of a function, by name.
	MemoryMB map[string]int
	// DefaultMB is charged to a function that declares none (0 leaves
	// such functions out of GB-s).
	DefaultMB int
}

// CostsOf returns the costs of wf's functions, with defaultMB for those
// that declare no memory.
func CostsOf(wf *workflow.Workflow, defaultMB int) Costs {
	c := Costs{MemoryMB: map[string]int{}, DefaultMB: defaultMB}
	for _, f := range wf.Functions {
		if f.MemoryMB > 0 {
			c.MemoryMB[f.Name] = f.MemoryMB
		}
	}
	return c
}

// GBs returns the container GB-s of one request's function runs.
func (c Costs) GBs(r *Request) float64 {
	total := 0.0
	for _, e := range r.Logs {
		mb, ok := c.MemoryMB[e.FunctionName]
		if !ok {
			mb = c.DefaultMB
		}
		if e.Ed > e.St {
			total += float64(mb) / 1024 * (e.Ed - e.St)
		}
	}
	return total
}

// Summarize computes the summary of reqs, leaving out warm-up requests,
// with throughput over the span of the requests and no GB-s.
func Summarize(reqs []*Request) Summary { return SummarizeRun(reqs, 0, Costs{}) }

// SummarizeRun computes the summary of a run's requests, leaving out
// warm-up requests. window is the measured time (duration minus warm-up)
// for throughput; zero takes it from the requests: first fire to last
// answer. costs charge the function runs for container GB-s.
func SummarizeRun(reqs []*Request, window time.Duration, costs Costs) Summary {
	var s Summary
	var lat []float64
	ran := 0
	first, last := 0.0, 0.0
	for _, r := range reqs {
		if r.Warmup {
			continue
		}
		if len(r.Logs) > 0 {
			s.GBs += costs.GBs(r)
			ran++
		}
		switch r.Status {
		case api.StatusSucceeded:
		case StatusTimeout:
			s.Timeouts++
			continue
		default:
			s.Errors++
			continue
		}
		lat = append(lat, r.Latency)
		if first == 0 || r.FireTime < first {
			first = r.FireTime
		}
		last = max(last, r.FireTime+r.Latency)
	}
	if ran > 0 {
		s.GBsPerRequest = s.GBs / float64(ran)
	}
	s.Count = len(lat)
	if len(lat) == 0 {
		return s
	}
	switch {
	case window > 0:
		s.Throughput = float64(len(lat)) / window.Seconds()
	case last > first:
		s.Throughput = float64(len(lat)) / (last - first)
	}
	sort.Float64s(lat)
	sum := 0.0
	for _, l := range lat {
		sum += l
	}
	s.Avg = sum / float64(len(lat))
	s.P50, s.P90, s.P95, s.P99 = Percentile(lat, 0.50), Percentile(lat, 0.90), Percentile(lat, 0.95), Percentile(lat, 0.99)
	s.Min, s.Max = lat[0], lat[len(lat)-1]
	return s
}

// Latencies returns the sorted latencies of the measured requests that
// succeeded.
func Latencies(reqs []*Request) []float64 {
	var lat []float64
	for _, r := range reqs {
		if !r.Warmup && r.Status == api.StatusSucceeded {
			lat = append(lat, r.Latency)
		}
	}
	sort.Float64s(lat)
	return lat
}

// summaryColumns are the metrics of a summary CSV, in order; the first
// three are counts.
var summaryColumns = []string{"count", "errors", "timeouts", "avg", "p50", "p90", "p95", "p99", "min", "max",
	"throughput", "gb_s", "gb_s_per_request"}

func (s Summary) values() []float64 {
	return []float64{float64(s.Count), float64(s.Errors), float64(s.Timeouts), s.Avg, s.P50, s.P90, s.P95, s.P99,
		s.Min, s.Max, s.Throughput, s.GBs, s.GBsPerRequest}
}

func summaryFrom(vals map[string]float64) Summary {
	return Summary{Count: int(vals["count"]), Errors: int(vals["errors"]), Timeouts: int(vals["timeouts"]),
		Avg: vals["avg"], P50: vals["p50"], P90: vals["p90"], P95: vals["p95"], P99: vals["p99"],
		Min: vals["min"], Max: vals["max"], Throughput: vals["throughput"], GBs: vals["gb_s"],
		GBsPerRequest: vals["gb_s_per_request"]}
}

// WriteSummary writes s as a summary CSV file.
func WriteSummary(path string, s Summary) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("write summary: %w", err)
	}
	if err := FormatSummary(f, s); err != nil {
		f.Close()
		return fmt.Errorf("write summary %s: %w", path, err)
	}
	return f.Close()
}

// FormatSummary writes s as CSV: a header line and one row; latencies in
// seconds, throughput in requests per second, GB-s in GB × seconds.
func FormatSummary(out io.Writer, s Summary) error {
	w := csv.NewWriter(out)
	w.Write(summaryColumns)
	row := make([]string, len(summaryColumns))
	for i, v := range s.values() {
		prec := 4
		if i < 3 {
			prec = 0
		}
		row[i] = strconv.FormatFloat(v, 'f', prec, 64)
	}
	w.Write(row)
	w.Flush()
	return w.Error()
}

// ReadSummary reads a summary CSV written by WriteSummary. Lines starting
// with # are comments (expected results say where they come from); a
// column missing from an older file reads as 0.
func ReadSummary(path string) (Summary, error) {
	var s Summary
	f, err := os.Open(path)
	if err != nil {
		return s, fmt.Errorf("read summary: %w", err)
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
	return summaryFrom(vals), nil
}
