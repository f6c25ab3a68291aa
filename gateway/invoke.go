package gateway

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/workflow"
)

// invocation is the gateway's record of one invocation. Fields after mu are
// guarded by it.
type invocation struct {
	done     chan struct{} // closed when the invocation ends
	deadline time.Time

	mu sync.Mutex
	// d is the deployment it runs on, and wid the ID workers know it by:
	// its request ID, then a new one each time it resumes (see resume).
	d       *deployed
	wid     string
	attempt int
	// input and checkpoints are kept for a resume (checkpointed workflows
	// only): the workflow's inputs, and what each completed run sent.
	input       map[string]json.RawMessage
	checkpoints map[api.RunID][]keptSend
	info        api.Invocation
	start       time.Time
	pending     map[string]*resultKey // result keys not yet resolved
	end         time.Time             // when it ended; zero while running
	result      map[string]json.RawMessage
	timer       *time.Timer
	stored      bool // result written to disk and dropped from memory
}

// resultKey tracks one key of the result until it has a value or all its
// sources said they will send nothing.
type resultKey struct {
	sources int
	skipped map[string]bool
}

// invoke starts an invocation, or returns the existing one with the same
// request ID. The bool is true when it was created by this call.
func (g *Gateway) invoke(name string, req *api.InvokeRequest) (*invocation, bool, error) {
	g.mu.Lock()
	d := g.workflows[name]
	if d == nil {
		g.mu.Unlock()
		return nil, false, notFound(fmt.Errorf("workflow %q is not deployed: deploy it with `faasflow deploy`", name))
	}
	id := req.RequestID
	if id == "" {
		id = newRequestID()
	}
	if strings.Contains(id, "~") {
		g.mu.Unlock()
		return nil, false, badRequest(fmt.Errorf("request_id %q contains '~', which is kept for resumed attempts: choose another", id))
	}
	if inv := g.invs[id]; inv != nil {
		g.mu.Unlock()
		if inv.info.Workflow != name {
			return nil, false, badRequest(fmt.Errorf("request_id %q is already used by an invocation of %s", id, inv.info.Workflow))
		}
		return inv, false, nil
	}
	wf := d.dep.Workflow
	for key := range req.Input {
		if !slices.Contains(inputNames(wf), key) {
			g.mu.Unlock()
			return nil, false, badRequest(fmt.Errorf("workflow %s has no input %q (inputs: %s)", name, key, strings.Join(inputNames(wf), ", ")))
		}
	}
	if err := g.admitLocked(name, d); err != nil {
		g.mu.Unlock()
		return nil, false, err
	}
	now := time.Now()
	timeout := wf.EffectiveTimeout()
	inv := &invocation{
		d: d, wid: id, done: make(chan struct{}), start: now, deadline: now.Add(timeout),
		info:    api.Invocation{RequestID: id, Workflow: name, Status: api.StatusRunning, Submitted: now},
		pending: map[string]*resultKey{}, result: map[string]json.RawMessage{},
	}
	if d.dep.Checkpoint {
		inv.input, inv.checkpoints = req.Input, map[api.RunID][]keptSend{}
	}
	for _, r := range wf.Results {
		inv.pending[r.Name] = &resultKey{sources: len(r.Sources), skipped: map[string]bool{}}
	}
	g.invs[id] = inv
	g.order = append(g.order, id)
	g.running[name] = append(g.running[name], inv)
	g.evictLocked()
	g.mu.Unlock()
	g.journalAccepted(inv)

	inv.mu.Lock()
	inv.timer = time.AfterFunc(timeout, func() {
		g.fail(inv, fmt.Errorf("invocation timed out after %s (the workflow's timeout)", timeout))
	})
	inv.mu.Unlock()
	go g.start(inv, id, d, req.Input)
	return inv, true, nil
}

func inputNames(wf *workflow.Workflow) []string {
	names := make([]string, len(wf.Inputs))
	for i, in := range wf.Inputs {
		names[i] = in.Name
	}
	return names
}

