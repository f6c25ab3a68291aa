package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/internal/apitest"
	"github.com/faasflow/faasflow-go/workflow"
)

// The fuzzers here drive the gateway's HTTP API (Handler) with what a
// careless or hostile client may send, and check what a user relies on:
// no panic; no 5xx for malformed input, but a 4xx whose JSON body names the
// problem; bodies over the limit refused; and state left as it was after a
// refused request. Plain `go test` runs their seeds.

// fuzzWorkerStub is a worker that takes deployments and messages and does
// nothing with them.
func fuzzWorkerStub(tb testing.TB) string {
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /v1/workflows/{name}", func(rw http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		api.WriteJSON(rw, http.StatusOK, map[string]any{"functions": 0})
	})
	mux.HandleFunc("GET "+api.MessagesStreamPath, func(rw http.ResponseWriter, r *http.Request) {
		api.ServeMessages(rw, r, 1<<20, slog.New(slog.NewTextHandler(io.Discard, nil)), func(*api.Message, []byte) error { return nil })
	})
	mux.HandleFunc("POST /v1/invocations/{id}/end", func(rw http.ResponseWriter, r *http.Request) {})
	srv := httptest.NewServer(mux)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Config.Shutdown(ctx)
		srv.Close()
	})
	return srv.URL
}

