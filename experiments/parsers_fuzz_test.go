package experiments

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Fuzzers for the files `faasflow experiment` and `faasflow results` read:
// experiment files, raw per-request results (ours or the original
// artifact's), summary CSVs and tolerances. A file a user hands over may be
// anything: the readers must not panic, must say which file is wrong, and
// what they return must be usable. Plain `go test` runs the seeds.

func writeFuzzFile(t *testing.T, name string, b []byte) string {
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func addFuzzFiles(f *testing.F, patterns ...string) {
	for _, p := range patterns {
		files, _ := filepath.Glob(p)
		for _, file := range files {
			if b, err := os.ReadFile(file); err == nil {
				f.Add(b)
			}
		}
	}
}

func FuzzLoadFile(f *testing.F) {
	addFuzzFiles(f, "*.yaml")
	f.Add([]byte("request_timeout: 1m\n"))
	f.Add([]byte("request_timeout: -1s\n"))
	f.Add([]byte("request_timeout: 1m\nworkflows: [{name: a, dir: x}, {name: a, dir: y}]\n"))
	f.Add([]byte("request_timeout: 1m\nunknown: 1\n"))
	f.Add([]byte("colocation: {levels: {low: {a: 1}}}\n"))
	f.Add([]byte("{{{"))
	f.Add([]byte(""))

	f.Fuzz(func(t *testing.T, src []byte) {
		path := writeFuzzFile(t, "exp.yaml", src)
		file, err := LoadFile(path)
		if err != nil {
			if !strings.Contains(err.Error(), "experiment file") {
				t.Fatalf("error does not say which file: %v", err)
			}
			return
		}
		if err := file.Check(); err != nil {
			t.Fatalf("LoadFile returned a file that fails Check: %v", err)
		}
		all, err := file.Select(nil)
		if err != nil || len(all) != len(file.Workflows) {
			t.Fatalf("Select(nil) of a checked file: %d workflows, %v", len(all), err)
		}
		for _, w := range all {
			if file.Workflow(w.Name) == nil {
				t.Fatalf("workflow %q listed but not found by name", w.Name)
			}
		}
	})
}

// FuzzReadRaw reads raw.json files: every request returned has its ID and
// a status, and they come sorted by fire time.
func FuzzReadRaw(f *testing.F) {
	addFuzzFiles(f, "testdata/*.json", "../results/expected/*.json")
	f.Add([]byte(`{"r1": {"logs": [], "fire_time": 2, "latency": 0.5}, "r2": {"fire_time": 1, "latency": 0.1, "status": "failed"}}`))
	f.Add([]byte(`{"r1": null}`))
	f.Add([]byte(`{"r1": {"fire_time": "soon"}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{}`))

	f.Fuzz(func(t *testing.T, src []byte) {
		path := writeFuzzFile(t, "raw.json", src)
		reqs, err := ReadRaw(path)
		if err != nil {
			if !strings.Contains(err.Error(), "raw") {
				t.Fatalf("error does not say which file: %v", err)
			}
			return
		}
		for i, r := range reqs {
			if r == nil {
				t.Fatalf("request %d is nil", i)
			}
			if r.Status == "" {
				t.Fatalf("request %q has no status", r.RequestID)
			}
			if i > 0 && reqs[i-1].FireTime > r.FireTime {
				t.Fatalf("requests not sorted by fire time: %v before %v", reqs[i-1].FireTime, r.FireTime)
			}
		}
		Summarize(reqs) // must not panic on whatever was read
	})
}

// FuzzReadSummary reads summary CSVs; what it reads, written again and
// read back, writes the same bytes.
func FuzzReadSummary(f *testing.F) {
	addFuzzFiles(f, "../results/expected/*.csv", "testdata/*.csv")
	var b bytes.Buffer
	FormatSummary(&b, Summary{Count: 10, Errors: 1, Avg: 0.5, P50: 0.4, P99: 2, Throughput: 3.25})
	f.Add(b.Bytes())
	f.Add([]byte("# from the paper\ncount,avg\n3,0.1\n"))
	f.Add([]byte("count,avg\n3\n"))
	f.Add([]byte("count,avg\nthree,0.1\n"))
	f.Add([]byte("count\n1e400\n"))
	f.Add([]byte("count\nNaN\n"))
	f.Add([]byte("\"unterminated\n"))
	f.Add([]byte(""))

	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := ReadSummary(writeFuzzFile(t, "summary.csv", src))
		if err != nil {
			if !strings.Contains(err.Error(), "summary") {
				t.Fatalf("error does not say which file: %v", err)
			}
			return
		}
		var once, twice bytes.Buffer
		if err := FormatSummary(&once, s); err != nil {
			t.Fatal(err)
		}
		again, err := ReadSummary(writeFuzzFile(t, "again.csv", once.Bytes()))
		if err != nil {
			t.Fatalf("a summary written by FormatSummary does not read back: %v\n%s", err, once.Bytes())
		}
		if err := FormatSummary(&twice, again); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(once.Bytes(), twice.Bytes()) {
			t.Fatalf("summary changed when written and read again:\n%s\n%s", once.Bytes(), twice.Bytes())
		}
	})
}

func FuzzReadTolerances(f *testing.F) {
	addFuzzFiles(f, "tolerances.yaml")
	f.Add([]byte("max_ratio: {avg: 1.5}\nmin_ratio: {throughput: 0.5}\nmax_errors: 2\n"))
	f.Add([]byte("max_ratio: [1, 2]\n"))
	f.Add([]byte("max_errors: many\n"))

	f.Fuzz(func(t *testing.T, src []byte) {
		tol, err := ReadTolerances(writeFuzzFile(t, "tol.yaml", src))
		if err != nil {
			if !strings.Contains(err.Error(), "tolerances") {
				t.Fatalf("error does not say which file: %v", err)
			}
			return
		}
		// Diff with what was read must not panic, and bounds only what it names.
		rows := Diff(Summary{Count: 1, Avg: 1, P50: 1, Throughput: 1}, Summary{Count: 1, Avg: 2, P50: 2, Throughput: 2}, tol)
		for _, r := range rows {
			if r.Metric == "" {
				t.Fatalf("Diff row without a metric: %+v", r)
			}
		}
	})
}
