package fileprocessing

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/agents/engine"
	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/internal/testcluster"
)

// runs records which worker ran each function.
type runs struct {
	mu     sync.Mutex
	worker map[string]string
}

func (r *runs) Record(rec *engine.RunRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.worker == nil {
		r.worker = make(map[string]string)
	}
	r.worker[rec.Function] = rec.Worker
}

var _ engine.Recorder = (*runs)(nil)

func (r *runs) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return fmt.Sprint(r.worker)
}

// want is the receipt of spec computed outside the cluster: the document
// converted here and scored by scorer.py run directly.
func want(t *testing.T, py string, spec Spec) Receipt {
	t.Helper()
	doc := Generate(spec)
	return Upload(Convert(doc), directScore(t, py, doc))
}

func checkReceipt(t *testing.T, inv *api.Invocation, key string, want Receipt) {
	t.Helper()
	if inv.Status != api.StatusSucceeded {
		t.Fatalf("status %s: %s", inv.Status, inv.Error)
	}
	var got Receipt
	if err := json.Unmarshal(inv.Result[key], &got); err != nil {
		t.Fatalf("decode result %s %.200q: %v", key, inv.Result[key], err)
	}
	if got != want {
		t.Errorf("receipt\n got %+v\nwant %+v", got, want)
	}
}

// TestEndToEnd runs the workflow on three workers, at the default size
// (256 KiB, so the document and the HTML go through the data stores), and
// compares upload's receipt (the page's size and sha256, and the score)
// with the same made outside the cluster.
func TestEndToEnd(t *testing.T) {
	py := python(t)
	rec := &runs{}
	c := testcluster.Start(t, testcluster.Options{Workers: 3, Observer: rec})
	c.Deploy(t, ".", api.DeployRequest{})
	start := time.Now()
	inv := c.Invoke(t, "fileprocessing", map[string]string{"seed": "7"})
	t.Logf("%d bytes: invocation took %v, functions ran on %v", DefaultSize, time.Since(start), rec)
	checkReceipt(t, inv, "res", want(t, py, Spec{Seed: 7, Size: DefaultSize}))

	// Another seed and size, with the instances now warm.
	inv = c.Invoke(t, "fileprocessing", map[string]string{"seed": `"notes.md"`, "size": "40000"})
	checkReceipt(t, inv, "res", want(t, py, Spec{Seed: StringSeed("notes.md"), Size: 40000}))
}

// TestFaaSFlowV1FileUnchanged runs FaaSFlow v1's
// fileprocessing.flat_workflow.yaml with its functions bound to this
// benchmark's code. Its filename input chooses a small document here.
func TestFaaSFlowV1FileUnchanged(t *testing.T) {
	py := python(t)
	wf := testcluster.LoadBound(t, "../../workflow/testdata/flatv1/fileprocessing.flat_workflow.yaml", "faasflow-v1.bind.yaml")
	c := testcluster.Start(t, testcluster.Options{Workers: 3})
	c.DeployWorkflow(t, &api.DeployRequest{Workflow: wf})
	inv := c.Invoke(t, "fileprocessing", map[string]string{"filename": `{"seed": 3, "size": 65536}`})
	checkReceipt(t, inv, "upload", want(t, py, Spec{Seed: 3, Size: 65536}))
}

// TestMissingVader runs the workflow with an interpreter that cannot
// import vaderSentiment: the invocation fails, naming the function and
// saying to run `make deps`.
func TestMissingVader(t *testing.T) {
	py := python(t)
	// The same interpreter without site-packages, where vaderSentiment is.
	wrapper := filepath.Join(t.TempDir(), "python-without-site")
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\nexec '"+py+"' -S \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("FAASFLOW_PYTHON", wrapper)
	c := testcluster.Start(t, testcluster.Options{Workers: 1})
	c.Deploy(t, ".", api.DeployRequest{})
	t0 := time.Now()
	inv := c.Invoke(t, "fileprocessing", map[string]string{"seed": "1", "size": "100"})
	t.Logf("failed in %v", time.Since(t0))
	if inv.Status == api.StatusSucceeded || !strings.Contains(inv.Error, "sentiment") || !strings.Contains(inv.Error, "run `make deps`") {
		t.Errorf("status %s, error %q: want a failure of sentiment saying to run `make deps`", inv.Status, inv.Error)
	}
}
