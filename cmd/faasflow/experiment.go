package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/faasflow/faasflow-go/experiments"
)

func cmdExperiment(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "latency" {
		return usagef("experiment needs a kind: latency")
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
	dir := filepath.Join(*out, time.Now().Format("20060102-150405")+"-latency-"+cfg.Workflow)
	if err := experiments.WriteResults(dir, reqs, s); err != nil {
		return err
	}
	fmt.Printf("\n%d requests measured, %d errors\n", s.Count, s.Errors)
	fmt.Printf("latency (s): avg %.3f  p50 %.3f  p90 %.3f  p95 %.3f  p99 %.3f  min %.3f  max %.3f\n",
		s.Avg, s.P50, s.P90, s.P95, s.P99, s.Min, s.Max)
	fmt.Printf("results in %s (raw.json, summary.csv)\n", dir)
	if s.Errors > 0 {
		return fmt.Errorf("%d requests failed", s.Errors)
	}
	return nil
}
