package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/faasflow/faasflow-go/agents/store"
	"github.com/faasflow/faasflow-go/api"
)

// What happens to an invocation when a worker it runs on is lost:
// without checkpoints it fails with "worker lost"; with them (deploy
// --checkpoint) the gateway places the workflow again on the live workers
// and resumes the invocation there as a new attempt, with a new ID on the
// workers (RequestID~rN). Every worker first learns which runs completed
// (they are not run again), then gets the workflow's inputs and the
// messages the completed runs sent, kept from their checkpoint reports.
// Messages and reports of the earlier attempt are dropped.

// CheckpointsDB is the CouchDB database of checkpointed values when the
// gateway has one (the full profile).
const CheckpointsDB = "faasflow_checkpoints"

// attemptSep separates a request ID from its attempt number in the ID a
// resumed invocation has on workers. Request IDs may not contain it.
const attemptSep = "~r"

// current returns the ID the workers know inv by and the deployment it
// runs on.
func (inv *invocation) current() (wid string, d *deployed) {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.wid, inv.d
}

// lookupAttempt finds an invocation by the ID workers know it by: its
// request ID, or that of a resumed attempt.
func (g *Gateway) lookupAttempt(wid string) *invocation {
	id := wid
	if i := strings.LastIndex(wid, attemptSep); i > 0 {
		if _, err := strconv.Atoi(wid[i+len(attemptSep):]); err == nil {
			id = wid[:i]
		}
	}
	return g.lookup(id)
}

// keptSend is a message of a checkpointed run, its value in the
// checkpoint store under key ("" for none).
type keptSend struct {
	api.Sent
	key string
}

