package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/build"
	"github.com/faasflow/faasflow-go/experiments"
	"github.com/faasflow/faasflow-go/workflow"
)

func cmdValidate(args []string) error {
	if len(args) == 0 {
		return usagef("validate needs at least one workflow file")
	}
	failed := 0
	for _, path := range args {
		wf, err := workflow.LoadFile(path)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			failed++
			continue
		}
		fmt.Printf("%s: workflow %s is valid (%d functions, %d inputs, result keys: %s)\n",
			path, wf.Name, len(wf.Functions), len(wf.Inputs), strings.Join(resultKeys(wf), ", "))
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d files are invalid", failed, len(args))
	}
	return nil
}

func resultKeys(wf *workflow.Workflow) []string {
	keys := make([]string, len(wf.Results))
	for i, r := range wf.Results {
		keys[i] = r.Name
	}
	return keys
}

func cmdDeploy(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("deploy", flag.ContinueOnError)
	mode := fs.String("mode", "dataflow", "execution mode: dataflow, workersp or mastersp")
	checkpoint := fs.Bool("checkpoint", false, "keep completed runs' outputs so an invocation that loses a worker resumes on the others")
	place := fs.String("placement", "round-robin", "placement: round-robin, grouping, static, single")
	bind := fs.String("bind", "", "bindings file giving code to functions the workflow file has none for (DataFlower templates)")
	explain := fs.Bool("explain", false, "print the placement: functions per worker, edges between workers and their bytes")
	table := fs.String("table", "", "static placement: fn=worker,fn2=worker (for single: the worker)")
	gw := fs.String("gateway", "", "gateway URL")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("deploy needs one workflow file or directory")
	}
	wf, err := workflow.LoadFile(pos[0])
	if err != nil {
		return err
	}
	if *bind != "" {
		bindings, err := workflow.LoadBindings(*bind)
		if err != nil {
			return err
		}
		if err := wf.Bind(bindings); err != nil {
			return err
		}
	}
	req := &api.DeployRequest{Workflow: wf, Placement: *place, Mode: *mode, Checkpoint: *checkpoint}
	if req.Table, err = parseTable(*table, *place); err != nil {
		return err
	}
	client := newClient(*gw)
	t0 := time.Now()
	info, err := deploy(ctx, client, req)
	if err != nil {
		return err
	}
	checkpoints := ""
	if info.Checkpoint {
		checkpoints = ", checkpoints on"
	}
	fmt.Printf("deployed %s (%d functions, mode %s, placement %s%s) in %.1fs\n", info.Name, info.Functions, info.Mode, info.Strategy,
		checkpoints, time.Since(t0).Seconds())
	if *explain {
		fmt.Print(info.Explain.String())
		return nil
	}
	names := make([]string, 0, len(info.Placement))
	for name := range info.Placement {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		fmt.Printf("  %-24s → %s\n", name, info.Placement[name])
	}
	return nil
}

// deploy builds the request's Go functions, uploads them and deploys.
func deploy(ctx context.Context, client *api.Client, req *api.DeployRequest) (*api.WorkflowInfo, error) {
	arts, err := build.Workflow(ctx, req.Workflow, filepath.Join(stateDir(), "build"))
	if err != nil {
		return nil, err
	}
	for sum, a := range arts {
		if err := client.UploadArtifact(ctx, sum, a.Path); err != nil {
			return nil, err
		}
	}
	return client.Deploy(ctx, req)
}

// parseTable reads "fn=worker,fn2=worker"; for single placement a bare
// worker name.
func parseTable(s, placement string) (map[string]string, error) {
	if s == "" {
		return nil, nil
	}
	if placement == "single" && !strings.Contains(s, "=") {
		return map[string]string{"*": s}, nil
	}
	out := map[string]string{}
	for _, pair := range strings.Split(s, ",") {
		fn, w, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok || fn == "" || w == "" {
			return nil, usagef("--table entry %q: write function=worker", pair)
		}
		out[fn] = w
	}
	return out, nil
}

