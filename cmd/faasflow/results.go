package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/faasflow/faasflow-go/experiments"
)

const defaultTolerances = "experiments/tolerances.yaml"

// expectedFor is the default expected summary for a run: this project's
// own recorded local baseline.
func expectedFor(m experiments.Meta) string {
	return filepath.Join("results", "expected", "local", m.Kind+"-"+m.Workflow+".csv")
}

func cmdResults(args []string) error {
	if len(args) == 0 {
		return usagef("results needs diff or summarize")
	}
	switch args[0] {
	case "diff":
		fs := flag.NewFlagSet("results diff", flag.ContinueOnError)
		expected := fs.String("expected", "", "expected summary CSV (default results/expected/local/<kind>-<workflow>.csv)")
		tol := fs.String("tolerances", defaultTolerances, "tolerances file")
		pos, err := parse(fs, args[1:])
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef("results diff needs one run directory")
		}
		return diffRun(pos[0], *expected, *tol)
	case "summarize":
		fs := flag.NewFlagSet("results summarize", flag.ContinueOnError)
		out := fs.String("o", "", "write the summary CSV here (default: stdout)")
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
		if *out == "" {
			return experiments.FormatSummary(os.Stdout, experiments.Summarize(reqs))
		}
		return experiments.WriteSummary(*out, experiments.Summarize(reqs))
	}
	return usagef("unknown results command %q: use diff or summarize", args[0])
}

// diffRun prints a run's summary against the expected one and fails when a
// metric is out of tolerance.
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
	fmt.Printf("%s against %s (latencies in seconds):\n", dir, expected)
	if !experiments.PrintDiff(os.Stdout, experiments.Diff(want, got, tol)) {
		return errors.New("some metrics are out of tolerance")
	}
	return nil
}