// start sends each worker of d that runs a function taking a workflow
// input, or a function without inputs, one message that starts attempt wid
// of the invocation there with the inputs it needs that were given (the
// worker takes the absent ones as null: v1 workflows declare hundreds that
// experiments leave out). Inputs sent straight to the result are resolved
// here.
func (g *Gateway) start(inv *invocation, wid string, d *deployed, input map[string]json.RawMessage) {
	wf := d.dep.Workflow
	deadline := inv.deadline
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	perWorker := map[string]map[string]json.RawMessage{}
	for _, w := range d.starters {
		perWorker[w] = nil
	}
	for _, in := range wf.Inputs {
		value := input[in.Name]
		for _, t := range in.To {
			if t.Function == workflow.ResultFunction {
				if len(value) == 0 {
					value = json.RawMessage("null")
				}
				g.resolve(inv, t.Input, workflow.InputFunction, false, value)
				continue
			}
			w := d.dep.Placement[t.Function]
			if perWorker[w] == nil {
				perWorker[w] = map[string]json.RawMessage{}
			}
			if len(value) > 0 { // the worker takes an absent input as null
				perWorker[w][in.Name] = value
			}
		}
	}
	msgs := map[string]outgoing{}
	for w, inputs := range perWorker {
		o := outgoing{m: api.Message{Invocation: wid, Workflow: wf.Name, DeadlineMS: deadline.UnixMilli(),
			From: workflow.InputFunction, Index: -1, Kind: api.KindStart}}
		if inputs != nil {
			o.m.Kind = api.KindInputs
			var err error
			if o.body, err = json.Marshal(inputs); err != nil {
				g.fail(inv, fmt.Errorf("encode the inputs: %w", err))
				return
			}
		}
		msgs[w] = o
	}
	g.sendEach(ctx, inv, wid, d, msgs, "start the invocation")
}

// outgoing is a message with its value.
type outgoing struct {
	m    api.Message
	body []byte
}

// sendEach sends each worker of d its message, at once, and reports
// whether all arrived; a failed send goes to sendFailed, its error saying
// what could not be done ("start the invocation").
func (g *Gateway) sendEach(ctx context.Context, inv *invocation, wid string, d *deployed, msgs map[string]outgoing, what string) bool {
	var wg sync.WaitGroup
	var failed atomic.Bool
	for w, o := range msgs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			url := d.dep.Workers[w]
			if err := g.sender.Send(ctx, url, &o.m, o.body); err != nil {
				g.sendFailed(inv, wid, w, fmt.Errorf("could not %s on worker %s at %s: %w", what, w, url, err))
				failed.Store(true)
			}
		}()
	}
	wg.Wait()
	return !failed.Load()
}

// deliver sends m to the workers that run its targets, and resolves the
// result keys among them itself. A worker that cannot be reached fails the
// invocation (see sendFailed). Messages of an earlier attempt are dropped.
func (g *Gateway) deliver(ctx context.Context, inv *invocation, m *api.Message, data []byte) {
	wid, d := inv.current()
	if m.Invocation != wid {
		return
	}
	byWorker := map[string][]workflow.Target{}
	for _, t := range m.Targets {
		if t.Function == workflow.ResultFunction {
			g.resolve(inv, t.Input, m.From, m.Kind == api.KindSkip, data)
			continue
		}
		w := d.dep.Placement[t.Function]
		byWorker[w] = append(byWorker[w], t)
	}
	var wg sync.WaitGroup
	for w, targets := range byWorker {
		part := *m
		part.Targets = targets
		wg.Add(1)
		go func() {
			defer wg.Done()
			url := d.dep.Workers[w]
			if err := g.sender.Send(ctx, url, &part, data); err != nil {
				g.sendFailed(inv, wid, w, fmt.Errorf("could not deliver %s's output to worker %s at %s: %w", m.From, w, url, err))
			}
		}()
	}
	wg.Wait()
}

