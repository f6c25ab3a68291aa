package gateway_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/internal/testcluster"
	"github.com/faasflow/faasflow-go/workflow"
)

// syntheticBig: a's output is sized below (a synthetic output named like
// an input would pass the input on instead).
const syntheticBig = `
name: synthbig
inputs: {x: a.in}
functions:
  a: {synthetic: {seconds: 0}, inputs: [in], outputs: {big: b.in}}
  b: {synthetic: {seconds: 0}, inputs: [in], outputs: {in: $result.out}}
`

// TestClusterAuth runs a workflow end to end on a cluster with
// authentication on (as every test cluster has): deploys, message streams,
// a 100 KB value streamed worker to worker (GET /v1/data), reports and run
// queries are all signed. Requests from outside without credentials are
// refused by the gateway and by the workers.
func TestClusterAuth(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{Workers: 2})
	wf, err := workflow.ParseNative([]byte(syntheticBig), "synthbig.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range wf.Functions {
		if f.Name == "a" {
			f.Outputs[0].Size = 100 << 10 // over the inline limit: goes through the direct store
		}
	}
	c.DeployWorkflow(t, &api.DeployRequest{Workflow: wf, Placement: api.PlacementStatic, Table: map[string]string{"a": "worker-0", "b": "worker-1"}})
	inv := c.Invoke(t, "synthbig", map[string]string{"x": `"hi"`})
	if inv.Status != api.StatusSucceeded {
		t.Fatalf("invocation %s: %s: %s", inv.RequestID, inv.Status, inv.Error)
	}
	logs, err := c.Client.Logs(context.Background(), inv.RequestID)
	if err != nil || len(logs) != 2 {
		t.Fatalf("logs: %d records, %v; want 2 (one per worker)", len(logs), err)
	}

	// The value really crossed between the workers through the direct
	// store: b's worker counts its bytes.
	resp, err := http.Get(c.Workers[1].URL() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !regexp.MustCompile(`faasflow_bytes_total\{tier="direct"\} [1-9]`).Match(metrics) {
		t.Fatalf("worker-1 counts no bytes through the direct tier:\n%s", metrics)
	}

	sign := func(r *http.Request) { api.Sign(r, c.Secret) }
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	worker := c.Workers[0].URL()
	tests := []struct {
		name string
		url  string
		auth func(*http.Request)
		want int
	}{
		{"gateway: no token", c.Gateway.URL() + "/v1/invocations", nil, 401},
		{"gateway: wrong token", c.Gateway.URL() + "/v1/invocations", bearer("0000"), 401},
		{"gateway: the secret as token", c.Gateway.URL() + "/v1/invocations", bearer(c.Secret), 401},
		{"gateway: token", c.Gateway.URL() + "/v1/invocations", bearer(c.Token), 200},
		{"gateway: healthz open", c.Gateway.URL() + "/healthz", nil, 200},
		{"worker: unsigned", worker + "/v1/runs?invocation=" + inv.RequestID, nil, 401},
		{"worker: user token", worker + "/v1/runs?invocation=" + inv.RequestID, bearer(c.Token), 401},
		{"worker: signed", worker + "/v1/runs?invocation=" + inv.RequestID, sign, 200},
		{"worker: healthz open", worker + "/healthz", nil, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.auth != nil {
				tt.auth(req)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("GET %s: %d, want %d", tt.url, resp.StatusCode, tt.want)
			}
		})
	}
}
