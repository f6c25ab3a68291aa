package worker

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/agents/engine"
	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/fn/protocol"
	"github.com/faasflow/faasflow-go/internal/apitest"
	"github.com/faasflow/faasflow-go/workflow"
)

// The fuzzers here drive the worker's HTTP API (Handler) with what a
// careless or hostile peer may send: no panic, no 5xx for malformed input
// but a 4xx whose JSON body names the problem, and a message stream that
// acknowledges each well-formed message and closes on the first garbage
// frame instead of hanging. Plain `go test` runs their seeds.

// newFuzzWorker makes a worker whose gateway does not answer; it is
// served through its Handler only, never Run.
func newFuzzWorker(tb testing.TB, maxBody int) *Worker {
	w, err := New(Config{
		ID: "w0", Listen: "127.0.0.1:0", Gateway: "http://127.0.0.1:1", DataDir: tb.TempDir(),
		MaxBody: maxBody, SyntheticBinary: "/nonexistent/faasflow-synthetic",
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		tb.Fatal(err)
	}
	w.ln.Close()
	tb.Cleanup(func() {
		w.engine.Close()
		w.sender.Close()
		w.pool.Close()
		w.closeBackend()
		closeStores(w.stores, w.direct)
		w.rec.Close()
	})
	return w
}

func fuzzDeployment(tb testing.TB, src string, placement map[string]string, edits ...func(*workflow.Workflow)) []byte {
	wf, err := workflow.ParseNative([]byte(src), "fuzz.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	for _, edit := range edits {
		edit(wf)
	}
	b, err := json.Marshal(api.Deployment{Workflow: wf, Placement: placement, Workers: map[string]string{"w0": "http://127.0.0.1:1"},
		Mode: api.ModeDataflow, Version: 1})
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

const fuzzExecWF = `
name: ex
inputs: {x: a.in}
functions:
  a: {runtime: exec, code: /bin/true, inputs: [in], outputs: {out: $result}}
`

func FuzzWorkerDeploy(f *testing.F) {
	w := newFuzzWorker(f, 0)
	h := w.Handler()
	f.Add("ex", fuzzDeployment(f, fuzzExecWF, map[string]string{"a": "w0"}))
	f.Add("ex", fuzzDeployment(f, fuzzExecWF, map[string]string{"a": "elsewhere"}))
	f.Add("ex", fuzzDeployment(f, fuzzExecWF, nil))
	f.Add("other", fuzzDeployment(f, fuzzExecWF, map[string]string{"a": "w0"}))
	f.Add("ex", fuzzDeployment(f, strings.Replace(fuzzExecWF, "runtime: exec, code: /bin/true", "runtime: synthetic, synthetic: {seconds: 1}", 1), map[string]string{"a": "w0"}))
	artifact := func(sum string) func(*workflow.Workflow) {
		return func(wf *workflow.Workflow) { wf.Functions[0].Artifact, wf.Functions[0].Code = sum, "" }
	}
	f.Add("ex", fuzzDeployment(f, fuzzExecWF, map[string]string{"a": "w0"}, artifact(strings.Repeat("ab", 32))))
	f.Add("ex", fuzzDeployment(f, fuzzExecWF, map[string]string{"a": "w0"}, artifact("../../zz")))
	f.Add("ex", []byte(`{"workflow": {"name": "ex"}}`))
	f.Add("ex", []byte(`{"workflow": {"name": "ex", "functions": [{"name": "a"}]}, "placement": {"a": "w0"}}`))
	f.Add("ex", []byte(`{"workflow": null}`))
	f.Add("ex", []byte(`{"workflow": `))
	f.Add("ex", []byte(``))
	f.Add("", []byte(`{}`))

	f.Fuzz(func(t *testing.T, name string, body []byte) {
		r := httptest.NewRequest(http.MethodPut, "/", bytes.NewReader(body))
		r.URL.Path = "/v1/workflows/" + name
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		rec := apitest.Serve(h, r.WithContext(ctx))
		if ctx.Err() != nil {
			t.Fatalf("PUT %s did not answer in 10s", r.URL.Path)
		}
		if rec.Code/100 == 3 || rec.Code == http.StatusNotFound && !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			return // the mux's answer to a path that is not a workflow's
		}
		apitest.CheckAnswer(t, "PUT "+r.URL.Path, rec)
		if rec.Code == http.StatusOK {
			var d api.Deployment
			if json.Unmarshal(body, &d) != nil || d.Workflow == nil || d.Workflow.Name != name {
				t.Fatalf("PUT %s took a deployment that does not name it: %d %s", r.URL.Path, rec.Code, rec.Body)
			}
		}
	})
}

// FuzzWorkerQuery drives the worker's small endpoints: run records by
// invocation, the end of an invocation, removal of a workflow, health and
// metrics. Records of "inv-a" exist, and must be found whatever came before.
func FuzzWorkerQuery(f *testing.F) {
	w := newFuzzWorker(f, 0)
	h := w.Handler()
	for _, fn := range []string{"a", "b"} {
		w.rec.Record(&engine.RunRecord{RequestID: "inv-a", Workflow: "wf", Function: fn, Index: -1})
	}
	f.Add(uint8(0), "", "invocation=inv-a")
	f.Add(uint8(0), "", "invocation=nobody")
	f.Add(uint8(0), "", "invocation=")
	f.Add(uint8(0), "", "invocation=%22request_id%22")
	f.Add(uint8(0), "", "invocation=%ff%fe")
	f.Add(uint8(0), "", "x=%zz;y")
	f.Add(uint8(1), "inv-a", "")
	f.Add(uint8(1), "../../x", "")
	f.Add(uint8(2), "wf", "")
	f.Add(uint8(2), "", "")
	f.Add(uint8(3), "", "")
	f.Add(uint8(4), "", "")

	f.Fuzz(func(t *testing.T, which uint8, seg, query string) {
		ops := []struct{ method, path string }{
			{http.MethodGet, "/v1/runs"},
			{http.MethodPost, "/v1/invocations/" + seg + "/end"},
			{http.MethodDelete, "/v1/workflows/" + seg},
			{http.MethodGet, "/healthz"},
			{http.MethodGet, "/metrics"},
		}
		op := ops[int(which)%len(ops)]
		r := httptest.NewRequest(op.method, "/", nil)
		r.URL.Path, r.URL.RawQuery = op.path, query
		rec := apitest.Serve(h, r)
		if rec.Code/100 == 3 || rec.Code == http.StatusNotFound && !strings.HasPrefix(rec.Header().Get("Content-Type"), "application/json") {
			return
		}
		apitest.CheckAnswer(t, op.method+" "+r.URL.String(), rec)
		if op.path == "/v1/runs" && rec.Code == http.StatusOK {
			var recs []*engine.RunRecord
			if err := json.Unmarshal(rec.Body.Bytes(), &recs); err != nil {
				t.Fatalf("GET /v1/runs?%s answered %q: %v", query, rec.Body, err)
			}
			id := r.URL.Query().Get("invocation")
			for _, rr := range recs {
				if rr.RequestID != id {
					t.Fatalf("GET /v1/runs?%s returned a record of %q", query, rr.RequestID)
				}
			}
		}
		// The records of inv-a are still found.
		got := apitest.Serve(h, httptest.NewRequest(http.MethodGet, "/v1/runs?invocation=inv-a", nil))
		var recs []*engine.RunRecord
		if json.Unmarshal(got.Body.Bytes(), &recs); got.Code != http.StatusOK || len(recs) != 2 {
			t.Fatalf("after %s %s?%s, inv-a's records: %d %s", op.method, op.path, query, got.Code, got.Body)
		}
	})
}

// streamFrame is a frame of the message stream (fn/protocol's layout).
func streamFrame(typ byte, header, body []byte) []byte {
	b := make([]byte, 9, 9+len(header)+len(body))
	binary.BigEndian.PutUint32(b[0:4], uint32(5+len(header)+len(body)))
	b[4] = typ
	binary.BigEndian.PutUint32(b[5:9], uint32(len(header)))
	return append(append(b, header...), body...)
}

// wantAcks is how many acks the receiver owes for data: one per leading
// well-formed message frame (api.FrameMessage, a header that parses, a body
// within the limit); the first frame that is not ends the stream.
func wantAcks(data []byte, maxBody int) (seqs []uint64) {
	for len(data) >= 9 {
		n := uint64(binary.BigEndian.Uint32(data[0:4]))
		h := uint64(binary.BigEndian.Uint32(data[5:9]))
		if n < 5 || h > n-5 || h > protocol.MaxHeader || n-5-h > uint64(maxBody) || uint64(len(data)) < 4+n {
			return seqs
		}
		if data[4] != api.FrameMessage {
			return seqs
		}
		seq, _, err := api.ParseMessageHeader(data[9 : 9+h])
		if err != nil {
			return seqs
		}
		seqs = append(seqs, seq)
		data = data[4+n:]
	}
	return seqs
}

// FuzzWorkerMessageStream opens a message stream (GET /v1/messages/stream
// with Upgrade) and writes arbitrary bytes after the upgrade. The worker
// must answer 101, acknowledge each leading well-formed message (here with
// 404: no workflow is deployed) in order, then close the stream — at the
// first malformed frame, or when the sender stops — within a few seconds,
// and keep serving.
func FuzzWorkerMessageStream(f *testing.F) {
	const maxBody = 1 << 10
	w := newFuzzWorker(f, maxBody)
	srv := httptest.NewServer(w.Handler())
	f.Cleanup(srv.Close)
	addr := strings.TrimPrefix(srv.URL, "http://")
	msg := func(seq uint64, wf string) []byte {
		return api.MessageHeader(seq, &api.Message{Invocation: "i", Workflow: wf, From: "$input", Kind: api.KindValue, Index: -1})
	}
	m := api.FrameMessage
	f.Add([]byte{})
	f.Add(streamFrame(m, msg(1, "wf"), []byte("value")))
	f.Add(append(streamFrame(m, msg(1, "wf"), nil), streamFrame(m, msg(2, "other"), []byte("v"))...))
	f.Add(append(streamFrame(m, msg(7, "wf"), nil), []byte("GET / HTTP/1.1\r\n\r\n")...))
	f.Add(streamFrame(api.FrameAck, api.AckHeader(1, 0, ""), nil))
	f.Add(streamFrame(m, msg(1, "wf")[:5], nil))
	f.Add(streamFrame(1, []byte(`{"seq": 1, "message": {"invocation": "i"}}`), nil)) // an older version's frame
	f.Add(streamFrame(m, []byte(`not a header`), nil))
	f.Add(streamFrame(m, msg(1, "wf"), make([]byte, maxBody+1)))
	f.Add([]byte{0, 0, 0, 4, m, 0, 0, 0, 0})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, m, 0, 0, 0, 0})
	f.Add([]byte{0, 0, 0, 100, m, 0, 0, 0, 10, 1})
	f.Add([]byte("\x00\x00\x00"))

	f.Fuzz(func(t *testing.T, data []byte) {
		nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		nc.SetDeadline(time.Now().Add(5 * time.Second))
		req := "GET " + api.MessagesStreamPath + " HTTP/1.1\r\nHost: " + addr + "\r\nConnection: Upgrade\r\nUpgrade: faasflow-messages\r\n\r\n"
		if _, err := io.WriteString(nc, req); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(nc)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("upgrade: %v", err)
		}
		if resp.StatusCode != http.StatusSwitchingProtocols {
			t.Fatalf("upgrade answered %s", resp.Status)
		}
		// Write while reading: the worker acks as it goes, and would stop
		// reading if nobody took its acks.
		werr := make(chan error, 1)
		go func() {
			_, err := nc.Write(data)
			if err == nil {
				err = nc.(*net.TCPConn).CloseWrite()
			}
			werr <- err
		}()
		conn := protocol.NewConn(readOnly{br}, 0)
		want := wantAcks(data, maxBody)
		var got []uint64
		reset := false
		for {
			fr, err := conn.Read()
			if err != nil {
				if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || isReset(err) {
					reset = isReset(err)
					break
				}
				t.Fatalf("after %d acks (want %d): %v (the worker did not close a stream it gave up on, or sent garbage)", len(got), len(want), err)
			}
			if fr.Type != api.FrameAck {
				t.Fatalf("worker sent frame type %d %q, want an ack", fr.Type, fr.Header)
			}
			seq, code, msg, err := api.ParseAckHeader(fr.Header)
			if err != nil {
				t.Fatal(err)
			}
			if code != http.StatusNotFound || msg == "" {
				t.Fatalf("ack of a message for a workflow not deployed: code %d %q, want 404 naming it", code, msg)
			}
			got = append(got, seq)
		}
		<-werr // a write cut short by the worker closing is fine
		// A reset (the worker closed with our garbage unread) may drop acks
		// still in flight: then those received must be a prefix.
		if len(got) > len(want) || len(got) < len(want) && !reset {
			t.Fatalf("got acks %v, want %v", got, want)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("got acks %v, want %v", got, want)
			}
		}
		// Still serving.
		hresp, err := http.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatalf("healthz after the stream: %v", err)
		}
		hresp.Body.Close()
		if hresp.StatusCode != http.StatusOK {
			t.Fatalf("healthz after the stream: %s", hresp.Status)
		}
	})
}

func isReset(err error) bool {
	return err != nil && (strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "broken pipe"))
}

// readOnly lets protocol.Conn read the buffered response stream.
type readOnly struct{ r *bufio.Reader }

func (r readOnly) Read(p []byte) (int, error)  { return r.r.Read(p) }
func (r readOnly) Write(p []byte) (int, error) { return 0, errors.New("read only") }
func (r readOnly) Close() error                { return nil }
