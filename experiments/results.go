package experiments

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// WriteResults writes raw.json (FaaSFlow's per-request schema, keyed by
// request ID) and summary.csv into dir.
func WriteResults(dir string, reqs []*Request, s Summary) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create results directory: %w", err)
	}
	raw := make(map[string]*Request, len(reqs))
	for i, r := range reqs {
		id := r.RequestID
		if id == "" {
			id = "failed-" + strconv.Itoa(i)
		}
		raw[id] = r
	}
	b, err := json.MarshalIndent(raw, "", " ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "raw.json"), b, 0o644); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "summary.csv"))
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	sec := func(v float64) string { return strconv.FormatFloat(v, 'f', 4, 64) }
	w.Write([]string{"count", "errors", "avg", "p50", "p90", "p95", "p99", "min", "max"})
	w.Write([]string{strconv.Itoa(s.Count), strconv.Itoa(s.Errors), sec(s.Avg), sec(s.P50), sec(s.P90), sec(s.P95), sec(s.P99), sec(s.Min), sec(s.Max)})
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