// newFuzzGateway makes a gateway served through its Handler only, with
// one stub worker registered when withWorker.
func newFuzzGateway(tb testing.TB, cfg Config, withWorker bool) *Gateway {
	cfg.Listen, cfg.DataDir = "127.0.0.1:0", tb.TempDir()
	g, err := New(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	g.ln.Close()
	tb.Cleanup(func() { g.Close() })
	if withWorker {
		g.registerWorker(api.RegisterWorker{ID: "w0", URL: fuzzWorkerStub(tb)})
	}
	return g
}

// gatewayState is what a refused request must leave alone.
type gatewayState struct {
	workflows map[string]int64 // name → version
	workers   []string         // id=url
	invs      int
	newest    string // the newest invocation's ID
}

func (g *Gateway) fuzzState() gatewayState {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := gatewayState{workflows: map[string]int64{}, invs: len(g.order)}
	if len(g.order) > 0 {
		s.newest = g.order[len(g.order)-1]
	}
	for name, d := range g.workflows {
		s.workflows[name] = d.info.Version
	}
	for _, id := range g.workerIDs {
		s.workers = append(s.workers, id+"="+g.workers[id].URL)
	}
	return s
}

func sameState(a, b gatewayState) bool {
	if a.invs != b.invs || a.newest != b.newest || !slices.Equal(a.workers, b.workers) || len(a.workflows) != len(b.workflows) {
		return false
	}
	for k, v := range a.workflows {
		if b.workflows[k] != v {
			return false
		}
	}
	return true
}

// fuzzWF parses a native workflow for a fuzzer's setup.
func fuzzWF(tb testing.TB, src string) *workflow.Workflow {
	wf, err := workflow.ParseNative([]byte(src), "fuzz.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	return wf
}

func mustJSON(tb testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// quick is a workflow whose invocations end (time out) 50ms after they
// start, since the stub worker runs nothing: synchronous calls return.
const quick = `
name: quick
timeout: 50ms
inputs: {x: a.in, y: $result.y}
functions:
  a: {inputs: [in], outputs: {out: $result.answer}}
`

func FuzzGatewayDeploy(f *testing.F) {
	g := newFuzzGateway(f, Config{}, true)
	h := g.Handler()
	two := fuzzWF(f, twoStep)
	f.Add(mustJSON(f, api.DeployRequest{Workflow: two}))
	f.Add(mustJSON(f, api.DeployRequest{Workflow: two, Mode: api.ModeWorkerSP, Placement: api.PlacementSingle}))
	f.Add(mustJSON(f, api.DeployRequest{Workflow: two, Placement: api.PlacementStatic, Table: map[string]string{"a": "w0", "b": "nobody"}}))
	f.Add(mustJSON(f, api.DeployRequest{Workflow: two, Mode: "warp"}))
	f.Add(mustJSON(f, api.DeployRequest{Workflow: two, Placement: "scatter"}))
	f.Add([]byte(`{"workflow": {"name": "bad name!", "functions": {}}}`))
	f.Add([]byte(`{"workflow": {"name": "x"}}`))
	f.Add([]byte(`{"workflow": null}`))
	f.Add([]byte(`{"workflow": {}, "extra": 1}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(``))
	f.Add([]byte(`{"workflow": `))
	f.Add([]byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`))
	f.Add(bytes.Replace(mustJSON(f, api.DeployRequest{Workflow: two}), []byte(`"b"`), []byte(`"a"`), -1))

	f.Fuzz(func(t *testing.T, body []byte) {
		before := g.fuzzState()
		rec := apitest.Serve(h, httptest.NewRequest(http.MethodPost, "/v1/workflows", bytes.NewReader(body)))
		apitest.CheckAnswer(t, "POST /v1/workflows", rec)
		if rec.Code != http.StatusOK {
			if after := g.fuzzState(); !sameState(before, after) {
				t.Fatalf("refused deploy (%d %s) changed the gateway: %+v → %+v", rec.Code, rec.Body, before, after)
			}
			return
		}
		var info api.WorkflowInfo
		if err := json.Unmarshal(rec.Body.Bytes(), &info); err != nil {
			t.Fatalf("deploy answered 200 with %q: %v", rec.Body, err)
		}
		got := apitest.Serve(h, httptest.NewRequest(http.MethodGet, "/v1/workflows/"+url.PathEscape(info.Name), nil))
		if got.Code != http.StatusOK {
			t.Fatalf("workflow %q deployed, but GET answers %d %s", info.Name, got.Code, got.Body)
		}
	})
}

func FuzzGatewayInvoke(f *testing.F) {
	g := newFuzzGateway(f, Config{Keep: 50}, true)
	h := g.Handler()
	if _, err := g.deploy(context.Background(), &api.DeployRequest{Workflow: fuzzWF(f, quick)}); err != nil {
		f.Fatal(err)
	}
	f.Add("quick", []byte(`{"input": {"x": 1, "y": "two"}}`))
	f.Add("quick", []byte(`{"input": {"x": 1}, "async": true}`))
	f.Add("quick", []byte(`{"request_id": "same", "async": true}`))
	f.Add("quick", []byte(`{"request_id": "same"}`))
	f.Add("quick", []byte(`{"input": {"z": 1}}`))
	f.Add("quick", []byte(`{"input": {"x": }}`))
	f.Add("quick", []byte(`{"input": [1, 2]}`))
	f.Add("quick", []byte(`{"async": "yes"}`))
	f.Add("quick", []byte(`{"unknown": true}`))
	f.Add("quick", []byte(``))
	f.Add("quick", []byte(`null`))
	f.Add("quick", []byte(`{} {}`))
	f.Add("nope", []byte(`{"async": true}`))
	f.Add("", []byte(`{}`))
	f.Add("quick/../quick", []byte(`{}`))

	f.Fuzz(func(t *testing.T, name string, body []byte) {
		before := g.fuzzState()
		r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
		r.URL.Path = "/v1/workflows/" + name + "/invocations"
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rec := apitest.Serve(h, r.WithContext(ctx))
		if ctx.Err() != nil {
			t.Fatalf("invoke of a workflow that times out after 50ms did not answer in 5s")
		}
		if rec.Code/100 == 3 || rec.Code == http.StatusNotFound && !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			return // the mux's own answer to a path that is not an invocation's
		}
		apitest.CheckAnswer(t, "POST invocations", rec)
		if rec.Code >= 400 {
			if after := g.fuzzState(); !sameState(before, after) {
				t.Fatalf("refused invocation (%d %s) changed the gateway: %+v → %+v", rec.Code, rec.Body, before, after)
			}
			var req api.InvokeRequest
			if json.Unmarshal(body, &req) == nil && rec.Code == http.StatusNotFound && name == "quick" {
				t.Fatalf("invocation of the deployed workflow answered 404: %s", rec.Body)
			}
			return
		}
		var inv api.Invocation
		if err := json.Unmarshal(rec.Body.Bytes(), &inv); err != nil || inv.RequestID == "" || inv.Workflow != "quick" {
			t.Fatalf("invoke answered %d %q, want an invocation of quick", rec.Code, rec.Body)
		}
	})
}

// FuzzGatewayRun drives POST /run, the original FaaSFlow gateway's
// endpoint: a malformed body or an unknown workflow or input is refused
// with 4xx; only an invocation that ran and failed answers 500.
func FuzzGatewayRun(f *testing.F) {
	g := newFuzzGateway(f, Config{Keep: 50}, true)
	h := g.Handler()
	if _, err := g.deploy(context.Background(), &api.DeployRequest{Workflow: fuzzWF(f, quick)}); err != nil {
		f.Fatal(err)
	}
	f.Add([]byte(`{"workflow": "quick", "input_datas": {"$USER.x": {"datatype": "entity", "val": 3}}}`))
	f.Add([]byte(`{"workflow_name": "quick", "request_id": "r1", "input_datas": {"y": 1}}`))
	f.Add([]byte(`{"workflow_name": "quick", "input_datas": {"$USER.z": {"val": 1}}}`))
	f.Add([]byte(`{"workflow_name": "quick", "input_datas": {"$USER.x": {"val": }}}`))
	f.Add([]byte(`{"workflow_name": "quick", "input_datas": {"$USER.x": null}}`))
	f.Add([]byte(`{"workflow": "missing"}`))
	f.Add([]byte(`{"workflow": 7}`))
	f.Add([]byte(`{"flow": "quick"}`))
	f.Add([]byte(`{}`))
	f.Add([]byte(``))

	f.Fuzz(func(t *testing.T, body []byte) {
		before := g.fuzzState()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rec := apitest.Serve(h, httptest.NewRequest(http.MethodPost, "/run", bytes.NewReader(body)).WithContext(ctx))
		if ctx.Err() != nil {
			t.Fatalf("/run of a workflow that times out after 50ms did not answer in 5s")
		}
		after := g.fuzzState()
		var out map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("/run answered %d with %q, not JSON", rec.Code, rec.Body)
		}
		switch {
		case rec.Code == http.StatusOK:
			if out["status"] != "ok" {
				t.Fatalf("/run answered 200 with %s", rec.Body)
			}
		case rec.Code >= 500:
			// Allowed only for an invocation that ran: the original answered
			// a failed run with 500 and {"status": "error"}.
			if after.newest == before.newest && !strings.Contains(strings.ToLower(string(body)), "request_id") {
				t.Fatalf("/run refused input with %d %s, want 4xx", rec.Code, rec.Body)
			}
			if out["status"] != "error" || out["error"] == "" {
				t.Fatalf("/run answered %d with %s, want status error and the error", rec.Code, rec.Body)
			}
		case rec.Code >= 400:
			if out["error"] == nil || out["error"] == "" {
				t.Fatalf("/run answered %d with %s, which does not name the problem", rec.Code, rec.Body)
			}
			if !sameState(before, after) {
				t.Fatalf("refused /run (%d %s) changed the gateway", rec.Code, rec.Body)
			}
		default:
			t.Fatalf("/run answered %d %s", rec.Code, rec.Body)
		}
	})
}

// FuzzGatewayInternal drives the workers' endpoints, POST
// /v1/internal/reports and /v1/internal/relay, whose JSON metadata travels
// in a header beside a raw body. A running invocation "inv-1" is there to
// be reported on; a refused call must leave it as it was.
func FuzzGatewayInternal(f *testing.F) {
	const maxBody = 1 << 10
	g := newFuzzGateway(f, Config{MaxBody: maxBody, Keep: 50}, true)
	h := g.Handler()
	if _, err := g.deploy(context.Background(), &api.DeployRequest{Workflow: fuzzWF(f, twoStep)}); err != nil {
		f.Fatal(err)
	}
	running := func() *invocation {
		inv := g.lookup("inv-1")
		if inv != nil {
			inv.mu.Lock()
			ended := inv.info.Ended()
			inv.mu.Unlock()
			if !ended {
				return inv
			}
			g.mu.Lock()
			delete(g.invs, "inv-1")
			g.order = slices.DeleteFunc(g.order, func(id string) bool { return id == "inv-1" })
			g.mu.Unlock()
		}
		inv, _, err := g.invoke("two", &api.InvokeRequest{RequestID: "inv-1"})
		if err != nil {
			f.Fatal(err)
		}
		return inv
	}
	report := func(v any) string { return string(mustJSON(f, v)) }
	f.Add(false, report(api.Report{Invocation: "inv-1", Kind: "result", Key: "answer", From: "b"}), []byte(`42`))
	f.Add(false, report(api.Report{Invocation: "inv-1", Kind: "result", Key: "extra", From: "b", Skip: true}), []byte(nil))
	f.Add(false, report(api.Report{Invocation: "inv-1", Kind: "fail", Error: "boom"}), []byte(nil))
	f.Add(false, report(api.Report{Invocation: "inv-1", Kind: "shrug"}), []byte(nil))
	f.Add(false, report(api.Report{Invocation: "nobody", Kind: "result"}), []byte(`1`))
	f.Add(false, report(api.Report{Invocation: "inv-1", Kind: "result", Key: "answer"}), bytes.Repeat([]byte("x"), maxBody+1))
	f.Add(false, `{"invocation": "inv-1", "kind": `, []byte(`1`))
	f.Add(false, ``, []byte(`1`))
	f.Add(false, `null`, []byte(``))
	f.Add(false, `[]`, []byte(``))
	f.Add(true, report(api.Message{Invocation: "inv-1", Workflow: "two", From: "a", Index: -1, DeadlineMS: time.Now().Add(time.Hour).UnixMilli()}), []byte(`{}`))
	f.Add(true, `{"invocation": "inv-1", "targets": [{"function": "$result", "input": "answer"}], "deadline_ms": 99999999999999}`, []byte(`"v"`))
	f.Add(true, `{"invocation": "inv-1", "targets": [{"function": "b", "input": "in"}], "deadline_ms": 99999999999999}`, []byte(`"v"`))
	f.Add(true, `{"invocation": "inv-1", "targets": [{"function": "nosuch", "input": "in"}]}`, []byte(`"v"`))
	f.Add(true, `{"invocation": "gone"}`, []byte(``))
	f.Add(true, `{"invocation": 5}`, []byte(``))
	f.Add(true, `{"invocation": "inv-1"}`, bytes.Repeat([]byte("y"), maxBody+1))

	f.Fuzz(func(t *testing.T, relay bool, header string, body []byte) {
		inv := running()
		inv.mu.Lock()
		statusBefore, pendingBefore := inv.info.Status, len(inv.pending)
		inv.mu.Unlock()
		path, name := "/v1/internal/reports", api.HeaderReport
		if relay {
			path, name = "/v1/internal/relay", api.HeaderMessage
		}
		r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		r.Header[name] = []string{header} // as sent, not canonicalised or checked
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		rec := apitest.Serve(h, r.WithContext(ctx))
		if ctx.Err() != nil {
			t.Fatalf("%s did not answer in 10s", path)
		}
		apitest.CheckAnswer(t, "POST "+path, rec)
		if len(body) > maxBody && rec.Code != http.StatusRequestEntityTooLarge && rec.Code != http.StatusBadRequest {
			t.Fatalf("%s took a body of %d bytes over the limit of %d: %d %s", path, len(body), maxBody, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			inv.mu.Lock()
			statusAfter, pendingAfter := inv.info.Status, len(inv.pending)
			inv.mu.Unlock()
			if statusAfter != statusBefore || pendingAfter != pendingBefore {
				t.Fatalf("refused %s (%d %s) changed the invocation: %s/%d → %s/%d", path, rec.Code, rec.Body,
					statusBefore, pendingBefore, statusAfter, pendingAfter)
			}
			return
		}
		if rec.Code != http.StatusNoContent {
			t.Fatalf("%s answered %d %s, want 204 or an error", path, rec.Code, rec.Body)
		}
	})
}

func FuzzGatewayRegister(f *testing.F) {
	g := newFuzzGateway(f, Config{}, false)
	h := g.Handler()
	f.Add([]byte(`{"id": "w1", "url": "http://127.0.0.1:8000", "slots": 4, "memory_mb": 1024}`))
	f.Add([]byte(`{"id": "w1", "url": "http://127.0.0.1:8001"}`))
	f.Add([]byte(`{"id": "", "url": "http://127.0.0.1:8000"}`))
	f.Add([]byte(`{"id": "w2", "url": "ftp://x"}`))
	f.Add([]byte(`{"id": "w2", "url": "http://x", "slots": "many"}`))
	f.Add([]byte(`{"id": "w2", "url": "http://x", "token": "t"}`))
	f.Add([]byte(`{"id": "w2"`))
	f.Add([]byte(``))

	f.Fuzz(func(t *testing.T, body []byte) {
		before := g.fuzzState()
		rec := apitest.Serve(h, httptest.NewRequest(http.MethodPost, "/v1/internal/workers", bytes.NewReader(body)))
		apitest.CheckAnswer(t, "POST /v1/internal/workers", rec)
		after := g.fuzzState()
		if rec.Code >= 400 {
			if !sameState(before, after) {
				t.Fatalf("refused registration (%d %s) changed the workers: %v → %v", rec.Code, rec.Body, before.workers, after.workers)
			}
			return
		}
		if rec.Code != http.StatusNoContent {
			t.Fatalf("register answered %d %s", rec.Code, rec.Body)
		}
		var req api.RegisterWorker
		if err := json.Unmarshal(body, &req); err != nil {
			t.Fatalf("register took a body that is not JSON: %q", body)
		}
		if !slices.Contains(after.workers, req.ID+"="+req.URL) {
			t.Fatalf("registered %s at %s, but the gateway lists %v", req.ID, req.URL, after.workers)
		}
	})
}

// FuzzGatewayArtifacts uploads bodies under names: only a body under its
// own sha256 is kept (and then served back as it was); anything else is
// refused with 4xx and leaves no file behind.
func FuzzGatewayArtifacts(f *testing.F) {
	const maxBody = 1 << 10
	g := newFuzzGateway(f, Config{MaxBody: maxBody}, false)
	h := g.Handler()
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	f.Add(sum([]byte("#!/bin/sh\n")), []byte("#!/bin/sh\n"))
	f.Add(sum(nil), []byte(nil))
	f.Add(sum([]byte("a")), []byte("b"))
	f.Add(strings.ToUpper(sum([]byte("a"))), []byte("a"))
	f.Add(sum(bytes.Repeat([]byte("z"), maxBody+1)), bytes.Repeat([]byte("z"), maxBody+1))
	f.Add("../../etc/passwd", []byte("x"))
	f.Add("..", []byte("x"))
	f.Add("abc", []byte("x"))
	f.Add("", []byte("x"))
	f.Add(sum([]byte("a"))[:63]+"g", []byte("a"))

	f.Fuzz(func(t *testing.T, name string, body []byte) {
		dir := filepath.Join(g.cfg.DataDir, "artifacts")
		before, _ := os.ReadDir(dir)
		path := "/v1/artifacts/" + url.PathEscape(name)
		rec := apitest.Serve(h, httptest.NewRequest(http.MethodPut, path, bytes.NewReader(body)))
		if rec.Code/100 == 3 || rec.Code == http.StatusNotFound && name == "" || rec.Code == http.StatusMethodNotAllowed {
			return // the mux's answer to a path that is not an artifact's ("", "..")
		}
		apitest.CheckAnswer(t, "PUT "+path, rec)
		after, _ := os.ReadDir(dir)
		valid := name == sum(body) && len(body) <= maxBody
		if valid != (rec.Code == http.StatusNoContent) {
			t.Fatalf("PUT %s of %d bytes answered %d %s (valid upload: %v)", path, len(body), rec.Code, rec.Body, valid)
		}
		for _, e := range after {
			if strings.HasPrefix(e.Name(), "upload-") {
				t.Fatalf("PUT %s left a temporary file %s", path, e.Name())
			}
		}
		if !valid {
			if len(after) != len(before) {
				t.Fatalf("refused PUT %s changed the artifacts: %d files → %d", path, len(before), len(after))
			}
		}
		get := apitest.Serve(h, httptest.NewRequest(http.MethodGet, path, nil))
		if get.Code >= 500 {
			t.Fatalf("GET %s: %d %s", path, get.Code, get.Body)
		}
		if valid && (get.Code != http.StatusOK || !bytes.Equal(get.Body.Bytes(), body)) {
			t.Fatalf("GET %s after its upload: %d, %d bytes, want 200 and the %d bytes uploaded", path, get.Code, get.Body.Len(), len(body))
		}
	})
}

// FuzzGatewayQuery throws paths and query strings at the read-only
// endpoints: ?limit= must be a count (the answer then holds at most that
// many), ?wait= a duration; an ended invocation answers at once whatever
// the wait.
func FuzzGatewayQuery(f *testing.F) {
	g := newFuzzGateway(f, Config{}, true)
	h := g.Handler()
	if _, err := g.deploy(context.Background(), &api.DeployRequest{Workflow: fuzzWF(f, quick)}); err != nil {
		f.Fatal(err)
	}
	for i := range 5 {
		inv, _, err := g.invoke("quick", &api.InvokeRequest{RequestID: "done-" + strconv.Itoa(i)})
		if err != nil {
			f.Fatal(err)
		}
		g.fail(inv, io.ErrUnexpectedEOF)
	}
	f.Add(uint8(0), "", "limit=2")
	f.Add(uint8(0), "", "limit=0&workflow=quick&status=failed")
	f.Add(uint8(0), "", "limit=-1")
	f.Add(uint8(0), "", "limit=ten")
	f.Add(uint8(0), "", "limit=99999999999999999999")
	f.Add(uint8(0), "", "limit=%zz;x")
	f.Add(uint8(1), "done-1", "wait=30s")
	f.Add(uint8(1), "done-2", "wait=1000000h")
	f.Add(uint8(1), "done-2", "wait=-5s")
	f.Add(uint8(1), "done-3", "wait=soon")
	f.Add(uint8(1), "unknown", "wait=1s")
	f.Add(uint8(2), "quick", "")
	f.Add(uint8(2), "nope", "")
	f.Add(uint8(3), "", "")
	f.Add(uint8(4), "", "")
	f.Add(uint8(5), "", "")

	f.Fuzz(func(t *testing.T, which uint8, seg, query string) {
		paths := []string{"/v1/invocations", "/v1/invocations/" + seg, "/v1/workflows/" + seg, "/v1/workflows", "/v1/workers", "/healthz"}
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.URL.Path, r.URL.RawQuery = paths[int(which)%len(paths)], query
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		watchdog := time.AfterFunc(7*time.Second, func() {
			buf := make([]byte, 1<<20)
			panic(fmt.Sprintf("GET %s?%s hangs:\n%s", r.URL.Path, query, buf[:runtime.Stack(buf, true)]))
		})
		defer watchdog.Stop()
		rec := apitest.Serve(h, r.WithContext(ctx))
		if ctx.Err() != nil {
			t.Fatalf("GET %s?%s did not answer in 5s (every invocation here has ended)", r.URL.Path, query)
		}
		if rec.Code/100 == 3 || rec.Code == http.StatusNotFound && !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			return // the mux's own answer to a path it does not route
		}
		apitest.CheckAnswer(t, "GET "+r.URL.String(), rec)
		if r.URL.Path != "/v1/invocations" || rec.Code != http.StatusOK {
			return
		}
		var list []api.Invocation
		if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
			t.Fatalf("GET /v1/invocations?%s answered %q: %v", query, rec.Body, err)
		}
		if n, err := strconv.Atoi(r.URL.Query().Get("limit")); err == nil && n > 0 && len(list) > n {
			t.Fatalf("GET /v1/invocations?%s listed %d invocations", query, len(list))
		}
	})
}
