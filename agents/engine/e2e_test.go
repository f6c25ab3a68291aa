package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/build"
	"github.com/faasflow/faasflow-go/internal/testcluster"
	"github.com/faasflow/faasflow-go/workflow"
)

// waitFreed fails the test unless every worker drops all state of its
// invocations soon after they end.
func waitFreed(t *testing.T, c *testcluster.Cluster) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for _, w := range c.Workers {
		for {
			active := w.Engine().Active()
			items, bytes := w.Engine().Held()
			if active == 0 && items == 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s still holds %d invocations and %d values (%d bytes) after they ended", w.URL(), active, items, bytes)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
}

func TestWordcountMatchesDirectCount(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	for _, mode := range api.Modes {
		c.Deploy(t, "../../benchmarks/wordcount", api.DeployRequest{Mode: mode})
		seed := uint64(len(mode)) // a different text per mode
		inv := c.Invoke(t, "wordcount", map[string]string{"seed": fmt.Sprint(seed)})
		if inv.Status != api.StatusSucceeded {
			t.Fatalf("%s, seed %d: status %s: %s", mode, seed, inv.Status, inv.Error)
		}
		testcluster.CheckWordcount(t, inv, seed, mode)
	}
	waitFreed(t, c)
}

func TestSwitchBranchesAndSkippedFunctions(t *testing.T) {
	tests := []struct {
		name            string
		img             string
		adult, violence bool
		noFlags         bool // invoke without the adult and violence inputs: they arrive as null
		want            map[string]string
	}{
		{name: "clean image reaches the censor's default branch", img: `"good pic"`, want: map[string]string{"clean": `"good pic"`}},
		{name: "inputs not given arrive as null", img: `"good pic"`, noFlags: true, want: map[string]string{"clean": `"good pic"`}},
		{name: "adult detector sends to mosaic", img: `"good pic"`, adult: true, want: map[string]string{"mosaic": `"good pic"`}},
		{name: "both detectors fire mosaic once", img: `"good pic"`, adult: true, violence: true, want: map[string]string{"mosaic": `"good pic"`}},
		{name: "censor finds illegal text", img: `"bad pic"`, want: map[string]string{"mosaic": `"bad pic"`}},
	}
	c := testcluster.Start(t, testcluster.Options{})
	for _, mode := range api.Modes {
		c.Deploy(t, "testdata/recognizer.yaml", api.DeployRequest{Mode: mode})
		for _, tt := range tests {
			t.Run(mode+"/"+tt.name, func(t *testing.T) {
				input := map[string]string{"img": tt.img, "adult": fmt.Sprint(tt.adult), "violence": fmt.Sprint(tt.violence)}
				if tt.noFlags {
					delete(input, "adult")
					delete(input, "violence")
				}
				inv := c.Invoke(t, "recog", input)
				if inv.Status != api.StatusSucceeded {
					t.Fatalf("status %s: %s", inv.Status, inv.Error)
				}
				got := map[string]string{}
				for k, v := range inv.Result {
					got[k] = string(v)
				}
				if !reflect.DeepEqual(got, tt.want) {
					t.Fatalf("result = %v, want %v", got, tt.want)
				}
				waitFreed(t, c)
			})
		}
	}
}

func TestForeachAndMerge(t *testing.T) {
	tests := []struct {
		name string
		list string
		want string
	}{
		{name: "items come back in order", list: `[1,"two",{"three":3},4,5,6,7,8,9,10]`, want: `[1,"two",{"three":3},4,5,6,7,8,9,10]`},
		{name: "no items still completes", list: `[]`, want: `[]`},
	}
	c := testcluster.Start(t, testcluster.Options{})
	for _, dep := range []api.DeployRequest{
		{Placement: "round-robin"}, {Placement: "single"},
		{Placement: "round-robin", Mode: api.ModeWorkerSP}, {Placement: "round-robin", Mode: api.ModeMasterSP},
	} {
		c.Deploy(t, "testdata/fanout.yaml", dep)
		for _, tt := range tests {
			t.Run(dep.Placement+"/"+dep.Mode+"/"+tt.name, func(t *testing.T) {
				inv := c.Invoke(t, "fanout", map[string]string{"list": tt.list})
				if inv.Status != api.StatusSucceeded {
					t.Fatalf("status %s: %s", inv.Status, inv.Error)
				}
				if got := string(inv.Result["all"]); got != tt.want {
					t.Fatalf("result = %s, want %s", got, tt.want)
				}
			})
		}
		waitFreed(t, c)
	}
}

// TestFailuresEndTheInvocation checks that a function that fails, panics
// or overruns its timeout fails its invocation with a clear error within
// the timeout plus a second, and that the next invocation succeeds.
func TestFailuresEndTheInvocation(t *testing.T) {
	tests := []struct {
		name      string
		file      string
		workflow  string
		bad, good map[string]string
		within    time.Duration
		wantErr   []string
	}{
		{
			name: "error", file: "../../benchmarks/faults/workflow-fail.yaml", workflow: "faults-fail",
			bad: map[string]string{"x": "1"}, within: time.Second,
			wantErr: []string{"function oops failed", "deliberate failure"},
		},
		{
			name: "panic", file: "../../benchmarks/faults/workflow-panic.yaml", workflow: "faults-panic",
			bad: map[string]string{"mode": `"panic"`}, good: map[string]string{"mode": `"calm"`}, within: time.Second,
			wantErr: []string{"function boom failed", "panic", "deliberate panic"},
		},
		{
			name: "timeout", file: "../../benchmarks/faults/workflow-sleep.yaml", workflow: "faults-sleep",
			bad: map[string]string{"seconds": "30"}, good: map[string]string{"seconds": "0"}, within: 3 * time.Second,
			wantErr: []string{"function nap timed out after 2s"},
		},
	}
	c := testcluster.Start(t, testcluster.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c.Deploy(t, tt.file, api.DeployRequest{})
			start := time.Now()
			inv := c.Invoke(t, tt.workflow, tt.bad)
			took := time.Since(start)
			if inv.Status != api.StatusFailed {
				t.Fatalf("status = %s, want failed", inv.Status)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(inv.Error, want) {
					t.Errorf("error %q does not mention %q", inv.Error, want)
				}
			}
			if took > tt.within {
				t.Errorf("failure took %s to report, want under %s", took, tt.within)
			}
			if tt.good != nil {
				if next := c.Invoke(t, tt.workflow, tt.good); next.Status != api.StatusSucceeded {
					t.Fatalf("next invocation: status %s: %s", next.Status, next.Error)
				}
			}
		})
	}
	waitFreed(t, c)
}

