package experiments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/workflow"
)

// Client is what a Runner needs of the gateway; *api.Client is one.
type Client interface {
	Invoker
	LogFetcher
}

// Runner runs the experiments of an experiment file against a cluster,
// one workflow run at a time (all at once for co-location), and writes
// each run's results under Out.
type Runner struct {
	File *File
	// FilePath is recorded in each run's run.json.
	FilePath string
	Client   Client
	// Deploy builds and deploys a workflow (with the file's mode and
	// placement, when set).
	Deploy func(ctx context.Context, wf *workflow.Workflow) error
	// Out is the results root: a run writes Out/<time>-<name>-<workflow>/.
	Out string
	// Expected is the directory of expected summaries a run is compared
	// with (results/expected/local); a run without one is not compared.
	Expected   string
	Tolerances Tolerances
	// Stdout receives the progress, summaries and diff tables; Terminal
	// says it is a terminal, for the progress bar.
	Stdout   io.Writer
	Terminal bool
	// ProgressEvery is the interval of plain progress lines (default 10 s).
	ProgressEvery time.Duration
	// Log receives warnings (default: slog's default logger).
	Log *slog.Logger
}

// Outcome is what became of one workflow's run.
type Outcome struct {
	Workflow string
	// Skipped says why the workflow did not run (its directory is absent).
	Skipped string
	// Err is why the run failed.
	Err     error
	Dir     string
	Meta    Meta
	Summary Summary
	// Diff is the comparison with the expected summary, nil without one;
	// InTolerance reports whether every metric is within tolerance.
	Diff        []DiffRow
	InTolerance bool
}

// Failed reports whether the outcome should make the command fail: the
// run failed, or a metric is out of tolerance.
func (o Outcome) Failed() bool {
	return o.Err != nil || (o.Diff != nil && !o.InTolerance)
}

// run is a prepared workflow: its spec, loaded workflow and input.
type run struct {
	spec  *WorkflowSpec
	wf    *workflow.Workflow
	input map[string]json.RawMessage
	meta  Meta
}

// prepare loads and deploys a workflow, or says why it is skipped.
func (r *Runner) prepare(ctx context.Context, spec *WorkflowSpec) (*run, Outcome) {
	out := Outcome{Workflow: spec.Name}
	if _, err := os.Stat(spec.Dir); errors.Is(err, os.ErrNotExist) {
		out.Skipped = fmt.Sprintf("%s is absent", spec.Dir)
		fmt.Fprintf(r.Stdout, "skipping %s: %s\n", spec.Name, out.Skipped)
		return nil, out
	}
	wf, err := workflow.LoadFile(spec.Dir)
	if err != nil {
		out.Err = fmt.Errorf("load %s: %w", spec.Name, err)
		return nil, out
	}
	if wf.Name != spec.Name {
		out.Err = fmt.Errorf("%s defines workflow %q, but the experiment file calls it %q", spec.Dir, wf.Name, spec.Name)
		return nil, out
	}
	input, err := spec.JSONInput()
	if err != nil {
		out.Err = err
		return nil, out
	}
	t0 := time.Now()
	if err := r.Deploy(ctx, wf); err != nil {
		out.Err = fmt.Errorf("deploy %s: %w", spec.Name, err)
		return nil, out
	}
	fmt.Fprintf(r.Stdout, "deployed %s from %s in %.1fs\n", spec.Name, spec.Dir, time.Since(t0).Seconds())
	inJSON, _ := json.Marshal(input)
	return &run{spec: spec, wf: wf, input: input, meta: Meta{Workflow: spec.Name, Input: inJSON,
		RequestTimeout: r.File.RequestTimeout.String(), DefaultMemoryMB: r.File.DefaultMemoryMB,
		ExperimentFile: r.FilePath, Mode: r.File.Mode, Placement: r.File.Placement}}, out
}

// each prepares the workflows in turn and runs one on each that deployed,
// until ctx ends.
func (r *Runner) each(ctx context.Context, specs []*WorkflowSpec, one func(spec *WorkflowSpec, rn *run, out Outcome) Outcome) []Outcome {
	var outs []Outcome
	for _, spec := range specs {
		if ctx.Err() != nil {
			break
		}
		rn, out := r.prepare(ctx, spec)
		if rn != nil {
			out = one(spec, rn, out)
		}
		outs = append(outs, out)
	}
	return outs
}

// measure shows progress (planned requests, 0 when open-ended) while load
// sends requests for duration, then writes the run.
func (r *Runner) measure(ctx context.Context, rn *run, m Meta, planned int, duration, warmup time.Duration,
	load func(*Progress) ([]*Request, error)) Outcome {
	prog := &Progress{}
	stop := prog.Show(r.Stdout, r.Terminal, planned, duration, r.progressEvery())
	started := time.Now()
	reqs, err := load(prog)
	stop()
	return r.finish(ctx, rn, m, started, reqs, err, duration-warmup)
}

