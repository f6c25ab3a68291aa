package gateway_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/internal/testcluster"
	"github.com/faasflow/faasflow-go/workflow"
)

// synthetic2 is two synthetic functions in a row, on two workers.
const synthetic2 = `
name: synth2
inputs: {x: a.in}
functions:
  a: {synthetic: {seconds: 0}, inputs: [in], outputs: {in: b.in}}
  b: {synthetic: {seconds: 0}, inputs: [in], outputs: {in: $result.out}}
`

// TestClusterMetrics runs invocations through real workers and checks
// that the gateway's /metrics counts each one, by the time it answered.
func TestClusterMetrics(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Workers: 2})
	wf, err := workflow.ParseNative([]byte(synthetic2), "synth2.yaml")
	if err != nil {
		t.Fatal(err)
	}
	c.DeployWorkflow(t, &api.DeployRequest{Workflow: wf})
	const n = 4
	for range n {
		if inv := c.Invoke(t, "synth2", map[string]string{"x": `"hi"`}); inv.Status != api.StatusSucceeded {
			t.Fatalf("invocation %s: %s: %s", inv.RequestID, inv.Status, inv.Error)
		}
	}
	resp, err := http.Get(c.Gateway.URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	want := `faasflow_invocations_total{status="succeeded",workflow="synth2"} 4`
	if !strings.Contains(string(body), want+"\n") {
		t.Fatalf("/metrics has no line %q:\n%s", want, body)
	}
	if strings.Contains(string(body), `status="failed"`) {
		t.Fatalf("/metrics counts a failed invocation:\n%s", body)
	}
}
