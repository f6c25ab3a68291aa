package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/faasflow/faasflow-go/experiments"
)

// runIn runs the faasflow binary of bin in dir and returns its stdout,
// stderr and exit code.
func runIn(t *testing.T, bin, dir string, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(filepath.Join(bin, "faasflow"), args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return stdout.String(), stderr.String(), ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run faasflow %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), 0
}

// writeRun writes a crafted run directory: run.json and a summary.csv of
// the given header and row.
func writeRun(t *testing.T, dir, meta, header, row string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "run.json"), []byte(meta), 0o644)
	os.WriteFile(filepath.Join(dir, "summary.csv"), []byte(header+"\n"+row+"\n"), 0o644)
}

// TestResultsDiffExitStatus: `faasflow results diff` exits 0 when every
// judged metric of every run is within tolerance and 1 otherwise, naming
// the metric, with crafted runs for each kind of metric; the expected
// summary defaults to results/expected/local/<experiment>-<workflow>.csv.
func TestResultsDiffExitStatus(t *testing.T) {
	bin := binDir(t)
	root := t.TempDir()
	tol, err := filepath.Abs("../../experiments/tolerances.yaml")
	if err != nil {
		t.Fatal(err)
	}
	const header = "count,errors,timeouts,avg,p50,p90,p95,p99,min,max,throughput,gb_s,gb_s_per_request"
	local := filepath.Join(root, "results", "expected", "local")
	os.MkdirAll(local, 0o755)
	os.WriteFile(filepath.Join(local, "latency-wordcount.csv"),
		[]byte("# crafted baseline\n"+header+"\n40,0,0,0.1,0.1,0.12,0.13,0.15,0.08,0.15,1.0,4.0,0.1\n"), 0o644)
	// An older baseline without the newer columns: they are not judged.
	os.WriteFile(filepath.Join(local, "colocation-low-svd.csv"),
		[]byte("count,errors,avg,p50,p90,p95,p99,min,max\n20,0,0.3,0.3,0.4,0.4,0.5,0.2,0.5\n"), 0o644)
	latency := `{"kind": "latency", "workflow": "wordcount"}`
	tests := []struct {
		name, meta, row string
		wantCode        int
		wantOut         string
	}{
		{name: "within", meta: latency, row: "40,0,0,0.11,0.11,0.13,0.14,0.2,0.09,0.2,0.95,4.4,0.11", wantOut: "ok"},
		{name: "faster and cheaper", meta: latency, row: "40,0,0,0.01,0.01,0.01,0.01,0.01,0.01,0.01,1.0,0.4,0.01", wantOut: "ok"},
		{name: "slow median", meta: latency, row: "40,0,0,0.11,0.3,0.13,0.14,0.2,0.09,0.2,1.0,4.4,0.11", wantCode: 1, wantOut: "p50"},
		{name: "slow tail", meta: latency, row: "40,0,0,0.11,0.11,0.13,0.14,0.9,0.09,0.9,1.0,4.4,0.11", wantCode: 1, wantOut: "p99"},
		{name: "an error", meta: latency, row: "39,1,0,0.11,0.11,0.13,0.14,0.2,0.09,0.2,1.0,4.4,0.11", wantCode: 1, wantOut: "errors"},
		{name: "a timeout", meta: latency, row: "39,0,1,0.11,0.11,0.13,0.14,0.2,0.09,0.2,1.0,4.4,0.11", wantCode: 1, wantOut: "timeouts"},
		{name: "low throughput", meta: latency, row: "20,0,0,0.11,0.11,0.13,0.14,0.2,0.09,0.2,0.5,2.2,0.11", wantCode: 1, wantOut: "throughput"},
		{name: "costly", meta: latency, row: "40,0,0,0.11,0.11,0.13,0.14,0.2,0.09,0.2,1.0,40,1.0", wantCode: 1, wantOut: "gb_s_per_request"},
		{name: "older baseline", meta: `{"kind": "colocation", "level": "low", "workflow": "svd"}`,
			row: "20,0,0,0.31,0.31,0.41,0.41,0.51,0.21,0.51,0.01,99,9", wantOut: "colocation-low-svd.csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := filepath.Join(root, "results", strings.ReplaceAll(tt.name, " ", "-"))
			writeRun(t, run, tt.meta, header, tt.row)
			out, errOut, code := runIn(t, bin, root, nil, "results", "diff", run, "--tolerances", tol)
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.wantCode, out, errOut)
			}
			for _, line := range strings.Split(out, "\n") {
				f := strings.Fields(line)
				if len(f) > 0 && f[len(f)-1] == "OUT" && (tt.wantCode == 0 || f[0] != tt.wantOut) {
					t.Fatalf("metric %s is OUT, want only %s:\n%s", f[0], tt.wantOut, out)
				}
			}
			if !strings.Contains(out, tt.wantOut) {
				t.Fatalf("output does not mention %q:\n%s", tt.wantOut, out)
			}
			if tt.wantCode != 0 && !strings.Contains(errOut, "out of tolerance") {
				t.Fatalf("stderr does not say out of tolerance: %q", errOut)
			}
		})
	}

	t.Run("several runs", func(t *testing.T) {
		within, slow := filepath.Join(root, "results", "within"), filepath.Join(root, "results", "slow-median")
		if _, _, code := runIn(t, bin, root, nil, "results", "diff", within, within, "--tolerances", tol); code != 0 {
			t.Fatalf("two runs within tolerance: exit %d", code)
		}
		out, errOut, code := runIn(t, bin, root, nil, "results", "diff", within, slow, "--tolerances", tol)
		if code != 1 || !strings.Contains(errOut, "1 of 2 runs") || strings.Count(out, "METRIC") != 2 {
			t.Fatalf("one of two runs out: exit %d\n%s%s", code, out, errOut)
		}
	})
	t.Run("not a run", func(t *testing.T) {
		_, errOut, code := runIn(t, bin, root, nil, "results", "diff", t.TempDir(), "--tolerances", tol)
		if code != 1 || !strings.Contains(errOut, "not a run directory") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
	t.Run("no baseline", func(t *testing.T) {
		run := filepath.Join(root, "results", "nobase")
		writeRun(t, run, `{"kind": "throughput", "workflow": "video"}`, header, "1,0,0,1,1,1,1,1,1,1,1,1,1")
		_, errOut, code := runIn(t, bin, root, nil, "results", "diff", run, "--tolerances", tol)
		if code != 1 || !strings.Contains(errOut, "throughput-video.csv") {
			t.Fatalf("exit %d: %s", code, errOut)
		}
	})
}

// TestCLIExperiments runs the experiments through the CLI against a local
// cluster, shortened by flags: a latency run writes its results and, with
// no baseline, passes; against a baseline it cannot meet it exits 1 after
// printing the diff table; throughput and colocation runs write theirs; a
// workflow whose directory is absent is skipped with a note.
func TestCLIExperiments(t *testing.T) {
	c := &cli{t: t, bin: binDir(t), home: t.TempDir()}
	base := freePorts(t, 4)
	c.mustRun("cluster", "up", "--workers", "3", "--gateway-port", strconv.Itoa(base), "--worker-port", strconv.Itoa(base+1))
	defer c.run("cluster", "down")

	wordcount, err := filepath.Abs("../../benchmarks/wordcount")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "exp.yaml")
	os.WriteFile(file, []byte(`
request_timeout: 30s
default_memory_mb: 256
workflows:
  - {name: wordcount, dir: `+wordcount+`, input: {seed: 5}, rpm: 60}
  - {name: absent, dir: `+filepath.Join(dir, "absent")+`, rpm: 60}
latency: {duration: 60s, warmup: 20s, ramp_up: true, ramp_window: 5s}
throughput: {clients: 2, client_gap: 1s, duration: 3s, warmup: 1s}
colocation:
  level: low
  rate_scale: 1
  duration: 60s
  warmup: 20s
  levels: {low: {wordcount: 120, absent: 10}}
`), 0o644)
	out, expected := filepath.Join(dir, "results"), filepath.Join(dir, "expected")
	os.MkdirAll(expected, 0o755)
	tol, _ := filepath.Abs("../../experiments/tolerances.yaml")
	common := []string{"--file", file, "--out", out, "--expected", expected, "--tolerances", tol}

	// The flags override the file: 120 rpm for 5 s without ramp-up, 1 s warm-up.
	stdout, stderr, code := c.run(append([]string{"experiment", "latency", "--rpm", "120", "--duration", "5s", "--warmup", "1s", "--ramp-up=false"}, common...)...)
	if code != 0 {
		t.Fatalf("latency: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{"skipping absent:", "latency: wordcount at 120 rpm for 5s (warm-up 1s, ramp-up false): 10 requests",
		"of 5s: sent 10/10, done 10, errors 0, timeouts 0", "8 measured requests, 0 errors, 0 timeouts", "no expected results at"} {
		if !strings.Contains(stdout, want) {
			t.Fatalf("latency output lacks %q:\n%s", want, stdout)
		}
	}
	runs, _ := filepath.Glob(filepath.Join(out, "*-latency-wordcount"))
	if len(runs) != 1 {
		t.Fatalf("latency run directories: %v", runs)
	}
	for _, f := range []string{"raw.json", "summary.csv", "run.json", "cdf.png", "timeline.png"} {
		if _, err := os.Stat(filepath.Join(runs[0], f)); err != nil {
			t.Fatal(err)
		}
	}
	s, err := experiments.ReadSummary(filepath.Join(runs[0], "summary.csv"))
	if err != nil || s.Count != 8 || s.GBs <= 0 {
		t.Fatalf("summary %+v (%v)", s, err)
	}

	// A baseline 100 times faster: the same run is out of tolerance.
	s.Avg, s.P50, s.P90, s.P95, s.P99 = s.Avg/100, s.P50/100, s.P90/100, s.P95/100, s.P99/100
	if err := experiments.WriteSummary(filepath.Join(expected, "latency-wordcount.csv"), s); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code = c.run(append([]string{"experiment", "latency", "wordcount", "--rpm", "120", "--duration", "3s", "--warmup", "1s"}, common...)...)
	if code != 1 || !strings.Contains(stdout, "METRIC") || !strings.Contains(stdout, "OUT of tolerance") || !strings.Contains(stderr, "1 of 1 runs") {
		t.Fatalf("latency against a baseline it cannot meet: exit %d\n%s%s", code, stdout, stderr)
	}
	if _, _, code := c.run("results", "diff", runs[0], "--expected", filepath.Join(expected, "latency-wordcount.csv"), "--tolerances", tol); code != 1 {
		t.Fatalf("results diff of the first run against the fast baseline: exit %d", code)
	}

	stdout, stderr, code = c.run(append([]string{"experiment", "throughput", "--workflows", "wordcount"}, common...)...)
	if code != 0 || !strings.Contains(stdout, "2 clients started 1s apart") {
		t.Fatalf("throughput: exit %d\n%s%s", code, stdout, stderr)
	}
	stdout, stderr, code = c.run(append([]string{"experiment", "colocation", "low", "--duration", "3s", "--warmup", "1s", "--rate-scale", "0.5"}, common...)...)
	if code != 0 || !strings.Contains(stdout, "wordcount         60.00 rpm") || !strings.Contains(stdout, "skipping absent") {
		t.Fatalf("colocation: exit %d\n%s%s", code, stdout, stderr)
	}
	for _, pattern := range []string{"*-throughput-wordcount", "*-colocation-low-wordcount"} {
		if m, _ := filepath.Glob(filepath.Join(out, pattern, "summary.csv")); len(m) != 1 {
			t.Fatalf("%s: %v", pattern, m)
		}
	}
}

func TestIsTerminal(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if isTerminal(w) || isTerminal(f) {
		t.Fatal("a pipe or a file taken for a terminal")
	}
}
