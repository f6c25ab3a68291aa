package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/experiments"
	"github.com/faasflow/faasflow-go/workflow"
)

// defaultExperimentFile holds the workflows and the experiments' shapes.
const defaultExperimentFile = "experiments/default.yaml"

// loadFlags are the flags of the latency, throughput and colocation
// experiments; each one that is set overrides the experiment file.
type loadFlags struct {
	fs                        *flag.FlagSet
	file, workflows, input    string
	rpm, rateScale            float64
	duration, warmup, ramp    time.Duration
	rampUp                    bool
	clients                   int
	clientGap, requestTimeout time.Duration
	level                     string
	out, expected, tolerances string
	deploy                    bool
	gateway                   string
}

func newLoadFlags(kind string) *loadFlags {
	f := &loadFlags{fs: flag.NewFlagSet("experiment "+kind, flag.ContinueOnError)}
	fs := f.fs
	fs.StringVar(&f.file, "file", defaultExperimentFile, "experiment file: workflows, inputs, rates and durations")
	fs.StringVar(&f.workflows, "workflows", "", "comma-separated workflows of the file to run (default: the file's list)")
	fs.StringVar(&f.workflows, "workflow", "", "same as --workflows")
	fs.StringVar(&f.input, "input", "", "inputs as a JSON object, for every selected workflow (default: the file's)")
	fs.Float64Var(&f.rpm, "rpm", 0, "latency: requests per minute for every selected workflow (default: each one's rpm in the file)")
	fs.DurationVar(&f.duration, "duration", 0, "how long to send requests (default: the file's)")
	fs.DurationVar(&f.warmup, "warmup", 0, "requests fired in this first window are not counted (default: the file's)")
	fs.BoolVar(&f.rampUp, "ramp-up", false, "latency, colocation: fire 4×, 3×, 2× slower in the first three ramp windows (default: the file's)")
	fs.DurationVar(&f.ramp, "ramp-window", 0, "length of a ramp-up window (the original: 20s; default: the file's)")
	fs.IntVar(&f.clients, "clients", 0, "throughput: number of clients (default: the file's)")
	fs.DurationVar(&f.clientGap, "client-gap", 0, "throughput: time between client starts (default: the file's)")
	fs.StringVar(&f.level, "level", "", "colocation: low, mid, high or ultraHigh (default: the file's)")
	fs.Float64Var(&f.rateScale, "rate-scale", 0, "colocation: multiply the level's rates by this (default: the file's)")
	fs.DurationVar(&f.requestTimeout, "request-timeout", 0, "a request unanswered after this counts as timed out (default: the file's)")
	fs.StringVar(&f.out, "out", "results", "results root: each run writes <out>/<time>-<experiment>-<workflow>/")
	fs.StringVar(&f.expected, "expected", "results/expected/local", "directory of expected summaries (<experiment>-<workflow>.csv)")
	fs.StringVar(&f.tolerances, "tolerances", defaultTolerances, "tolerances file")
	fs.BoolVar(&f.deploy, "deploy", true, "build and deploy each workflow before its run (false: use what is deployed)")
	fs.StringVar(&f.gateway, "gateway", "", "gateway URL")
	return f
}

// apply loads the experiment file and overrides it with the flags that
// were set.
func (f *loadFlags) apply(kind string) (*experiments.File, error) {
	file, err := experiments.LoadFile(f.file)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
	open := &file.Latency
	if kind == "colocation" {
		open = &file.Colocation.OpenLoopSpec
	}
	if set["duration"] {
		open.Duration, file.Throughput.Duration = f.duration, f.duration
	}
	if set["warmup"] {
		open.Warmup, file.Throughput.Warmup = f.warmup, f.warmup
	}
	if set["ramp-up"] {
		open.RampUp = f.rampUp
	}
	if set["ramp-window"] {
		open.RampWindow = f.ramp
	}
	if set["clients"] {
		file.Throughput.Clients = f.clients
	}
	if set["client-gap"] {
		file.Throughput.ClientGap = f.clientGap
	}
	if set["rate-scale"] {
		file.Colocation.RateScale = f.rateScale
	}
	if set["level"] {
		file.Colocation.Level = f.level
	}
	if set["request-timeout"] {
		file.RequestTimeout = f.requestTimeout
	}
	if set["rpm"] || set["input"] {
		var input map[string]any
		if set["input"] {
			if err := json.Unmarshal([]byte(f.input), &input); err != nil {
				return nil, usagef("--input must be a JSON object: %v", err)
			}
		}
		for i := range file.Workflows {
			if set["rpm"] {
				file.Workflows[i].RPM = f.rpm
			}
			if set["input"] {
				file.Workflows[i].Input = input
			}
		}
	}
	if err := file.Check(); err != nil {
		return nil, usagef("%s with the flags given: %v", f.file, err)
	}
	return file, nil
}