// relay delivers a message a worker handed over in master-side mode.
func (g *Gateway) relay(m *api.Message, data []byte) error {
	inv := g.lookupAttempt(m.Invocation)
	if inv == nil {
		return notFound(fmt.Errorf("no invocation %q", m.Invocation))
	}
	ctx, cancel := context.WithDeadline(context.Background(), time.UnixMilli(m.DeadlineMS))
	defer cancel()
	g.deliver(ctx, inv, m, data)
	return nil
}

// report handles a worker's report of a result value or a failure.
func (g *Gateway) report(r *api.Report, data []byte) error {
	inv := g.lookupAttempt(r.Invocation)
	if inv == nil {
		return notFound(fmt.Errorf("no invocation %q", r.Invocation))
	}
	switch r.Kind {
	case "result":
		g.resolve(inv, r.Key, r.From, r.Skip, data)
	case "fail":
		if wid, _ := inv.current(); r.Invocation != wid {
			return nil // an earlier attempt's failure: it was given up for a resume
		}
		if r.Peer != "" {
			g.sendFailed(inv, r.Invocation, r.Peer, errors.New(r.Error))
			return nil
		}
		g.fail(inv, errors.New(r.Error))
	case "checkpoint":
		return g.keep(inv, r, data)
	default:
		return badRequest(fmt.Errorf("unknown report kind %q", r.Kind))
	}
	return nil
}

// resolve records a value (or a skip) for a result key and ends the
// invocation when every key is resolved.
func (g *Gateway) resolve(inv *invocation, key, from string, skip bool, data []byte) {
	inv.mu.Lock()
	k := inv.pending[key]
	if k == nil || inv.info.Ended() {
		inv.mu.Unlock()
		return
	}
	if skip {
		k.skipped[from] = true
		if len(k.skipped) < k.sources {
			inv.mu.Unlock()
			return
		}
	} else {
		inv.result[key] = resultValue(data)
	}
	delete(inv.pending, key)
	finished := len(inv.pending) == 0
	if finished {
		inv.endLocked(api.StatusSucceeded, "")
	}
	inv.mu.Unlock()
	if finished {
		g.ended(inv)
	}
}

// fail ends the invocation with err, unless it already ended.
func (g *Gateway) fail(inv *invocation, err error) {
	inv.mu.Lock()
	if inv.info.Ended() {
		inv.mu.Unlock()
		return
	}
	inv.endLocked(api.StatusFailed, err.Error())
	inv.mu.Unlock()
	g.ended(inv)
}

// endLocked marks the invocation ended; the caller then calls g.ended,
// which wakes those waiting on done.
func (inv *invocation) endLocked(status, msg string) {
	inv.end = time.Now()
	inv.info.Status = status
	inv.info.Error = msg
	inv.info.Latency = inv.end.Sub(inv.start).Seconds()
	if status == api.StatusSucceeded {
		inv.info.Result = inv.result
	}
	inv.result = nil
	inv.pending = nil
	inv.input, inv.checkpoints = nil, nil
	if inv.timer != nil {
		inv.timer.Stop()
	}
}

// ended records an invocation that has just ended (telemetry record and
// metrics, before the caller is answered, so /metrics agrees with the
// answers), wakes those waiting for it, tells every worker to drop it if it
// failed, and moves a large result out of memory.
func (g *Gateway) ended(inv *invocation) {
	inv.mu.Lock()
	info := inv.info
	start, end := inv.start, inv.end
	d, wid, resumed := inv.d, inv.wid, inv.attempt > 0
	inv.mu.Unlock()
	g.recordEnd(d.info.Mode, &info, start, end)
	close(inv.done)
	if info.Status == api.StatusFailed {
		g.log.Warn("invocation failed", "workflow", info.Workflow, "request_id", info.RequestID, "err", info.Error)
	}
	if d.dep.Checkpoint {
		go g.dropCheckpoints(info.RequestID)
	}
	if info.Status == api.StatusFailed || resumed {
		// Workers free a successful invocation by themselves once all their
		// functions have run or been skipped; a failed one may have functions
		// still waiting, and a resumed one runs on a new placement, so every
		// worker is told to drop it.
		go g.endOn(d, wid, "")
	}
	if resultSize(info.Result) <= memoryResultMax {
		return
	}
	// Large results move to disk off the reporting path; until then they
	// are served from memory.
	go func() {
		if err := g.storeResult(&info); err != nil {
			g.log.Error("store result; keeping it in memory", "request_id", info.RequestID, "err", err)
			return
		}
		inv.mu.Lock()
		inv.info.Result = nil
		inv.stored = true
		inv.mu.Unlock()
	}()
}

