package main

import (
	"context"
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
		return usagef("experiment needs a kind: latency, throughput, colocation, overhead or data")
	}
	switch args[0] {
	case "latency", "throughput", "colocation":
		return cmdLoadExperiment(ctx, args[0], args[1:])
	case "overhead", "data":
		return cmdModeExperiment(ctx, args[0], args[1:])
	}
	return usagef("unknown experiment %q: use latency, throughput, colocation, overhead or data", args[0])
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