// TestResultOverGatewayLimitFails sends a result larger than the
// gateway's body limit: the gateway refuses it, and the invocation fails at
// once naming the result instead of waiting for its timeout.
func TestResultOverGatewayLimitFails(t *testing.T) {
	wf, err := workflow.ParseNative([]byte("name: big-result\nfunctions:\n  big:\n    outputs: {out: $result}\n"), "big.yaml")
	if err != nil {
		t.Fatal(err)
	}
	f := wf.Function("big")
	f.Runtime, f.Synthetic, f.Outputs[0].Size = "synthetic", &workflow.Synthetic{Seconds: 0.01}, 2<<20
	c := testcluster.Start(t, testcluster.Options{Workers: 1, GatewayMaxBody: 1 << 20})
	c.DeployWorkflow(t, &api.DeployRequest{Workflow: wf})
	start := time.Now()
	inv := c.Invoke(t, "big-result", nil)
	// The error is the gateway's 413 when its answer is read, or the
	// connection it closed on the large body when it is not.
	if inv.Status != api.StatusFailed || !strings.Contains(inv.Error, `could not hand result "out" from big to the gateway`) {
		t.Fatalf("invocation = %s: %q, want failed naming the result it could not hand over", inv.Status, inv.Error)
	}
	t.Logf("error: %s", inv.Error)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("failed after %s, want at once", took)
	}
}

func TestRequestIDIsIdempotent(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Workers: 2})
	c.Deploy(t, "testdata/fanout.yaml", api.DeployRequest{})
	ctx := context.Background()
	req := &api.InvokeRequest{RequestID: "req-1", Input: map[string]json.RawMessage{"list": json.RawMessage(`[1,2]`)}}
	first, err := c.Client.Invoke(ctx, "fanout", req)
	if err != nil {
		t.Fatal(err)
	}
	req.Input["list"] = json.RawMessage(`[3]`)
	second, err := c.Client.Invoke(ctx, "fanout", req)
	if err != nil {
		t.Fatal(err)
	}
	if string(second.Result["all"]) != `[1,2]` || second.Submitted != first.Submitted {
		t.Fatalf("re-sent request_id gave result %s submitted %v, want the first invocation's [1,2] at %v",
			second.Result["all"], second.Submitted, first.Submitted)
	}
	list, err := c.Client.Invocations(ctx, "fanout", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("gateway lists %d invocations, want 1", len(list))
	}
}

