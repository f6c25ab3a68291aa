package experiments

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/internal/testcluster"
	"github.com/faasflow/faasflow-go/workflow"
)

// TestRunnerOnCluster runs the three experiments, shortened, against a
// three-worker cluster with wordcount and a workflow whose directory is
// absent: wordcount's runs write raw records with its functions, a summary
// with GB-s, plots and run.json, and are compared with their expected
// summaries; the absent workflow is skipped.
func TestRunnerOnCluster(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	file := &File{
		RequestTimeout: 30 * time.Second, DefaultMemoryMB: 128,
		Workflows: []WorkflowSpec{
			{Name: "wordcount", Dir: "../benchmarks/wordcount", Input: map[string]any{"seed": 2}, RPM: 120},
			{Name: "absent", Dir: "../benchmarks/absent", RPM: 60},
		},
		Latency:    OpenLoopSpec{Duration: 5 * time.Second, Warmup: time.Second},
		Throughput: ClosedLoopSpec{Clients: 2, ClientGap: time.Second, Duration: 3 * time.Second, Warmup: 500 * time.Millisecond},
		Colocation: ColocationSpec{OpenLoopSpec: OpenLoopSpec{Duration: 4 * time.Second, Warmup: time.Second},
			RateScale: 2, Levels: map[string]map[string]float64{"low": {"wordcount": 60, "absent": 10}}},
	}
	if err := file.Check(); err != nil {
		t.Fatal(err)
	}
	expected := t.TempDir()
	// A latency baseline the run cannot meet (p50 of 1 ms), and a
	// throughput one it easily meets.
	os.WriteFile(filepath.Join(expected, "latency-wordcount.csv"),
		[]byte("# crafted\ncount,errors,timeouts,avg,p50,p90,p95,p99,min,max\n8,0,0,0.001,0.001,0.001,0.001,0.001,0.001,0.001\n"), 0o644)
	os.WriteFile(filepath.Join(expected, "throughput-wordcount.csv"),
		[]byte("# crafted\ncount,errors,timeouts,avg,p50,p90,p95,p99,min,max,throughput\n5,0,0,60,60,60,60,60,60,60,0.1\n"), 0o644)
	tol := Tolerances{MaxRatio: map[string]float64{"avg": 1.5, "p50": 1.5}, MinRatio: map[string]float64{"throughput": 0.5}}
	var out strings.Builder
	deployed := 0
	r := &Runner{
		File: file, FilePath: "test.yaml", Client: c.Client, Out: t.TempDir(), Expected: expected, Tolerances: tol,
		Stdout: &out, ProgressEvery: time.Second,
		Deploy: func(ctx context.Context, wf *workflow.Workflow) error {
			deployed++
			c.DeployWorkflow(t, &api.DeployRequest{Workflow: wf})
			return nil
		},
	}
	ctx := context.Background()
	specs, err := file.Select(nil)
	if err != nil {
		t.Fatal(err)
	}

	lat := r.Latency(ctx, specs)
	if len(lat) != 2 || lat[1].Skipped == "" || lat[1].Failed() {
		t.Fatalf("outcomes %+v: want wordcount, then absent skipped", lat)
	}
	if !strings.Contains(out.String(), "skipping absent: ../benchmarks/absent is absent") {
		t.Fatalf("no note about the absent workflow:\n%s", out.String())
	}
	o := lat[0]
	checkRun(t, o, "latency", 10)
	// 120 rpm for 5 s, the first second warm-up: 8 measured.
	if o.Summary.Count != 8 || o.Summary.Errors+o.Summary.Timeouts != 0 {
		t.Fatalf("latency summary %+v, want 8 measured requests, all succeeded", o.Summary)
	}
	if o.Diff == nil || o.InTolerance || !o.Failed() {
		t.Fatalf("latency run against a 1-ms baseline: in tolerance %v, diff %v", o.InTolerance, o.Diff)
	}
	if !strings.Contains(out.String(), "OUT") {
		t.Fatalf("no diff table with an OUT verdict printed:\n%s", out.String())
	}

	thr := r.Throughput(ctx, specs[:1])
	o = thr[0]
	checkRun(t, o, "throughput", 2)
	if o.Meta.Clients != 2 || !o.InTolerance || o.Failed() || o.Summary.Throughput <= 0.05 {
		t.Fatalf("throughput run: clients %d, in tolerance %v, %g requests/s, diff %+v", o.Meta.Clients, o.InTolerance, o.Summary.Throughput, o.Diff)
	}

	col := r.Colocation(ctx, "low")
	if len(col) != 2 || col[0].Skipped == "" {
		t.Fatalf("colocation outcomes %+v: want absent skipped, then wordcount", col)
	}
	o = col[1]
	checkRun(t, o, "colocation-low", 4)
	if o.Meta.RPM != 120 || o.Diff != nil || o.Failed() {
		t.Fatalf("colocation run: %g rpm (want 60 × 2), diff %v, err %v", o.Meta.RPM, o.Diff, o.Err)
	}
	if !strings.Contains(out.String(), "no expected results at "+filepath.Join(expected, "colocation-low-wordcount.csv")) {
		t.Fatalf("no note about the missing baseline:\n%s", out.String())
	}
	if deployed != 3 {
		t.Fatalf("%d deploys, want one per run of wordcount", deployed)
	}
	if r.Colocation(ctx, "ultraHigh")[0].Err == nil {
		t.Fatal("a level the file does not have: no error")
	}
}