// Latency runs the open-loop latency experiment on each workflow in turn.
func (r *Runner) Latency(ctx context.Context, specs []*WorkflowSpec) []Outcome {
	l := r.File.Latency
	return r.each(ctx, specs, func(spec *WorkflowSpec, rn *run, out Outcome) Outcome {
		cfg := LatencyConfig{Workflow: spec.Name, Input: rn.input, RPM: spec.RPM, Duration: l.Duration,
			Warmup: l.Warmup, RampUp: l.RampUp, RampWindow: l.RampWindow, RequestTimeout: r.File.RequestTimeout}
		m := rn.meta
		m.Kind, m.RPM, m.Duration, m.Warmup = "latency", cfg.RPM, cfg.Duration.String(), cfg.Warmup.String()
		m.RampUp = cfg.RampUp
		if cfg.RampUp {
			m.RampWindow = cfg.RampWindow.String()
		}
		if cfg.RPM <= 0 {
			out.Err = fmt.Errorf("workflow %s has no rpm for the latency experiment", spec.Name)
			return out
		}
		planned := len(cfg.FireTimes())
		fmt.Fprintf(r.Stdout, "\nlatency: %s at %g rpm for %s (warm-up %s, ramp-up %v): %d requests\n",
			spec.Name, cfg.RPM, cfg.Duration, cfg.Warmup, cfg.RampUp, planned)
		return r.measure(ctx, rn, m, planned, cfg.Duration, cfg.Warmup, func(prog *Progress) ([]*Request, error) {
			return RunLatency(ctx, r.Client, cfg, prog)
		})
	})
}

// Throughput runs the closed-loop experiment on each workflow in turn.
func (r *Runner) Throughput(ctx context.Context, specs []*WorkflowSpec) []Outcome {
	t := r.File.Throughput
	return r.each(ctx, specs, func(spec *WorkflowSpec, rn *run, out Outcome) Outcome {
		cfg := ThroughputConfig{Workflow: spec.Name, Input: rn.input, Clients: t.Clients, ClientGap: t.ClientGap,
			Duration: t.Duration, Warmup: t.Warmup, RequestTimeout: r.File.RequestTimeout}
		m := rn.meta
		m.Kind, m.Clients, m.ClientGap = "throughput", cfg.Clients, cfg.ClientGap.String()
		m.Duration, m.Warmup = cfg.Duration.String(), cfg.Warmup.String()
		fmt.Fprintf(r.Stdout, "\nthroughput: %s, %d clients started %s apart, back to back for %s (warm-up %s)\n",
			spec.Name, cfg.Clients, cfg.ClientGap, cfg.Duration, cfg.Warmup)
		return r.measure(ctx, rn, m, 0, cfg.Duration, cfg.Warmup, func(prog *Progress) ([]*Request, error) {
			return RunThroughput(ctx, r.Client, cfg, prog)
		})
	})
}

// Colocation runs every workflow of the level at once, each at its rate,
// and writes one run per workflow.
func (r *Runner) Colocation(ctx context.Context, level string) []Outcome {
	names, rates, err := r.File.LevelRates(level)
	if err != nil {
		return []Outcome{{Workflow: "colocation", Err: err}}
	}
	c := r.File.Colocation
	var outs []Outcome
	var runs []*run
	var cfgs []LatencyConfig
	planned := 0
	for _, name := range names {
		rn, out := r.prepare(ctx, r.File.Workflow(name))
		if rn == nil {
			outs = append(outs, out)
			continue
		}
		cfg := LatencyConfig{Workflow: name, Input: rn.input, RPM: rates[name], Duration: c.Duration,
			Warmup: c.Warmup, RampUp: c.RampUp, RampWindow: c.RampWindow, RequestTimeout: r.File.RequestTimeout}
		rn.meta.Kind, rn.meta.Level, rn.meta.RPM = "colocation", level, cfg.RPM
		rn.meta.Duration, rn.meta.Warmup, rn.meta.RampUp = cfg.Duration.String(), cfg.Warmup.String(), cfg.RampUp
		if cfg.RampUp {
			rn.meta.RampWindow = cfg.RampWindow.String()
		}
		runs = append(runs, rn)
		cfgs = append(cfgs, cfg)
		planned += len(cfg.FireTimes())
	}
	if len(runs) == 0 {
		return outs
	}
	fmt.Fprintf(r.Stdout, "\ncolocation %s (rates × %g) for %s (warm-up %s, ramp-up %v): %d requests\n",
		level, c.RateScale, c.Duration, c.Warmup, c.RampUp, planned)
	for _, cfg := range cfgs {
		fmt.Fprintf(r.Stdout, "  %-16s %6.2f rpm\n", cfg.Workflow, cfg.RPM)
	}
	prog := &Progress{}
	stop := prog.Show(r.Stdout, r.Terminal, planned, c.Duration, r.progressEvery())
	started := time.Now()
	results := make([][]*Request, len(runs))
	errs := make([]error, len(runs))
	var wg sync.WaitGroup
	for i := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = RunLatency(ctx, r.Client, cfgs[i], prog)
		}()
	}
	wg.Wait()
	stop()
	for i, rn := range runs {
		outs = append(outs, r.finish(ctx, rn, rn.meta, started, results[i], errs[i], c.Duration-c.Warmup))
	}
	return outs
}