// TestSyntheticFunctions runs functions without code: each takes its time
// and posts outputs of the declared sizes; an output named like an input
// passes it on, so a switch can read a workflow input.
func TestSyntheticFunctions(t *testing.T) {
	src := `
name: synth
inputs: {flag: gate.flag}
functions:
  gate:
    inputs: [flag]
    outputs: [flag]
    switch:
      - when: flag == true
        signal: big.go
      - signal: $result.skipped
  big:
    inputs: [go]
    outputs:
      blob: {to: each.in, foreach: true}
  each:
    inputs: [in]
    outputs: {out: all.parts}
  all:
    inputs: {parts: list}
    outputs: {sum: $result}
`
	wf, err := workflow.ParseNative([]byte(src), "synth.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range wf.Functions {
		f.Runtime = "synthetic"
		f.Synthetic = &workflow.Synthetic{Seconds: 0.05, Items: 3}
		for _, o := range f.Outputs {
			o.Size = 20000
		}
	}
	wf.Function("all").Output("sum").Size = 10
	c := testcluster.Start(t, testcluster.Options{})
	c.DeployWorkflow(t, &api.DeployRequest{Workflow: wf})
	tests := []struct {
		flag string
		want string // result key present
	}{
		{flag: "true", want: "sum"},
		{flag: "false", want: "skipped"},
	}
	for _, tt := range tests {
		t0 := time.Now()
		inv := c.Invoke(t, "synth", map[string]string{"flag": tt.flag})
		if inv.Status != api.StatusSucceeded {
			t.Fatalf("flag %s: status %s: %s", tt.flag, inv.Status, inv.Error)
		}
		if len(inv.Result) != 1 || inv.Result[tt.want] == nil {
			t.Fatalf("flag %s: result %v, want only key %q", tt.flag, inv.Result, tt.want)
		}
		if tt.want == "sum" {
			if got := len(inv.Result["sum"]); got != 10 {
				t.Errorf("sum is %d bytes, want the declared 10", got)
			}
			// gate, big, each ×3 in parallel, all: at least four 50 ms steps.
			if took := time.Since(t0); took < 200*time.Millisecond {
				t.Errorf("invocation took %s, less than its functions' run times", took)
			}
		}
	}
	recs, err := c.Client.Invocations(context.Background(), "synth", api.StatusSucceeded, 10)
	if err != nil || len(recs) != 2 {
		t.Fatalf("listed %d succeeded invocations (%v), want 2", len(recs), err)
	}
	waitFreed(t, c)
}

// TestFlatV1WorkflowsInAllModes deploys the seven FaaSFlow v1 reference
// workflows unchanged (their functions become synthetic ones, with the
// declared output sizes) and runs each to completion in every mode.
func TestFlatV1WorkflowsInAllModes(t *testing.T) {
	files, err := filepath.Glob("../../workflow/testdata/flatv1/*.flat_workflow.yaml")
	if err != nil || len(files) != 7 {
		t.Fatalf("found %d v1 workflow files (%v), want 7", len(files), err)
	}
	c := testcluster.Start(t, testcluster.Options{})
	for _, file := range files {
		for _, mode := range api.Modes {
			wf, err := workflow.LoadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range wf.Functions {
				f.Synthetic.Seconds *= 0.001 // minutes of sleep in the original
			}
			c.DeployWorkflow(t, &api.DeployRequest{Workflow: wf, Mode: mode})
			inv := c.Invoke(t, wf.Name, nil)
			if inv.Status != api.StatusSucceeded {
				t.Fatalf("%s in %s mode: %s: %s", wf.Name, mode, inv.Status, inv.Error)
			}
			if len(inv.Result) == 0 {
				t.Errorf("%s in %s mode: empty result", wf.Name, mode)
			}
		}
	}
	waitFreed(t, c)
}

