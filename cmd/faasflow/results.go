package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/faasflow/faasflow-go/experiments"
	"github.com/faasflow/faasflow-go/workflow"
)

const defaultTolerances = "experiments/tolerances.yaml"

// errOutOfTolerance is returned when a diffed run is out of tolerance, so
// that the command exits non-zero.
var errOutOfTolerance = errors.New("some metrics are out of tolerance")

// expectedFor is the default expected summary for a run: this project's
// own recorded local baseline.
func expectedFor(m experiments.Meta) string {
	return filepath.Join("results", "expected", "local", m.ExpectedName())
}

func cmdResults(args []string) error {
	if len(args) == 0 {
		return usagef("results needs diff, summarize or plot")
	}
	switch args[0] {
	case "diff":
		fs := flag.NewFlagSet("results diff", flag.ContinueOnError)
		expected := fs.String("expected", "", "expected summary CSV (default results/expected/local/<experiment>-<workflow>.csv)")
		tol := fs.String("tolerances", defaultTolerances, "tolerances file")
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) == 0 {
			return usagef("results diff needs a run directory")
		}
		if len(pos) > 1 && *expected != "" {
			return usagef("--expected goes with one run directory")
		}
		bad := 0
		for i, dir := range pos {
			if i > 0 {
				fmt.Println()
			}
			err := diffRun(dir, *expected, *tol)
			switch {
			case errors.Is(err, errOutOfTolerance):
				bad++
			case err != nil:
				return err
			}
		}
		if bad > 0 {
			return fmt.Errorf("%d of %d runs: %w", bad, len(pos), errOutOfTolerance)
		}
		return nil
	case "summarize":
		fs := flag.NewFlagSet("results summarize", flag.ContinueOnError)
		out := fs.String("o", "", "write the summary CSV here (default: stdout)")
		wfPath := fs.String("workflow", "", "workflow file or directory whose functions' memory is charged for container GB-s")
		defMB := fs.Int("default-memory-mb", 256, "with --workflow: memory charged to a function that declares none")
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef("results summarize needs one raw JSON file")
		}
		reqs, err := experiments.ReadRaw(pos[0])
		if err != nil {
			return err
		}
		var costs experiments.Costs
		if *wfPath != "" {
			wf, err := workflow.LoadFile(*wfPath)
			if err != nil {
				return err
			}
			costs = experiments.CostsOf(wf, *defMB)
		}
		s := experiments.SummarizeRun(reqs, 0, costs)
		if *out == "" {
			return experiments.FormatSummary(os.Stdout, s)
		}
		return experiments.WriteSummary(*out, s)
	case "plot":
		fs := flag.NewFlagSet("results plot", flag.ContinueOnError)
		expected := fs.String("expected", "", "expected summary CSV (default results/expected/local/<experiment>-<workflow>.csv, if there)")
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef("results plot needs one run directory")
		}
		return plotRun(pos[0], *expected)
	}
	return usagef("unknown results command %q: use diff, summarize or plot", args[0])
}

// diffRun prints a run's summary against the expected one and returns
// errOutOfTolerance when a metric is out of tolerance.
func diffRun(dir, expected, tolPath string) error {
	meta, err := experiments.ReadMeta(dir)
	if err != nil {
		return err
	}
	if expected == "" {
		expected = expectedFor(meta)
	}
	want, err := experiments.ReadSummary(expected)
	if err != nil {
		return fmt.Errorf("expected results: %w", err)
	}
	got, err := experiments.ReadSummary(filepath.Join(dir, "summary.csv"))
	if err != nil {
		return err
	}
	tol, err := experiments.ReadTolerances(tolPath)
	if err != nil {
		return err
	}
	fmt.Printf("%s against %s (latencies in seconds, throughput in requests/s):\n", dir, expected)
	if !experiments.PrintDiff(os.Stdout, experiments.Diff(want, got, tol)) {
		return fmt.Errorf("%s: %w", dir, errOutOfTolerance)
	}
	return nil
}

// plotRun draws a run's plots again from its raw.json, against the
// expected summary (the default one only when it exists).
func plotRun(dir, expected string) error {
	meta, err := experiments.ReadMeta(dir)
	if err != nil {
		return err
	}
	reqs, err := experiments.ReadRaw(filepath.Join(dir, "raw.json"))
	if err != nil {
		return err
	}
	explicit := expected != ""
	if !explicit {
		expected = expectedFor(meta)
	}
	var want *experiments.Summary
	if s, err := experiments.ReadSummary(expected); err == nil {
		want = &s
	} else if explicit || !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("expected results: %w", err)
	}
	if err := experiments.WritePlots(dir, meta, reqs, want, experiments.ExpectedLabel(expected)); err != nil {
		return err
	}
	fmt.Printf("wrote %s and %s\n", filepath.Join(dir, "cdf.png"), filepath.Join(dir, "timeline.png"))
	return nil
}
