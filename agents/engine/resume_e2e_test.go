package engine_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/agents/engine"
	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/internal/testcluster"
)

// resumeTable places testdata/resume.yaml one step per worker, with nap
// alone on worker-2.
var resumeTable = map[string]string{"start": "worker-0", "count": "worker-1", "merge": "worker-1", "nap": "worker-2"}

// TestWorkerLostResumeOrFail stops worker-2, which runs the last step of
// testdata/resume.yaml, either while that step runs or before its input is
// sent to it (so a worker's send fails first). Without checkpoints the
// invocation fails with "worker lost" within 5 s whoever noticed first;
// with them, the gateway places the workflow again on the two others and
// resumes the invocation there, and the result is right. When the step was
// running, only it runs again.
func TestWorkerLostResumeOrFail(t *testing.T) {
	for _, tc := range []struct {
		name         string
		checkpoint   bool
		whileNapping bool
		// full runs the full profile: values through Redis and Kafka, and
		// checkpointed values in CouchDB (a checkpoint it failed to keep
		// would make a completed run repeat).
		full bool
	}{
		{"checkpoint/while nap runs", true, true, false},
		{"checkpoint/before nap's input", true, false, false},
		{"checkpoint/full profile/while nap runs", true, true, true},
		{"no checkpoint/while nap runs", false, true, false},
		{"no checkpoint/before nap's input", false, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			log := &runLog{}
			opt := testcluster.Options{Workers: 3, LostAfter: 3 * time.Second, Observer: log}
			if tc.full {
				opt.Data = testcluster.FullProfile(t)
			}
			c := testcluster.Start(t, opt)
			c.Deploy(t, "testdata/resume.yaml", api.DeployRequest{Placement: "static", Table: resumeTable, Checkpoint: tc.checkpoint})
			ctx := context.Background()
			seconds := "20"
			if tc.checkpoint {
				seconds = "2"
			}
			inv, err := c.Client.Invoke(ctx, "resume", &api.InvokeRequest{Async: true, Input: map[string]json.RawMessage{
				"seed": json.RawMessage("4"), "seconds": json.RawMessage(seconds)}})
			if err != nil {
				t.Fatal(err)
			}
			id := inv.RequestID
			if tc.whileNapping {
				waitFor(t, func() bool { return len(log.ok(id, "merge")) > 0 }, "merge to run")
				time.Sleep(300 * time.Millisecond) // nap is asleep on worker-2 by now
			}
			stopped := time.Now()
			c.StopWorker(2)

			got, err := c.Client.Invocation(ctx, id, 30*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			took := time.Since(stopped)
			if !tc.checkpoint {
				if got.Status != api.StatusFailed || !strings.Contains(got.Error, "worker lost: worker-2") {
					t.Fatalf("invocation = %s: %q, want failed with worker lost", got.Status, got.Error)
				}
				if took > 5*time.Second {
					t.Errorf("loss detected after %s, want within 5s", took)
				}
				return
			}
			if got.Status != api.StatusSucceeded {
				t.Fatalf("invocation = %s: %s, want succeeded after a resume", got.Status, got.Error)
			}
			t.Logf("resumed and finished %s after the worker stopped", took.Round(time.Millisecond))
			testcluster.CheckWordcount(t, got, 4, "resumed invocation")
			if string(got.Result["out"]) != `"slept"` {
				t.Errorf("nap's result = %s, want \"slept\"", got.Result["out"])
			}
			naps := log.ok(id, "nap")
			if len(naps) != 1 || naps[0].Worker == "worker-2" || !strings.HasPrefix(naps[0].RequestID, id+"~r") {
				t.Errorf("nap's finished runs = %+v, want one on worker-0 or worker-1 in a resumed attempt", naps)
			}
			logs, err := c.Client.Logs(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			resumed := 0
			for _, rec := range logs {
				if strings.Contains(string(rec), `"request_id":"`+id+`~r1"`) {
					resumed++
				}
			}
			if resumed == 0 {
				t.Errorf("the invocation's logs (%d runs) have no run of its resumed attempt", len(logs))
			}
			if tc.whileNapping {
				// Completed runs are not repeated: one start, one merge, one
				// count per text.
				for fn, want := range map[string]int{"start": 1, "count": 8, "merge": 1} {
					if n := len(log.ok(id, fn)); n != want {
						t.Errorf("%s ran %d times, want %d (completed runs must not run again)", fn, n, want)
					}
				}
			}
			info, err := c.Client.Workflows(ctx)
			if err != nil {
				t.Fatal(err)
			}
			for fn, w := range info[0].Placement {
				if w == "worker-2" {
					t.Errorf("after the resume, %s is still placed on the lost worker", fn)
				}
			}
		})
	}
}

// waitFor polls cond for up to 20 s.
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ok returns the successful runs of function fn in invocation id, in any
// of its attempts.
func (l *runLog) ok(id, fn string) []engine.RunRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []engine.RunRecord
	for _, r := range l.runs {
		if (r.RequestID == id || strings.HasPrefix(r.RequestID, id+"~r")) && r.Function == fn && r.Status == "ok" {
			out = append(out, r)
		}
	}
	return out
}
