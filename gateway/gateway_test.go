package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/workflow"
)

// fakeWorker records what the gateway sends to a worker.
type fakeWorker struct {
	srv      *httptest.Server
	mu       sync.Mutex
	deployed []string
	messages []api.Message
	bodies   []string
	ended    []string
}

func newFakeWorker(t *testing.T) *fakeWorker {
	w := &fakeWorker{}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /v1/workflows/{name}", func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.deployed = append(w.deployed, r.PathValue("name"))
		w.mu.Unlock()
	})
	mux.HandleFunc("GET "+api.MessagesStreamPath, func(rw http.ResponseWriter, r *http.Request) {
		api.ServeMessages(rw, r, 1<<20, slog.New(slog.NewTextHandler(io.Discard, nil)), func(m *api.Message, body []byte) error {
			w.mu.Lock()
			defer w.mu.Unlock()
			w.messages = append(w.messages, *m)
			w.bodies = append(w.bodies, string(body))
			return nil
		})
	})
	mux.HandleFunc("POST /v1/invocations/{id}/end", func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.ended = append(w.ended, r.PathValue("id"))
		w.mu.Unlock()
	})
	w.srv = httptest.NewServer(mux)
	t.Cleanup(func() {
		// Shutdown closes the gateway's message streams (Close would wait
		// for them).
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		w.srv.Config.Shutdown(ctx)
		w.srv.Close()
	})
	return w
}

func (w *fakeWorker) snapshot() ([]api.Message, []string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]api.Message(nil), w.messages...), append([]string(nil), w.bodies...)
}

const twoStep = `
name: two
inputs: {x: a.in}
functions:
  a: {inputs: [in], outputs: {out: b.in}}
  b: {inputs: [in], outputs: {out: $result.answer, extra: $result}, timeout: 1s}
`

func newTestGateway(t *testing.T, workers int) (*Gateway, *httptest.Server, []*fakeWorker) {
	return newTestGatewayConfig(t, workers, Config{})
}

func newTestGatewayConfig(t *testing.T, workers int, cfg Config) (*Gateway, *httptest.Server, []*fakeWorker) {
	cfg.Listen, cfg.DataDir = "127.0.0.1:0", t.TempDir()
	g, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	g.ln.Close() // served through httptest instead
	t.Cleanup(func() { g.Close() })
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	var fakes []*fakeWorker
	for i := 0; i < workers; i++ {
		fw := newFakeWorker(t)
		fakes = append(fakes, fw)
		g.registerWorker(api.RegisterWorker{ID: "w" + string(rune('0'+i)), URL: fw.srv.URL})
	}
	return g, srv, fakes
}

func parseWF(t *testing.T, src string) *workflow.Workflow {
	wf, err := workflow.ParseNative([]byte(src), "test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return wf
}

func TestDeployErrors(t *testing.T) {
	tests := []struct {
		name    string
		workers int
		req     func(t *testing.T) *api.DeployRequest
		wantErr string
	}{
		{name: "no workers", workers: 0, req: func(t *testing.T) *api.DeployRequest { return &api.DeployRequest{Workflow: parseWF(t, twoStep)} }, wantErr: "no workers are registered"},
		{name: "unknown mode", workers: 1, req: func(t *testing.T) *api.DeployRequest {
			return &api.DeployRequest{Workflow: parseWF(t, twoStep), Mode: "warp"}
		}, wantErr: `unknown mode "warp": use one of dataflow, workersp, mastersp`},
		{name: "artifact not uploaded", workers: 1, req: func(t *testing.T) *api.DeployRequest {
			wf := parseWF(t, twoStep)
			wf.Functions[0].Artifact = strings.Repeat("ab", 32)
			return &api.DeployRequest{Workflow: wf}
		}, wantErr: "was not uploaded"},
		{name: "no result", workers: 1, req: func(t *testing.T) *api.DeployRequest {
			return &api.DeployRequest{Workflow: parseWF(t, "name: n\ninputs: {x: a.in}\nfunctions:\n  a: {inputs: [in]}\n")}
		}, wantErr: "sends nothing to $result"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, srv, _ := newTestGateway(t, tt.workers)
			_, err := api.NewClient(srv.URL).Deploy(context.Background(), tt.req(t))
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("deploy error = %v, want one containing %q", err, tt.wantErr)
			}
			if !strings.Contains(err.Error(), "400") {
				t.Errorf("deploy error %v is not a 400", err)
			}
		})
	}
}