// TestPythonFunctions runs wordcount with its count step in Python: the
// result must equal a direct count, as with Go. A Python exception fails
// the invocation with its traceback, and the instance serves the next run.
func TestPythonFunctions(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	c.Deploy(t, "../../benchmarks/wordcount/workflow-python.yaml", api.DeployRequest{})
	inv := c.Invoke(t, "wordcount-py", map[string]string{"seed": "5"})
	if inv.Status != api.StatusSucceeded {
		t.Fatalf("status %s: %s", inv.Status, inv.Error)
	}
	testcluster.CheckWordcount(t, inv, 5, "count in Python")

	c.Deploy(t, "testdata/pyfail.yaml", api.DeployRequest{})
	bad := c.Invoke(t, "pyfail", map[string]string{"x": `"raise"`})
	for _, want := range []string{"function f failed", "Traceback", "ValueError: deliberate error from a Python function"} {
		if !strings.Contains(bad.Error, want) {
			t.Errorf("error %q does not mention %q", bad.Error, want)
		}
	}
	if next := c.Invoke(t, "pyfail", map[string]string{"x": `[1, 2]`}); next.Status != api.StatusSucceeded || string(next.Result["out"]) != "[1,2]" {
		t.Fatalf("next invocation: %s %s %s", next.Status, next.Error, next.Result["out"])
	}
	// Over the worker's inline limit (16 KiB), the value reaches the
	// instance by key and the SDK asks for it (get/data frames).
	large := `"` + strings.Repeat("x", 20000) + `"`
	if inv := c.Invoke(t, "pyfail", map[string]string{"x": large}); inv.Status != api.StatusSucceeded || string(inv.Result["out"]) != large {
		t.Fatalf("invocation with a %d-byte input: %s %s (%d bytes back)", len(large), inv.Status, inv.Error, len(inv.Result["out"]))
	}
	waitFreed(t, c)
}

// TestPythonInterpreterMissing: when the interpreter FAASFLOW_PYTHON names
// is gone (no `make deps` yet), a Python function fails with an error that
// says so and what to run (the deploy gets 400); Go workflows still run.
func TestPythonInterpreterMissing(t *testing.T) {
	t.Setenv("FAASFLOW_PYTHON", filepath.Join(t.TempDir(), "venv/bin/python"))
	c := testcluster.Start(t, testcluster.Options{})
	wf, err := workflow.LoadFile("../../benchmarks/wordcount/workflow-python.yaml")
	if err != nil {
		t.Fatal(err)
	}
	arts, err := build.Workflow(context.Background(), wf, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for sum, a := range arts {
		if err := c.Client.UploadArtifact(context.Background(), sum, a.Path); err != nil {
			t.Fatal(err)
		}
	}
	_, err = c.Client.Deploy(context.Background(), &api.DeployRequest{Workflow: wf})
	if se := (*api.StatusError)(nil); !errors.As(err, &se) || se.Code != http.StatusBadRequest {
		t.Fatalf("deploy error %v, want 400 Bad Request", err)
	}
	for _, want := range []string{"function count", "venv/bin/python is missing", "make deps"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not mention %q", err, want)
		}
	}
	c.Deploy(t, "../../benchmarks/wordcount", api.DeployRequest{})
	ok := c.Invoke(t, "wordcount", map[string]string{"seed": "5"})
	if ok.Status != api.StatusSucceeded {
		t.Fatalf("Go workflow after the failure: %s: %s", ok.Status, ok.Error)
	}
}

// TestDataFlowerWordcountUnchanged runs DataFlower's own wordcount workflow
// file, unchanged, with its templates bound to this project's functions.
func TestDataFlowerWordcountUnchanged(t *testing.T) {
	wf := testcluster.LoadBound(t, "../../workflow/testdata/dataflower/wordcount.workflow_info.yaml", "../../benchmarks/wordcount/dataflower.bind.yaml")
	c := testcluster.Start(t, testcluster.Options{})
	c.DeployWorkflow(t, &api.DeployRequest{Workflow: wf})
	inv := c.Invoke(t, "wordcount", map[string]string{"start": "2"})
	if inv.Status != api.StatusSucceeded {
		t.Fatalf("status %s: %s", inv.Status, inv.Error)
	}
	testcluster.CheckWordcount(t, inv, 2, "DataFlower file")
	waitFreed(t, c)
}

// TestWorkerLostMidRun stops the worker running a long function: the
// gateway notices the missing heartbeats within a few seconds and fails the
// invocation with "worker lost" instead of letting it hang.
func TestWorkerLostMidRun(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Workers: 2, LostAfter: 3 * time.Second})
	c.Deploy(t, "../../benchmarks/faults/workflow-sleep.yaml", api.DeployRequest{Placement: "single", Table: map[string]string{"*": "worker-1"}})
	ctx := context.Background()
	inv, err := c.Client.Invoke(ctx, "faults-sleep", &api.InvokeRequest{Async: true, Input: map[string]json.RawMessage{"seconds": json.RawMessage("30")}})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	stopped := time.Now()
	c.StopWorker(1)
	got, err := c.Client.Invocation(ctx, inv.RequestID, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != api.StatusFailed || !strings.Contains(got.Error, "worker lost: worker-1") {
		t.Fatalf("invocation = %+v, want failed with worker lost", got)
	}
	if took := time.Since(stopped); took > 5*time.Second {
		t.Errorf("loss detected after %s, want within 5s", took)
	}
}
