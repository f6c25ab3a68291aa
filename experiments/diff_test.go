package experiments

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSummaryRoundTrip(t *testing.T) {
	want := Summary{Count: 30, Errors: 1, Avg: 0.15, P50: 0.14, P90: 0.2, P95: 0.21, P99: 0.3, Min: 0.1, Max: 0.31}
	path := filepath.Join(t.TempDir(), "s.csv")
	if err := WriteSummary(path, want); err != nil {
		t.Fatal(err)
	}
	// Expected results carry a comment saying where they come from.
	b, _ := os.ReadFile(path)
	os.WriteFile(path, append([]byte("# from somewhere\n"), b...), 0o644)
	got, err := ReadSummary(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("read back %+v, want %+v", got, want)
	}
}

func TestDiffVerdicts(t *testing.T) {
	expected := Summary{Count: 30, Avg: 0.1, P50: 0.1, P99: 0.2}
	tol := Tolerances{MaxRatio: map[string]float64{"avg": 1.5, "p50": 1.5, "p99": 3}, MaxErrors: 0}
	tests := []struct {
		name     string
		measured Summary
		wantOut  []string
	}{
		{name: "within tolerance", measured: Summary{Count: 30, Avg: 0.12, P50: 0.11, P99: 0.5}},
		{name: "faster is fine", measured: Summary{Count: 30, Avg: 0.01, P50: 0.01, P99: 0.01}},
		{name: "slow median", measured: Summary{Count: 30, Avg: 0.12, P50: 0.2, P99: 0.3}, wantOut: []string{"p50"}},
		{name: "errors", measured: Summary{Count: 29, Errors: 1, Avg: 0.1, P50: 0.1, P99: 0.2}, wantOut: []string{"errors"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out []string
			for _, r := range Diff(expected, tt.measured, tol) {
				if !r.OK {
					out = append(out, r.Metric)
				}
			}
			if strings.Join(out, ",") != strings.Join(tt.wantOut, ",") {
				t.Fatalf("out of tolerance: %v, want %v", out, tt.wantOut)
			}
			var sb strings.Builder
			if ok := PrintDiff(&sb, Diff(expected, tt.measured, tol)); ok != (len(tt.wantOut) == 0) {
				t.Fatalf("PrintDiff reported %v:\n%s", ok, sb.String())
			}
		})
	}
}

// TestReferenceSummaries checks the DataFlower summaries in
// results/expected against the figures the artifact's notes give
// (async wordcount 10 rpm: avg 0.623 s, p99 0.726 s).
func TestReferenceSummaries(t *testing.T) {
	s, err := ReadSummary("../results/expected/dataflower/latency-wordcount.csv")
	if err != nil {
		t.Fatal(err)
	}
	if s.Count != 50 || s.Avg < 0.622 || s.Avg > 0.624 || s.P99 < 0.725 || s.P99 > 0.727 {
		t.Fatalf("summary %+v does not match the artifact's figures", s)
	}
	if _, err := ReadTolerances("tolerances.yaml"); err != nil {
		t.Fatal(err)
	}
}
