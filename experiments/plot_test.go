package experiments

import (
	"image/png"
	"os"
	"path/filepath"
	"testing"

	"github.com/faasflow/faasflow-go/api"
)

// pngSize decodes a PNG file's header and returns its size.
func pngSize(t *testing.T, path string) (int, int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatalf("%s is not a PNG: %v", path, err)
	}
	return cfg.Width, cfg.Height
}

func TestPlots(t *testing.T) {
	dir := t.TempDir()
	var reqs []*Request
	for i := range 9 {
		fire := 100.0 + float64(i)
		lat := 0.1 + 0.01*float64(i)
		reqs = append(reqs, &Request{FireTime: fire, Latency: lat, Status: api.StatusSucceeded, Logs: []LogEntry{
			{FunctionName: "start", St: fire + 0.005, Ed: fire + 0.03},
			{FunctionName: "count", St: fire + 0.03, Ed: fire + 0.08},
			{FunctionName: "count", St: fire + 0.031, Ed: fire + 0.07},
			{FunctionName: "merge", St: fire + 0.08, Ed: fire + lat - 0.005},
		}})
	}
	reqs = append(reqs, &Request{Status: StatusTimeout, Latency: 60}, &Request{Status: api.StatusSucceeded, Latency: 9, Warmup: true})
	med := MedianRequest(reqs)
	if med == nil || med.Latency != 0.14 {
		t.Fatalf("median request %+v, want the one of latency 0.14", med)
	}
	expected := &Summary{Count: 30, Min: 0.08, P50: 0.12, P90: 0.15, P95: 0.16, P99: 0.2, Max: 0.2}
	m := Meta{Kind: "latency", Workflow: "wordcount", RPM: 60}
	if err := WritePlots(dir, m, reqs, expected, ExpectedLabel("results/expected/local/latency-wordcount.csv")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"cdf.png", "timeline.png"} {
		if w, h := pngSize(t, filepath.Join(dir, name)); w < 400 || h < 300 {
			t.Fatalf("%s is %d×%d pixels", name, w, h)
		}
	}
	// Without a measured request there is nothing to draw: an error, no file.
	empty := t.TempDir()
	if err := WritePlots(empty, m, reqs[9:10], nil, ""); err == nil {
		t.Fatal("plots of a run without successes: no error")
	}
	if _, err := os.Stat(filepath.Join(empty, "cdf.png")); err == nil {
		t.Fatal("cdf.png written for a run without successes")
	}
}