// keep stores a checkpoint report: what run (r.From, r.Index) sent, the
// values in the checkpoint store. A checkpoint that cannot be kept only
// means the run repeats if the invocation resumes.
func (g *Gateway) keep(inv *invocation, r *api.Report, data []byte) error {
	var sent []api.Sent
	if err := json.Unmarshal(data, &sent); err != nil {
		return badRequest(fmt.Errorf("checkpoint of %s: %w", r.From, err))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kept := make([]keptSend, len(sent))
	for i, s := range sent {
		kept[i].Sent = s
		kept[i].Data = nil
		if len(s.Data) == 0 {
			continue
		}
		key, err := g.checkpoints.Put(ctx, inv.info.RequestID, 1, bytes.NewReader(s.Data))
		if err != nil {
			g.log.Warn("checkpoint not kept; the run repeats if the invocation resumes", "invocation", r.Invocation, "function", r.From, "err", err)
			return nil
		}
		kept[i].key = key
	}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	if inv.checkpoints != nil && r.Invocation == inv.wid {
		inv.checkpoints[api.RunID{Function: r.From, Index: r.Index}] = kept
	}
	return nil
}

// dropCheckpoints deletes the checkpointed values of an invocation that
// ended.
func (g *Gateway) dropCheckpoints(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := g.checkpoints.DropInvocation(ctx, id); err != nil {
		g.log.Warn("drop checkpointed values", "request_id", id, "err", err)
	}
}

// sendFailed handles a message to worker peer that could not be sent in
// attempt wid of inv. When the worker is lost, the heartbeat watcher
// fails or resumes the invocation within LostAfter; this only fails it
// with err if it still runs the same attempt after twice that, so a
// worker that dies mid-run ends as "worker lost" whoever noticed first.
func (g *Gateway) sendFailed(inv *invocation, wid, peer string, err error) {
	if api.Refused(err) {
		g.fail(inv, err) // the worker answered: it is there, and refused
		return
	}
	g.log.Warn("worker unreachable; waiting for its heartbeat verdict", "worker", peer, "invocation", wid, "err", err)
	time.AfterFunc(2*g.cfg.LostAfter, func() {
		if cur, _ := inv.current(); cur == wid {
			g.fail(inv, fmt.Errorf("%w (worker %s still sends heartbeats)", err, peer))
		}
	})
}

// workerLost fails, or resumes when the workflow keeps checkpoints, every
// running invocation with a function placed on w.
func (g *Gateway) workerLost(w api.WorkerInfo) {
	g.mu.Lock()
	var affected []*invocation
	for _, inv := range g.invs {
		inv.mu.Lock()
		if !inv.info.Ended() && inv.d.uses[w.ID] {
			affected = append(affected, inv)
		}
		inv.mu.Unlock()
	}
	g.mu.Unlock()
	lost := fmt.Errorf("worker lost: %s (%s) stopped answering heartbeats for %s", w.ID, w.URL, g.cfg.LostAfter)
	placed := map[*deployed]*deployed{} // each workflow is placed again once
	for _, inv := range affected {
		_, d := inv.current()
		if !d.dep.Checkpoint {
			g.fail(inv, lost)
			continue
		}
		nd, ok := placed[d]
		if !ok {
			var err error
			if nd, err = g.placeAgain(d, w.ID); err != nil {
				g.log.Error("cannot resume invocations of a workflow", "workflow", d.info.Name, "err", err)
			}
			placed[d] = nd
		}
		if nd == nil {
			g.fail(inv, fmt.Errorf("%w; resuming from the checkpoint failed: the workflow could not be placed on the other workers", lost))
			continue
		}
		go g.resume(inv, nd, w.ID)
	}
}

// placeAgain deploys d's workflow again, on the live workers, unless its
// current deployment already avoids the lost worker.
func (g *Gateway) placeAgain(d *deployed, lost string) (*deployed, error) {
	g.mu.Lock()
	cur := g.workflows[d.info.Name]
	g.mu.Unlock()
	if cur != nil && cur != d && !cur.uses[lost] {
		return cur, nil
	}
	req := d.req
	if req == nil { // reloaded from disk: the request is in its info
		req = &api.DeployRequest{Workflow: d.dep.Workflow, Placement: d.info.Strategy, Mode: d.info.Mode, Checkpoint: d.dep.Checkpoint}
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := g.deploy(ctx, req); err != nil {
		if len(req.Table) == 0 {
			return nil, err
		}
		// The table names the lost worker: place without it, single on the
		// first live worker, static round-robin.
		again := *req
		again.Table = nil
		if again.Placement == api.PlacementStatic {
			again.Placement = api.PlacementRoundRobin
		}
		g.log.Warn("placement table cannot be kept without the lost worker", "workflow", req.Workflow.Name, "err", err, "placement", again.Placement)
		if _, err := g.deploy(ctx, &again); err != nil {
			return nil, err
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.workflows[d.info.Name], nil
}

// resume starts a new attempt of inv on deployment nd from its
// checkpoints, after worker lost was lost.
func (g *Gateway) resume(inv *invocation, nd *deployed, lost string) {
	inv.mu.Lock()
	if inv.info.Ended() {
		inv.mu.Unlock()
		return
	}
	oldWid, oldD := inv.wid, inv.d
	inv.attempt++
	inv.wid = inv.info.RequestID + attemptSep + strconv.Itoa(inv.attempt)
	inv.d = nd
	wid, input := inv.wid, inv.input
	runs := maps.Clone(inv.checkpoints)
	inv.mu.Unlock()
	g.log.Warn("resuming invocation from its checkpoint", "workflow", nd.info.Name, "request_id", inv.info.RequestID,
		"attempt", wid, "completed_runs", len(runs))
	go g.endOn(oldD, oldWid, lost)

	ctx, cancel := context.WithDeadline(context.Background(), inv.deadline)
	defer cancel()
	done := map[string][]api.RunID{}
	for w := range nd.uses {
		done[w] = []api.RunID{}
	}
	for _, r := range slices.SortedFunc(maps.Keys(runs), compareRuns) {
		w := nd.dep.Placement[r.Function]
		done[w] = append(done[w], r)
	}
	// Every worker learns what is done before anything else of the attempt
	// can reach it.
	msgs := map[string]outgoing{}
	for w, ids := range done {
		body, _ := json.Marshal(ids)
		msgs[w] = outgoing{m: api.Message{Invocation: wid, Workflow: nd.info.Name, DeadlineMS: inv.deadline.UnixMilli(),
			From: "$restore", Index: -1, Kind: api.KindRestore}, body: body}
	}
	if !g.sendEach(ctx, inv, wid, nd, msgs, "resume the invocation") {
		return
	}
	g.start(inv, wid, nd, input)
	for r, sent := range runs {
		for _, s := range sent {
			var data []byte
			if s.key != "" {
				var err error
				if data, err = store.ReadAll(ctx, g.checkpoints, s.key); err != nil {
					g.fail(inv, fmt.Errorf("resume: read the checkpointed output of %s: %w", r.Function, err))
					return
				}
			}
			m := api.Message{Invocation: wid, Workflow: nd.info.Name, DeadlineMS: inv.deadline.UnixMilli(),
				From: r.Function, Kind: s.Kind, Index: s.Index, Count: s.Count, Targets: s.Targets}
			g.deliver(ctx, inv, &m, data)
		}
	}
}

func compareRuns(a, b api.RunID) int {
	if c := strings.Compare(a.Function, b.Function); c != 0 {
		return c
	}
	return a.Index - b.Index
}

// endOn tells every worker of d, but skip, to drop attempt wid.
func (g *Gateway) endOn(d *deployed, wid, skip string) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for id, base := range d.dep.Workers {
		if id == skip {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			api.Post(ctx, g.client, base+"/v1/invocations/"+url.PathEscape(wid)+"/end")
		}()
	}
	wg.Wait()
}
