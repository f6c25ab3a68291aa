package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/experiments"
	"github.com/faasflow/faasflow-go/workflow"
)

func cmdExperiment(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return usagef("experiment needs a kind: latency, overhead or data")
	}
	switch args[0] {
	case "latency":
	case "overhead", "data":
		return cmdModeExperiment(ctx, args[0], args[1:])
	default:
		return usagef("unknown experiment %q: use latency, overhead or data", args[0])
	}
	fs := flag.NewFlagSet("experiment", flag.ContinueOnError)
	wf := fs.String("workflow", "wordcount", "deployed workflow to invoke")
	input := fs.String("input", "", "workflow inputs as a JSON object")
	rpm := fs.Float64("rpm", 60, "requests per minute (open loop)")
	duration := fs.Duration("duration", 90*time.Second, "how long to send requests")
	warmup := fs.Duration("warmup", 60*time.Second, "requests fired in this first window are not counted")
	ramp := fs.Bool("ramp-up", true, "fire 4×, 3×, 2× slower in the first three 20-second windows, as the original")
	out := fs.String("out", "results", "directory for results/<time>-latency-<workflow>/")
	gw := fs.String("gateway", "", "gateway URL")
	pos, err := parse(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	cfg := experiments.LatencyConfig{Workflow: *wf, RPM: *rpm, Duration: *duration, Warmup: *warmup, RampUp: *ramp}
	if *input != "" {
		if err := json.Unmarshal([]byte(*input), &cfg.Input); err != nil {
			return fmt.Errorf("--input must be a JSON object: %w", err)
		}
	}
	fmt.Printf("latency experiment: %s at %g rpm for %s (warm-up %s, ramp-up %v): %d requests\n",
		cfg.Workflow, cfg.RPM, cfg.Duration, cfg.Warmup, cfg.RampUp, len(cfg.FireTimes()))
	reqs, err := experiments.RunLatency(ctx, newClient(*gw), cfg, os.Stdout)
	if err != nil {
		return err
	}
	s := experiments.Summarize(reqs)
	started := time.Now()
	dir := filepath.Join(*out, started.Format("20060102-150405")+"-latency-"+cfg.Workflow)
	if err := experiments.WriteResults(dir, reqs, s); err != nil {
		return err
	}
	meta := experiments.Meta{Kind: "latency", Workflow: cfg.Workflow, RPM: cfg.RPM, Duration: cfg.Duration.String(),
		Warmup: cfg.Warmup.String(), RampUp: cfg.RampUp, Started: started.Format(time.RFC3339)}
	if err := experiments.WriteMeta(dir, meta); err != nil {
		return err
	}
	fmt.Printf("\n%d requests measured, %d errors\n", s.Count, s.Errors)
	fmt.Printf("latency (s): avg %.3f  p50 %.3f  p90 %.3f  p95 %.3f  p99 %.3f  min %.3f  max %.3f\n",
		s.Avg, s.P50, s.P90, s.P95, s.P99, s.Min, s.Max)
	fmt.Printf("results in %s (raw.json, summary.csv)\n\n", dir)
	if _, err := os.Stat(expectedFor(meta)); err != nil {
		fmt.Printf("no expected results at %s to compare with\n", expectedFor(meta))
		if s.Errors > 0 {
			return fmt.Errorf("%d requests failed", s.Errors)
		}
		return nil
	}
	return diffRun(dir, "", defaultTolerances)
}