// finish fetches the run records of a run, writes its results and plots,
// and compares it with its expected summary.
func (r *Runner) finish(ctx context.Context, rn *run, m Meta, started time.Time, reqs []*Request, runErr error, window time.Duration) Outcome {
	out := Outcome{Workflow: rn.spec.Name, Meta: m}
	if runErr != nil {
		out.Err = fmt.Errorf("%s of %s: %w", m.Name(), rn.spec.Name, runErr)
		return out
	}
	if err := FetchLogs(ctx, r.Client, reqs); err != nil {
		out.Err = err
		return out
	}
	m.Started = started.Format(time.RFC3339)
	out.Meta = m
	out.Summary = SummarizeRun(reqs, window, CostsOf(rn.wf, r.File.DefaultMemoryMB))
	out.Dir = filepath.Join(r.Out, m.DirName(started))
	if err := WriteResults(out.Dir, reqs, out.Summary); err != nil {
		out.Err = err
		return out
	}
	if err := WriteMeta(out.Dir, m); err != nil {
		out.Err = err
		return out
	}
	s := out.Summary
	fmt.Fprintf(r.Stdout, "%s %s: %d measured requests, %d errors, %d timeouts; %.2f requests/s; %.3f container GB-s per request\n",
		m.Name(), rn.spec.Name, s.Count, s.Errors, s.Timeouts, s.Throughput, s.GBsPerRequest)
	fmt.Fprintf(r.Stdout, "latency (s): avg %.3f  p50 %.3f  p90 %.3f  p95 %.3f  p99 %.3f  min %.3f  max %.3f\n",
		s.Avg, s.P50, s.P90, s.P95, s.P99, s.Min, s.Max)

	var expected *Summary
	expPath := ""
	if r.Expected != "" {
		expPath = filepath.Join(r.Expected, m.ExpectedName())
		if e, err := ReadSummary(expPath); err == nil {
			expected = &e
		} else if !errors.Is(err, os.ErrNotExist) {
			out.Err = err
			return out
		}
	}
	r.plots(out.Dir, m, reqs, expected, expPath)
	files := []string{"raw.json", "summary.csv", "run.json"}
	for _, f := range []string{"cdf.png", "timeline.png"} {
		if _, err := os.Stat(filepath.Join(out.Dir, f)); err == nil {
			files = append(files, f)
		}
	}
	fmt.Fprintf(r.Stdout, "results in %s (%s)\n", out.Dir, strings.Join(files, ", "))
	if expected == nil {
		fmt.Fprintf(r.Stdout, "no expected results at %s to compare with; to make this run the baseline:\n  cp %s %s\n",
			expPath, filepath.Join(out.Dir, "summary.csv"), expPath)
		if s.Errors+s.Timeouts > 0 {
			out.Err = fmt.Errorf("%s of %s: %d requests failed and %d timed out", m.Name(), rn.spec.Name, s.Errors, s.Timeouts)
		}
		return out
	}
	out.Diff = Diff(*expected, s, r.Tolerances)
	fmt.Fprintf(r.Stdout, "\n%s against %s:\n", out.Dir, expPath)
	out.InTolerance = PrintDiff(r.Stdout, out.Diff)
	return out
}

// plots writes the run's plots; a plot that cannot be drawn is a
// warning, not a failed run.
func (r *Runner) plots(dir string, m Meta, reqs []*Request, expected *Summary, expPath string) {
	log := r.Log
	if log == nil {
		log = slog.Default()
	}
	if err := WritePlots(dir, m, reqs, expected, ExpectedLabel(expPath)); err != nil {
		log.Warn("plots missing", "dir", dir, "err", err)
	}
}

// ExpectedLabel names an expected summary in a plot's legend by its last
// two path elements ("expected local/latency-wordcount.csv").
func ExpectedLabel(path string) string {
	if path == "" {
		return "expected"
	}
	return "expected " + filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path)
}

// WritePlots writes dir/cdf.png, the latency CDF of the measured requests
// against expected (when not nil), and dir/timeline.png, the function runs
// of the median request.
func WritePlots(dir string, m Meta, reqs []*Request, expected *Summary, expectedLabel string) error {
	shape := fmt.Sprintf("%g rpm", m.RPM)
	if m.Kind == "throughput" {
		shape = fmt.Sprintf("%d clients", m.Clients)
	}
	title := fmt.Sprintf("%s: %s, %s", m.Workflow, m.Name(), shape)
	err1 := PlotCDF(filepath.Join(dir, "cdf.png"), "latency CDF of "+title, Latencies(reqs), expected, expectedLabel)
	err2 := PlotTimeline(filepath.Join(dir, "timeline.png"), "function runs of the median request of "+title, MedianRequest(reqs))
	return errors.Join(err1, err2)
}

func (r *Runner) progressEvery() time.Duration {
	if r.ProgressEvery > 0 {
		return r.ProgressEvery
	}
	return 10 * time.Second
}

// ensure *api.Client satisfies Client.
var _ Client = (*api.Client)(nil)
