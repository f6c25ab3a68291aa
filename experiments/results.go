package experiments

import (
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
	return WriteSummary(filepath.Join(dir, "summary.csv"), s)
}