// cmdLoadExperiment runs the latency, throughput or colocation experiment:
// for each workflow of the experiment file (or those named), deploy, load,
// write results/<time>-<experiment>-<workflow>/ and print the diff against
// the expected summary. It fails when a run fails or is out of tolerance.
func cmdLoadExperiment(ctx context.Context, kind string, args []string) error {
	f := newLoadFlags(kind)
	pos, err := parse(f.fs, args)
	if err != nil {
		return err
	}
	file, err := f.apply(kind)
	if err != nil {
		return err
	}
	var names []string
	if f.workflows != "" {
		names = strings.Split(f.workflows, ",")
	}
	names = append(names, pos...)
	if kind == "colocation" && len(pos) > 1 {
		return usagef("colocation takes at most one level, e.g. `faasflow experiment colocation mid`")
	}
	if kind == "colocation" && len(pos) == 1 {
		file.Colocation.Level, names = pos[0], nil
	}
	if len(names) == 0 {
		switch kind {
		case "latency":
			names = file.Latency.Workflows
		case "throughput":
			names = file.Throughput.Workflows
		}
	}
	specs, err := file.Select(names)
	if err != nil {
		return usagef("%v", err)
	}
	tol, err := experiments.ReadTolerances(f.tolerances)
	if err != nil {
		return err
	}
	client := newClient(f.gateway)
	r := &experiments.Runner{
		File: file, FilePath: f.file, Client: client, Out: f.out, Expected: f.expected, Tolerances: tol,
		Stdout: os.Stdout, Terminal: isTerminal(os.Stdout),
		Deploy: func(ctx context.Context, wf *workflow.Workflow) error {
			if !f.deploy {
				return nil
			}
			_, err := deploy(ctx, client, &api.DeployRequest{Workflow: wf, Mode: file.Mode, Placement: file.Placement})
			return err
		},
	}
	var outs []experiments.Outcome
	switch kind {
	case "latency":
		outs = r.Latency(ctx, specs)
	case "throughput":
		outs = r.Throughput(ctx, specs)
	case "colocation":
		outs = r.Colocation(ctx, file.Colocation.Level)
	}
	return report(outs, ctx.Err())
}

// report prints one line per workflow and fails when any run failed or
// is out of tolerance.
func report(outs []experiments.Outcome, ctxErr error) error {
	fmt.Println()
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "WORKFLOW\tVERDICT\tRESULTS")
	bad := 0
	for _, o := range outs {
		verdict := "within tolerance"
		switch {
		case o.Skipped != "":
			verdict = "skipped: " + o.Skipped
		case o.Err != nil:
			verdict = "FAILED: " + o.Err.Error()
		case o.Diff == nil:
			verdict = "no expected results"
		case !o.InTolerance:
			verdict = "OUT of tolerance"
		}
		if o.Failed() {
			bad++
		}
		fmt.Fprintf(w, "%s\t%s\t%s\n", o.Workflow, verdict, o.Dir)
	}
	w.Flush()
	if ctxErr != nil {
		return fmt.Errorf("experiment stopped: %w", ctxErr)
	}
	if bad > 0 {
		return fmt.Errorf("%d of %d runs failed or are out of tolerance", bad, len(outs))
	}
	return nil
}

// isTerminal reports whether f is a terminal (a character device), where
// the progress bar is drawn in place.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