// TestResultStream: workers hand results to the gateway on a message
// stream. Results of a running invocation resolve its keys; a message for
// a function, or for an invocation the gateway does not know, is refused
// with the code a worker reads as final, and changes nothing.
func TestResultStream(t *testing.T) {
	_, srv, _ := newTestGateway(t, 2)
	client := api.NewClient(srv.URL)
	ctx := context.Background()
	if _, err := client.Deploy(ctx, &api.DeployRequest{Workflow: parseWF(t, twoStep)}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Invoke(ctx, "two", &api.InvokeRequest{RequestID: "r1", Async: true}); err != nil {
		t.Fatal(err)
	}
	sender := api.NewSender()
	t.Cleanup(sender.Close)
	result := func(id string, targets ...workflow.Target) *api.Message {
		return &api.Message{Invocation: id, Workflow: "two", From: "b", Kind: api.KindValue, Index: -1, Targets: targets}
	}
	refused := []struct {
		name string
		m    *api.Message
		code int
	}{
		{"a function's input", result("r1", workflow.Target{Function: "b", Input: "in"}), http.StatusBadRequest},
		{"an unknown invocation", result("nobody", workflow.Target{Function: workflow.ResultFunction, Input: "answer"}), http.StatusNotFound},
	}
	for _, tt := range refused {
		err := sender.Send(ctx, srv.URL, tt.m, []byte("1"))
		if se := (*api.StatusError)(nil); !errors.As(err, &se) || se.Code != tt.code || !api.Refused(err) {
			t.Errorf("message to %s: %v, want a refusal with %d", tt.name, err, tt.code)
		}
	}
	if got, _ := client.Invocation(ctx, "r1", 0); got.Status != api.StatusRunning {
		t.Fatalf("status after refused messages = %s, want running", got.Status)
	}
	both := result("r1", workflow.Target{Function: workflow.ResultFunction, Input: "answer"}, workflow.Target{Function: workflow.ResultFunction, Input: "extra"})
	if err := sender.Send(ctx, srv.URL, both, []byte("42")); err != nil {
		t.Fatal(err)
	}
	got, err := client.Invocation(ctx, "r1", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != api.StatusSucceeded || string(got.Result["answer"]) != "42" || string(got.Result["extra"]) != "42" {
		t.Fatalf("invocation = %+v, want succeeded with both keys 42", got)
	}
}

// TestInvocationLifecycle drives an invocation as the workers would: the
// gateway must send the input to a's worker, and end the invocation when
// both result keys are resolved.
func TestInvocationLifecycle(t *testing.T) {
	g, srv, fakes := newTestGateway(t, 2)
	client := api.NewClient(srv.URL)
	ctx := context.Background()
	info, err := client.Deploy(ctx, &api.DeployRequest{Workflow: parseWF(t, twoStep), Placement: "static", Table: map[string]string{"a": "w1", "b": "w0"}})
	if err != nil {
		t.Fatal(err)
	}
	if info.Placement["a"] != "w1" {
		t.Fatalf("placement = %v", info.Placement)
	}
	inv, err := client.Invoke(ctx, "two", &api.InvokeRequest{RequestID: "r1", Async: true, Input: map[string]json.RawMessage{"x": json.RawMessage(`{"n": 1}`)}})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Status != api.StatusRunning {
		t.Fatalf("async invoke status = %s", inv.Status)
	}
	// The input goes to w1, which runs a, in the message that starts the
	// invocation there; nothing to w0.
	waitFor(t, func() bool { m, _ := fakes[1].snapshot(); return len(m) == 1 })
	msgs, bodies := fakes[1].snapshot()
	if m := msgs[0]; m.Kind != api.KindInputs || m.From != workflow.InputFunction || m.Invocation != "r1" || bodies[0] != `{"x":{"n":1}}` {
		t.Fatalf("message to a's worker = %+v body %s", m, bodies[0])
	}
	if m, _ := fakes[0].snapshot(); len(m) != 0 {
		t.Fatalf("b's worker got %d messages at start, want 0", len(m))
	}

	report := func(r api.Report, body string) {
		t.Helper()
		if err := api.PostRaw(ctx, http.DefaultClient, srv.URL+"/v1/internal/reports", api.HeaderReport, r, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	report(api.Report{Invocation: "r1", Kind: "result", From: "b", Key: "answer"}, `42`)
	if got, _ := client.Invocation(ctx, "r1", 0); got.Status != api.StatusRunning {
		t.Fatalf("status after one of two keys = %s, want running", got.Status)
	}
	big := strings.Repeat("x", 5000) // over memoryResultMax: the result moves to disk
	report(api.Report{Invocation: "r1", Kind: "result", From: "b", Key: "extra"}, big)
	got, err := client.Invocation(ctx, "r1", 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != api.StatusSucceeded || string(got.Result["answer"]) != "42" || string(got.Result["extra"]) != `"`+big+`"` {
		t.Fatalf("invocation = %+v", got)
	}
	waitFor(t, func() bool {
		inv := g.lookup("r1")
		inv.mu.Lock()
		defer inv.mu.Unlock()
		return inv.stored && inv.info.Result == nil
	})
	again, err := client.Invocation(ctx, "r1", 0)
	if err != nil || string(again.Result["extra"]) != `"`+big+`"` {
		t.Fatalf("result read back from disk = %v, %v", again, err)
	}
}

func TestInvokeErrors(t *testing.T) {
	_, srv, _ := newTestGateway(t, 1)
	client := api.NewClient(srv.URL)
	ctx := context.Background()
	if _, err := client.Deploy(ctx, &api.DeployRequest{Workflow: parseWF(t, twoStep)}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		workflow string
		req      *api.InvokeRequest
		wantErr  string
	}{
		{name: "unknown workflow", workflow: "nope", req: &api.InvokeRequest{}, wantErr: `404 Not Found: workflow "nope" is not deployed`},
		{name: "unknown input", workflow: "two", req: &api.InvokeRequest{Input: map[string]json.RawMessage{"y": json.RawMessage(`1`)}}, wantErr: `has no input "y" (inputs: x)`},
		{name: "request ID with ~", workflow: "two", req: &api.InvokeRequest{RequestID: "a~r1"}, wantErr: `400 Bad Request: request_id "a~r1" contains '~'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := client.Invoke(ctx, tt.workflow, tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestFailureReportEndsInvocation(t *testing.T) {
	_, srv, fakes := newTestGateway(t, 1)
	client := api.NewClient(srv.URL)
	ctx := context.Background()
	if _, err := client.Deploy(ctx, &api.DeployRequest{Workflow: parseWF(t, twoStep)}); err != nil {
		t.Fatal(err)
	}
	done := make(chan *api.Invocation)
	go func() {
		inv, _ := client.Invoke(ctx, "two", &api.InvokeRequest{RequestID: "f1"})
		done <- inv
	}()
	waitFor(t, func() bool { m, _ := fakes[0].snapshot(); return len(m) == 1 })
	if err := api.PostRaw(ctx, http.DefaultClient, srv.URL+"/v1/internal/reports", api.HeaderReport,
		api.Report{Invocation: "f1", Kind: "fail", Function: "a", Error: "function a failed: boom"}, nil); err != nil {
		t.Fatal(err)
	}
	select {
	case inv := <-done:
		if inv.Status != api.StatusFailed || inv.Error != "function a failed: boom" {
			t.Fatalf("invocation = %+v", inv)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("synchronous invoke did not return after the failure report")
	}
	// Every worker is told to drop the failed invocation.
	waitFor(t, func() bool {
		fakes[0].mu.Lock()
		defer fakes[0].mu.Unlock()
		return len(fakes[0].ended) == 1 && fakes[0].ended[0] == "f1"
	})
}

// TestRunCompatibility posts the original FaaSFlow/DataFlower body to /run.
func TestRunCompatibility(t *testing.T) {
	_, srv, fakes := newTestGateway(t, 1)
	ctx := context.Background()
	if _, err := api.NewClient(srv.URL).Deploy(ctx, &api.DeployRequest{Workflow: parseWF(t, twoStep)}); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		Status string                     `json:"status"`
		Result map[string]json.RawMessage `json:"result"`
		Error  string                     `json:"error"`
	}
	got := make(chan answer)
	go func() {
		body := `{"request_id": "orig-1", "workflow_name": "two", "input_datas": {"$USER.x": {"datatype": "entity", "val": "hello"}}}`
		resp, err := http.Post(srv.URL+"/run", "application/json", bytes.NewBufferString(body))
		if err != nil {
			got <- answer{Error: err.Error()}
			return
		}
		defer resp.Body.Close()
		var a answer
		json.NewDecoder(resp.Body).Decode(&a)
		got <- a
	}()
	waitFor(t, func() bool { m, _ := fakes[0].snapshot(); return len(m) == 1 })
	_, bodies := fakes[0].snapshot()
	if bodies[0] != `{"x":"hello"}` {
		t.Fatalf("inputs sent to the worker = %s, want x with the unwrapped val \"hello\"", bodies[0])
	}
	for _, key := range []string{"answer", "extra"} {
		api.PostRaw(ctx, http.DefaultClient, srv.URL+"/v1/internal/reports", api.HeaderReport,
			api.Report{Invocation: "orig-1", Kind: "result", From: "b", Key: key}, []byte(`"done"`))
	}
	a := <-got
	if a.Status != "ok" || string(a.Result["answer"]) != `"done"` {
		t.Fatalf("/run answered %+v", a)
	}
}

func TestTimeoutFailsInvocation(t *testing.T) {
	_, srv, _ := newTestGateway(t, 1)
	ctx := context.Background()
	wf := parseWF(t, twoStep)
	wf.Timeout = workflow.Duration(300 * time.Millisecond)
	if _, err := api.NewClient(srv.URL).Deploy(ctx, &api.DeployRequest{Workflow: wf}); err != nil {
		t.Fatal(err)
	}
	inv, err := api.NewClient(srv.URL).Invoke(ctx, "two", &api.InvokeRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Status != api.StatusFailed || !strings.Contains(inv.Error, "timed out after 300ms") {
		t.Fatalf("invocation = %+v, want failed with a timeout", inv)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestLostWorker: a worker that misses its heartbeats is declared lost, the
// invocations running on it fail with "worker lost", new placements avoid
// it, and it rejoins when it beats again.
func TestLostWorker(t *testing.T) {
	g, srv, fakes := newTestGatewayConfig(t, 2, Config{LostAfter: 300 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go g.watchWorkers(ctx)
	beat := func(id string, fw *fakeWorker) {
		g.registerWorker(api.RegisterWorker{ID: id, URL: fw.srv.URL})
	}
	go func() { // w0 keeps beating, w1 falls silent
		for ctx.Err() == nil {
			beat("w0", fakes[0])
			time.Sleep(50 * time.Millisecond)
		}
	}()
	client := api.NewClient(srv.URL)
	if _, err := client.Deploy(ctx, &api.DeployRequest{Workflow: parseWF(t, twoStep), Placement: "static", Table: map[string]string{"a": "w0", "b": "w1"}}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	inv, err := client.Invoke(ctx, "two", &api.InvokeRequest{RequestID: "l1"})
	if err != nil {
		t.Fatal(err)
	}
	if inv.Status != api.StatusFailed || !strings.Contains(inv.Error, "worker lost: w1") {
		t.Fatalf("invocation = %+v, want failed with worker lost", inv)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("loss took %s to detect, want about 300ms", took)
	}
	info, err := client.Deploy(ctx, &api.DeployRequest{Workflow: parseWF(t, twoStep)})
	if err != nil {
		t.Fatal(err)
	}
	if info.Placement["a"] != "w0" || info.Placement["b"] != "w0" {
		t.Fatalf("placement %v uses the lost worker", info.Placement)
	}
	beat("w1", fakes[1])
	for _, w := range g.workerList() {
		if w.Lost {
			t.Fatalf("worker %s still lost after beating again", w.ID)
		}
	}
}