// memoryResultMax is the largest result kept in memory after its
// invocation ended; larger ones are written to the data directory.
const memoryResultMax = 4 << 10

func resultSize(r map[string]json.RawMessage) int {
	n := 0
	for k, v := range r {
		n += len(k) + len(v)
	}
	return n
}

// snapshot returns the invocation's status, with its result read back from
// disk if it was stored.
func (g *Gateway) snapshot(inv *invocation) (*api.Invocation, error) {
	inv.mu.Lock()
	info := inv.info
	stored := inv.stored
	inv.mu.Unlock()
	if stored {
		b, err := os.ReadFile(g.resultPath(info.RequestID))
		if err != nil {
			return nil, fmt.Errorf("read stored result of %s: %w", info.RequestID, err)
		}
		if err := json.Unmarshal(b, &info.Result); err != nil {
			return nil, fmt.Errorf("decode stored result of %s: %w", info.RequestID, err)
		}
	}
	return &info, nil
}

func (g *Gateway) resultPath(id string) string {
	sum := sha256.Sum256([]byte(id))
	return filepath.Join(g.cfg.DataDir, "results", hex.EncodeToString(sum[:16])+".json")
}

// storeResult writes info's result to its file, atomically: a restarted
// gateway reads it back.
func (g *Gateway) storeResult(info *api.Invocation) error {
	b, err := json.Marshal(info.Result)
	if err != nil {
		return err
	}
	return writeFileAtomic(g.resultPath(info.RequestID), b)
}

// evictLocked forgets the oldest ended invocations beyond the Keep limit.
func (g *Gateway) evictLocked() {
	for len(g.order) > g.cfg.Keep {
		id := g.order[0]
		inv := g.invs[id]
		inv.mu.Lock()
		ended := inv.info.Ended()
		inv.mu.Unlock()
		if !ended {
			return // the oldest still runs; try again later
		}
		g.order = g.order[1:]
		delete(g.invs, id)
		os.Remove(g.resultPath(id))
	}
}

// list returns invocations, newest first, without results.
func (g *Gateway) list(workflowName, status string, limit int) []api.Invocation {
	g.mu.Lock()
	ids := append([]string(nil), g.order...)
	invs := make([]*invocation, 0, len(ids))
	for i := len(ids) - 1; i >= 0; i-- {
		invs = append(invs, g.invs[ids[i]])
	}
	g.mu.Unlock()
	out := []api.Invocation{}
	for _, inv := range invs {
		inv.mu.Lock()
		info := inv.info
		inv.mu.Unlock()
		info.Result = nil
		if (workflowName != "" && info.Workflow != workflowName) || (status != "" && info.Status != status) {
			continue
		}
		out = append(out, info)
		if limit > 0 && len(out) >= limit {
			break
		}
	}
	return out
}

// resultValue turns a function's output bytes into a JSON value: JSON stays
// as it is, other text becomes a string, other bytes {"base64": "..."}.
func resultValue(b []byte) json.RawMessage {
	if len(b) > 0 && json.Valid(b) {
		return json.RawMessage(b)
	}
	if utf8.Valid(b) {
		s, _ := json.Marshal(string(b))
		return s
	}
	s, _ := json.Marshal(map[string]string{"base64": base64.StdEncoding.EncodeToString(b)})
	return s
}

func newRequestID() string {
	var b [12]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
