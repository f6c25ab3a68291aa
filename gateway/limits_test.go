package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/faasflow/faasflow-go/api"
)

// post sends body to url and returns the status, the Retry-After header
// and the answer.
func post(t *testing.T, method, url, body string) (int, string, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Retry-After"), string(b)
}

// finish resolves both result keys of twoStep's invocation id.
func finish(t *testing.T, srv string, id string) {
	t.Helper()
	for _, key := range []string{"answer", "extra"} {
		if err := api.PostRaw(context.Background(), http.DefaultClient, srv+"/v1/internal/reports", api.HeaderReport,
			api.Report{Invocation: id, Kind: "result", From: "b", Key: key}, []byte(`"ok"`)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestInflightLimit: over the workflow's cap, new invocations get 429
// with Retry-After and a message naming the workflow and the limit, on
// both invocation endpoints; a request ID already accepted is answered
// as before; the invocations running complete; and once one ends, a new
// one is accepted.
func TestInflightLimit(t *testing.T) {
	_, srv, _ := newTestGatewayConfig(t, 1, Config{MaxInflight: 2})
	client := api.NewClient(srv.URL)
	ctx := context.Background()
	if _, err := client.Deploy(ctx, &api.DeployRequest{Workflow: parseWF(t, twoStep)}); err != nil {
		t.Fatal(err)
	}
	invokeURL := srv.URL + "/v1/workflows/two/invocations"
	for _, id := range []string{"i1", "i2"} {
		if code, _, body := post(t, "POST", invokeURL, `{"request_id": "`+id+`", "async": true}`); code != http.StatusAccepted {
			t.Fatalf("invocation %s: %d %s, want 202", id, code, body)
		}
	}
	tests := []struct {
		name, url, body string
	}{
		{name: "invocations", url: invokeURL, body: `{"request_id": "i3", "async": true}`},
		{name: "run", url: srv.URL + "/run", body: `{"request_id": "i3", "workflow_name": "two"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, retry, body := post(t, "POST", tt.url, tt.body)
			if code != http.StatusTooManyRequests {
				t.Fatalf("third invocation: %d %s, want 429", code, body)
			}
			if retry != "1" {
				t.Errorf("Retry-After = %q, want \"1\"", retry)
			}
			for _, want := range []string{"workflow two", "2 invocations running", "--max-inflight"} {
				if !strings.Contains(body, want) {
					t.Errorf("answer %s does not say %q", body, want)
				}
			}
		})
	}
	// Sending an accepted request again is not a new invocation.
	if code, _, body := post(t, "POST", invokeURL, `{"request_id": "i1", "async": true}`); code != http.StatusOK {
		t.Fatalf("repeated request i1: %d %s, want 200", code, body)
	}
	// The running ones complete; then there is room again.
	finish(t, srv.URL, "i1")
	if got, err := client.Invocation(ctx, "i1", 0); err != nil || got.Status != api.StatusSucceeded {
		t.Fatalf("i1 after the 429s = %+v, %v; want succeeded", got, err)
	}
	if code, _, body := post(t, "POST", invokeURL, `{"request_id": "i3", "async": true}`); code != http.StatusAccepted {
		t.Fatalf("invocation after one ended: %d %s, want 202", code, body)
	}
	for _, id := range []string{"i2", "i3"} {
		finish(t, srv.URL, id)
		if got, err := client.Invocation(ctx, id, 0); err != nil || got.Status != api.StatusSucceeded {
			t.Fatalf("%s = %+v, %v; want succeeded", id, got, err)
		}
	}
}

// TestInflightLimitPerDeploy: a deploy's max_inflight overrides the
// gateway's: 1 caps at one, -1 lifts the cap.
func TestInflightLimitPerDeploy(t *testing.T) {
	tests := []struct {
		name     string
		limit    int
		accepted int
	}{
		{name: "lower", limit: 1, accepted: 1},
		{name: "unlimited", limit: -1, accepted: 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv, _ := newTestGatewayConfig(t, 1, Config{MaxInflight: 3})
			info, err := api.NewClient(srv.URL).Deploy(context.Background(), &api.DeployRequest{Workflow: parseWF(t, twoStep), MaxInflight: tt.limit})
			if err != nil {
				t.Fatal(err)
			}
			if info.MaxInflight != tt.limit {
				t.Errorf("WorkflowInfo.MaxInflight = %d, want %d", info.MaxInflight, tt.limit)
			}
			accepted := 0
			for i := range 5 {
				code, _, body := post(t, "POST", srv.URL+"/v1/workflows/two/invocations", fmt.Sprintf(`{"request_id": "p%d", "async": true}`, i))
				switch code {
				case http.StatusAccepted:
					accepted++
				case http.StatusTooManyRequests:
					if !strings.Contains(body, fmt.Sprintf("%d invocations running", tt.limit)) {
						t.Errorf("429 answer %s does not name the limit %d", body, tt.limit)
					}
				default:
					t.Fatalf("invocation %d: %d %s", i, code, body)
				}
			}
			if accepted != tt.accepted {
				t.Errorf("accepted %d of 5, want %d", accepted, tt.accepted)
			}
		})
	}
}

// TestBodyTooLarge: bodies over --max-body get 413 naming the limit and
// the flag, on the JSON endpoints and artifact uploads.
func TestBodyTooLarge(t *testing.T) {
	_, srv, _ := newTestGatewayConfig(t, 1, Config{MaxBody: 1024})
	if _, err := api.NewClient(srv.URL).Deploy(context.Background(), &api.DeployRequest{Workflow: parseWF(t, twoStep)}); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", 4096)
	tests := []struct {
		name, method, path, body string
	}{
		{name: "invoke", method: "POST", path: "/v1/workflows/two/invocations", body: `{"input": {"x": "` + big + `"}}`},
		{name: "run", method: "POST", path: "/run", body: `{"workflow_name": "two", "input_datas": {"$USER.x": {"val": "` + big + `"}}}`},
		{name: "deploy", method: "POST", path: "/v1/workflows", body: `{"workflow": {"name": "` + big + `"}}`},
		{name: "artifact", method: "PUT", path: "/v1/artifacts/" + strings.Repeat("ab", 32), body: big},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, body := post(t, tt.method, srv.URL+tt.path, tt.body)
			if code != http.StatusRequestEntityTooLarge {
				t.Fatalf("%d %s, want 413", code, body)
			}
			for _, want := range []string{"limit of 1024 bytes", "--max-body"} {
				if !strings.Contains(body, want) {
					t.Errorf("answer %s does not say %q", body, want)
				}
			}
		})
	}
	// Under the limit still works.
	code, _, body := post(t, "POST", srv.URL+"/v1/workflows/two/invocations", `{"async": true}`)
	if code != http.StatusAccepted {
		t.Fatalf("small invocation: %d %s", code, body)
	}
	var inv api.Invocation
	if err := json.NewDecoder(bytes.NewBufferString(body)).Decode(&inv); err != nil || inv.Status != api.StatusRunning {
		t.Fatalf("small invocation answered %s (%v)", body, err)
	}
}