func cmdInvoke(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("invoke", flag.ContinueOnError)
	input := fs.String("input", "", `workflow inputs as a JSON object ({"name": value}) or @file`)
	reqID := fs.String("request-id", "", "request ID (idempotent: the same ID returns the same invocation)")
	async := fs.Bool("async", false, "return at once with the request ID")
	full := fs.Bool("full", false, "print the whole invocation record, not just the result")
	repeat := fs.Int("repeat", 1, "invoke this many times back to back and print a latency summary instead of the result")
	gw := fs.String("gateway", "", "gateway URL")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] == "" {
		return usagef("invoke needs one workflow name (faasflow list workflows shows them)")
	}
	req := &api.InvokeRequest{RequestID: *reqID, Async: *async}
	if *input != "" {
		raw := []byte(*input)
		if strings.HasPrefix(*input, "@") {
			if raw, err = os.ReadFile((*input)[1:]); err != nil {
				return fmt.Errorf("--input: %w", err)
			}
		}
		if err := json.Unmarshal(raw, &req.Input); err != nil {
			return fmt.Errorf("--input must be a JSON object of workflow inputs, like {\"seed\": 1}: %w", err)
		}
	}
	if *repeat > 1 {
		return invokeRepeatedly(ctx, newClient(*gw), pos[0], req, *repeat)
	}
	inv, err := newClient(*gw).Invoke(ctx, pos[0], req)
	if err != nil {
		return err
	}
	return printInvocation(inv, *full || *async)
}

// invokeRepeatedly runs n invocations one after another (each with a fresh
// request ID) and prints how they went.
func invokeRepeatedly(ctx context.Context, client *api.Client, name string, req *api.InvokeRequest, n int) error {
	if req.RequestID != "" || req.Async {
		return usagef("--repeat cannot be combined with --request-id or --async")
	}
	var reqs []*experiments.Request
	var lastErr string
	t0 := time.Now()
	for i := 0; i < n; i++ {
		inv, err := client.Invoke(ctx, name, req)
		if err != nil {
			return fmt.Errorf("invocation %d of %d: %w", i+1, n, err)
		}
		if inv.Status != api.StatusSucceeded {
			lastErr = inv.Error
		}
		reqs = append(reqs, &experiments.Request{Latency: inv.Latency, Status: inv.Status})
	}
	s := experiments.Summarize(reqs)
	fmt.Printf("%d invocations of %s in %.1fs: %d succeeded, %d failed; latency p50 %.1f ms, p99 %.1f ms, max %.1f ms\n",
		n, name, time.Since(t0).Seconds(), s.Count, s.Errors, s.P50*1e3, s.P99*1e3, s.Max*1e3)
	if s.Errors > 0 {
		return fmt.Errorf("%d invocations failed; the last with: %s", s.Errors, lastErr)
	}
	return nil
}

func printInvocation(inv *api.Invocation, full bool) error {
	var v any = inv
	if !full && inv.Status == api.StatusSucceeded {
		v = inv.Result
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	fmt.Println(string(b))
	if inv.Status == api.StatusFailed {
		return fmt.Errorf("invocation %s failed: %s", inv.RequestID, inv.Error)
	}
	return nil
}

func cmdStatus(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	wait := fs.Duration("wait", 0, "wait up to this long for the invocation to end")
	gw := fs.String("gateway", "", "gateway URL")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("status needs one request ID")
	}
	inv, err := newClient(*gw).Invocation(ctx, pos[0], *wait)
	if err != nil {
		return err
	}
	return printInvocation(inv, true)
}

func cmdList(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("list", flag.ContinueOnError)
	gw := fs.String("gateway", "", "gateway URL")
	limit := fs.Int("limit", 20, "most invocations to list")
	wfName := fs.String("workflow", "", "only invocations of this workflow")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	what := "workflows"
	if len(pos) > 0 {
		what = pos[0]
	}
	client := newClient(*gw)
	switch what {
	case "workflows":
		wfs, err := client.Workflows(ctx)
		if err != nil {
			return err
		}
		for _, w := range wfs {
			fmt.Printf("%-24s %2d functions  mode %-9s placement %-12s deployed %s\n", w.Name, w.Functions, w.Mode, w.Strategy, w.Deployed.Format(time.RFC3339))
		}
	case "invocations":
		invs, err := client.Invocations(ctx, *wfName, "", *limit)
		if err != nil {
			return err
		}
		for _, inv := range invs {
			fmt.Printf("%-26s %-20s %-10s %8.3fs  %s\n", inv.RequestID, inv.Workflow, inv.Status, inv.Latency, inv.Error)
		}
	case "workers":
		ws, err := client.Workers(ctx)
		if err != nil {
			return err
		}
		for _, w := range ws {
			fmt.Printf("%-12s %s  last seen %s\n", w.ID, w.URL, w.LastSeen.Format(time.RFC3339))
		}
	default:
		return usagef("list workflows, invocations or workers, not %q", what)
	}
	return nil
}
