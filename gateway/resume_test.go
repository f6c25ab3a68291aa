package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/workflow"
)

// TestResumeFromCheckpoint walks the gateway's side of a resume with fake
// workers: a checkpointed invocation loses the worker running b; the
// gateway deploys the workflow again on w0, tells w0 that a is done, sends
// the inputs and a's checkpointed output under the new attempt's ID, drops
// reports of the old attempt, and ends the invocation from the new one's.
func TestResumeFromCheckpoint(t *testing.T) {
	g, srv, fakes := newTestGatewayConfig(t, 2, Config{LostAfter: 300 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go g.watchWorkers(ctx)
	go func() { // w0 keeps beating, w1 falls silent
		for ctx.Err() == nil {
			g.registerWorker(api.RegisterWorker{ID: "w0", URL: fakes[0].srv.URL})
			time.Sleep(50 * time.Millisecond)
		}
	}()
	client := api.NewClient(srv.URL)
	if _, err := client.Deploy(ctx, &api.DeployRequest{Workflow: parseWF(t, twoStep), Checkpoint: true,
		Placement: "static", Table: map[string]string{"a": "w0", "b": "w1"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.Invoke(ctx, "two", &api.InvokeRequest{RequestID: "c1", Async: true, Input: map[string]json.RawMessage{"x": json.RawMessage("7")}}); err != nil {
		t.Fatal(err)
	}
	report := func(r api.Report, body []byte) {
		t.Helper()
		if err := api.PostRaw(ctx, http.DefaultClient, srv.URL+"/v1/internal/reports", api.HeaderReport, r, body); err != nil {
			t.Fatal(err)
		}
	}
	sent, _ := json.Marshal([]api.Sent{{Kind: api.KindValue, Index: -1, Targets: []workflow.Target{{Function: "b", Input: "in"}}, Data: []byte("42")}})
	report(api.Report{Invocation: "c1", Worker: "w0", Kind: "checkpoint", From: "a", Index: -1}, sent)

	// w1 is lost: the gateway resumes on w0.
	var restore, replay *api.Message
	var restoreBody, replayBody string
	waitFor(t, func() bool {
		msgs, bodies := fakes[0].snapshot()
		for i, m := range msgs {
			switch {
			case m.Kind == api.KindRestore:
				restore, restoreBody = &m, bodies[i]
			case m.From == "a" && m.Invocation == "c1~r1":
				replay, replayBody = &m, bodies[i]
			}
		}
		return restore != nil && replay != nil
	})
	if restore.Invocation != "c1~r1" || restoreBody != `[{"function":"a","index":-1}]` {
		t.Errorf("restore message %+v with %s, want attempt c1~r1 with a done", restore, restoreBody)
	}
	if len(replay.Targets) != 1 || replay.Targets[0] != (workflow.Target{Function: "b", Input: "in"}) || replayBody != "42" {
		t.Errorf("replayed message %+v with %q, want a's value 42 for b.in", replay, replayBody)
	}
	info, err := client.Workflows(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info[0].Placement["b"] != "w0" {
		t.Errorf("after the resume b is placed on %s, want w0", info[0].Placement["b"])
	}

	// A failure of the old attempt is dropped; results of the new one end it.
	report(api.Report{Invocation: "c1", Worker: "w0", Kind: "fail", Function: "a", Error: "send output of a to worker w1: connection refused"}, nil)
	report(api.Report{Invocation: "c1~r1", Worker: "w0", Kind: "result", From: "b", Key: "answer"}, []byte("43"))
	report(api.Report{Invocation: "c1~r1", Worker: "w0", Kind: "result", From: "b", Key: "extra"}, []byte("1"))
	got, err := client.Invocation(ctx, "c1", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != api.StatusSucceeded || string(got.Result["answer"]) != "43" {
		t.Fatalf("invocation = %+v, want succeeded with answer 43", got)
	}
}

func TestLookupAttempt(t *testing.T) {
	g, _, _ := newTestGateway(t, 0)
	inv := &invocation{}
	g.invs["req"] = inv
	for _, tc := range []struct {
		wid  string
		want *invocation
	}{
		{"req", inv},
		{"req~r1", inv},
		{"req~r12", inv},
		{"req~rx", nil},
		{"other~r1", nil},
		{"~r1", nil},
	} {
		if got := g.lookupAttempt(tc.wid); got != tc.want {
			t.Errorf("lookupAttempt(%q) = %p, want %p", tc.wid, got, tc.want)
		}
	}
}