// checkRun checks a run's directory: its files, its raw records (at least
// minReqs requests, wordcount's functions in each) and its summary's GB-s.
func checkRun(t *testing.T, o Outcome, name string, minReqs int) {
	t.Helper()
	if o.Err != nil {
		t.Fatalf("%s: %v", name, o.Err)
	}
	if !strings.HasSuffix(o.Dir, "-"+name+"-wordcount") {
		t.Fatalf("run directory %s, want …-%s-wordcount", o.Dir, name)
	}
	for _, f := range []string{"raw.json", "summary.csv", "run.json", "cdf.png", "timeline.png"} {
		if _, err := os.Stat(filepath.Join(o.Dir, f)); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	m, err := ReadMeta(o.Dir)
	var input bytes.Buffer
	json.Compact(&input, m.Input)
	if err != nil || m.Name() != name || m.Workflow != "wordcount" || input.String() != `{"seed":2}` || m.Started == "" {
		t.Fatalf("run.json %+v (%v)", m, err)
	}
	reqs, err := ReadRaw(filepath.Join(o.Dir, "raw.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) < minReqs {
		t.Fatalf("%s: %d requests in raw.json, want at least %d", name, len(reqs), minReqs)
	}
	for _, r := range reqs {
		var fns []string
		for _, e := range r.Logs {
			if e.Ed < e.St || e.St < r.FireTime-1 {
				t.Fatalf("%s: request %s has a run from %f to %f, fired at %f", name, r.RequestID, e.St, e.Ed, r.FireTime)
			}
			if !slices.Contains(fns, e.FunctionName) {
				fns = append(fns, e.FunctionName)
			}
		}
		slices.Sort(fns)
		if strings.Join(fns, ",") != "count,merge,start" {
			t.Fatalf("%s: request %s ran %v, want count, merge and start", name, r.RequestID, fns)
		}
	}
	s, err := ReadSummary(filepath.Join(o.Dir, "summary.csv"))
	if err != nil {
		t.Fatal(err)
	}
	// Ten runs a request at 128 MB: GB-s is 0.125 × the summed run time,
	// which is positive and below 10 × 0.125 × the latency.
	if s.GBsPerRequest <= 0 || s.GBsPerRequest > 10*0.125*s.Max {
		t.Fatalf("%s: %g GB-s per request with max latency %g s", name, s.GBsPerRequest, s.Max)
	}
}