// cmdModeExperiment runs the overhead or data experiment over workflow
// files × modes and prints a table (also written as CSV).
//
// overhead: end-to-end latency minus the function time along the critical
// path, p50 over the invocations; outputs are sized 0 unless --with-data, so
// that this is the scheduling overhead alone.
// data: the time spent moving data, as the p50 latency with the declared
// output sizes minus the p50 latency of the same workflow with every size 0
// (synthetic functions only).
func cmdModeExperiment(ctx context.Context, kind string, args []string) error {
	fs := flag.NewFlagSet("experiment "+kind, flag.ContinueOnError)
	modes := fs.String("modes", strings.Join(api.Modes, ","), "modes to compare")
	n := fs.Int("n", 20, "measured invocations per workflow and mode (after 2 warm-up ones)")
	scale := fs.Float64("time-scale", 0.01, "multiply synthetic functions' run times by this (overhead does not depend on them)")
	placement := fs.String("placement", "round-robin", "placement for every deploy")
	withData := fs.Bool("with-data", false, "overhead: keep the declared output sizes (by default they are 0, so only scheduling is measured)")
	out := fs.String("out", "results", "directory for results/<time>-<kind>/")
	gw := fs.String("gateway", "", "gateway URL")
	files, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return usagef("experiment %s needs workflow files, e.g. ../shared/reference/faasflow/faasflow-v1/workflows/*.flat_workflow.yaml", kind)
	}
	client := newClient(*gw)
	type row struct {
		workflow, mode string
		value          float64
	}
	var rows []row
	for _, file := range files {
		for _, mode := range strings.Split(*modes, ",") {
			v, err := measureMode(ctx, client, kind, file, mode, *placement, *scale, *n, *withData)
			if err != nil {
				return fmt.Errorf("%s in %s mode: %w", file, mode, err)
			}
			name := strings.TrimSuffix(filepath.Base(file), ".flat_workflow.yaml")
			fmt.Printf("  %-24s %-9s %s p50 %8.2f ms\n", name, mode, kind, v*1e3)
			rows = append(rows, row{name, mode, v})
		}
	}
	dir := filepath.Join(*out, time.Now().Format("20060102-150405")+"-"+kind)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "workflow,mode,%s_p50_seconds\n", kind)
	for _, r := range rows {
		fmt.Fprintf(&b, "%s,%s,%.6f\n", r.workflow, r.mode, r.value)
	}
	if err := os.WriteFile(filepath.Join(dir, kind+".csv"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	fmt.Printf("results in %s\n", filepath.Join(dir, kind+".csv"))
	return nil
}

// measureMode deploys one workflow in one mode and measures it.
func measureMode(ctx context.Context, client *api.Client, kind, file, mode, placement string, scale float64, n int, withData bool) (float64, error) {
	load := func(zeroSizes bool) (*workflow.Workflow, error) {
		wf, err := workflow.LoadFile(file)
		if err != nil {
			return nil, err
		}
		for _, f := range wf.Functions {
			if f.Synthetic != nil {
				f.Synthetic.Seconds *= scale
			}
			for _, o := range f.Outputs {
				if zeroSizes {
					o.Size = 0
				}
			}
		}
		return wf, nil
	}
	run := func(zeroSizes bool) ([]experiments.OverheadSample, error) {
		wf, err := load(zeroSizes)
		if err != nil {
			return nil, err
		}
		if _, err := deploy(ctx, client, &api.DeployRequest{Workflow: wf, Mode: mode, Placement: placement}); err != nil {
			return nil, err
		}
		if _, err := experiments.MeasureOverhead(ctx, client, wf, nil, 2, io.Discard); err != nil {
			return nil, err
		}
		return experiments.MeasureOverhead(ctx, client, wf, nil, n, io.Discard)
	}
	samples, err := run(kind == "overhead" && !withData)
	if err != nil {
		return 0, err
	}
	if kind == "overhead" {
		var o []float64
		for _, s := range samples {
			o = append(o, s.Overhead)
		}
		return experiments.Median(o), nil
	}
	bare, err := run(true)
	if err != nil {
		return 0, err
	}
	latency := func(ss []experiments.OverheadSample) float64 {
		var l []float64
		for _, s := range ss {
			l = append(l, s.Latency)
		}
		return experiments.Median(l)
	}
	return latency(samples) - latency(bare), nil
}
