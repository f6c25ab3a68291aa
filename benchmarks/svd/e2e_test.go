package svd_test

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/benchmarks/svd"
	"github.com/faasflow/faasflow-go/internal/testcluster"
	"github.com/faasflow/faasflow-go/workflow"
)

// TestEndToEnd deploys the workflow on a cluster of three workers and
// checks its singular values against one SVD of the whole matrix. The full
// DataFlower size takes too long under the race detector on two cores, so
// it runs a 4096×256 matrix in 16 blocks unless SVD_FULL=1 is set.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	size := svd.Size{Rows: 4096, Cols: 256, Blocks: 16}
	if os.Getenv("SVD_FULL") == "1" {
		size = svd.DefaultSize
	}
	c := testcluster.Start(t, testcluster.Options{Workers: 3})
	c.Deploy(t, ".", api.DeployRequest{})

	const seed = 1
	input := map[string]string{"seed": fmt.Sprint(seed)}
	if size != svd.DefaultSize {
		input["rows"] = fmt.Sprint(size.Rows)
		input["cols"] = fmt.Sprint(size.Cols)
		input["blocks"] = fmt.Sprint(size.Blocks)
	}
	start := time.Now()
	inv := c.Invoke(t, "svd", input)
	if inv.Status != api.StatusSucceeded {
		t.Fatalf("status %s: %s", inv.Status, inv.Error)
	}
	t.Logf("%d×%d in %d blocks: invocation took %v", size.Rows, size.Cols, size.Blocks, time.Since(start))

	var got svd.Result
	if err := json.Unmarshal(inv.Result["res"], &got); err != nil {
		t.Fatalf("decode result %.200q: %v", inv.Result["res"], err)
	}
	want := svd.DirectSize(seed, size.Rows, size.Cols)
	if got.Count != len(want) || len(got.Values) != len(want) {
		t.Fatalf("got %d singular values (count %d), want %d", len(got.Values), got.Count, len(want))
	}
	if got.Largest != got.Values[0] {
		t.Errorf("largest is %v, but the first value is %v", got.Largest, got.Values[0])
	}
	for i := range want {
		if d := math.Abs(got.Values[i] - want[i]); d > 1e-6*want[i] {
			t.Errorf("singular value %d: got %v, want %v", i, got.Values[i], want[i])
		}
	}
}

// TestDataFlowerFileUnchanged runs the original svd.workflow_info.yaml,
// its templates bound to this benchmark's functions, at DataFlower's full
// size (the file has no size inputs), and checks the singular values as
// TestEndToEnd does.
func TestDataFlowerFileUnchanged(t *testing.T) {
	wf := testcluster.LoadBound(t, "../../workflow/testdata/dataflower/svd.workflow_info.yaml", "dataflower.bind.yaml")
	// The file sets no timeouts. Its 16 SVDs share two cores here (about
	// 20 s, more when other tests run), close to the 60 s default.
	wf.Function("svd__compute").Timeout = workflow.Duration(5 * time.Minute)
	c := testcluster.Start(t, testcluster.Options{Workers: 3})
	c.DeployWorkflow(t, &api.DeployRequest{Workflow: wf})
	const seed = 2
	start := time.Now()
	inv := c.Invoke(t, "svd", map[string]string{"start": fmt.Sprint(seed)})
	if inv.Status != api.StatusSucceeded {
		t.Fatalf("status %s: %s", inv.Status, inv.Error)
	}
	t.Logf("DataFlower file, %d×%d: invocation took %v", svd.DefaultSize.Rows, svd.DefaultSize.Cols, time.Since(start))
	var got svd.Result
	if err := json.Unmarshal(inv.Result["res"], &got); err != nil {
		t.Fatalf("decode result %.200q: %v", inv.Result["res"], err)
	}
	want := svd.Direct(seed)
	if len(got.Values) != len(want) {
		t.Fatalf("got %d singular values, want %d", len(got.Values), len(want))
	}
	for i := range want {
		if d := math.Abs(got.Values[i] - want[i]); d > 1e-6*want[i] {
			t.Fatalf("singular value %d: got %v, want %v", i, got.Values[i], want[i])
		}
	}
}
