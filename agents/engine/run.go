package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/faasflow/faasflow-go/api"

	"github.com/faasflow/faasflow-go/agents/runtime"
	"github.com/faasflow/faasflow-go/agents/store"
	"github.com/faasflow/faasflow-go/fn/protocol"
	"github.com/faasflow/faasflow-go/workflow"
	"github.com/faasflow/faasflow-go/workflow/expr"
)

// pendingRun is a run decided under the invocation's lock, started after it.
type pendingRun struct {
	inv   *invocation
	fs    *fnState
	index int
	fired time.Time

	inputs []protocol.Input
	body   []byte
	owned  []string // store keys this run releases when it ends
	held   map[string]bool
	bytes  int64
	tiers  map[string]int64 // input bytes by the tier that brought them
	sent   int64            // when the last input was sent, Unix ns
}

// newRun moves the function's input data into a run. A map function's
// shared inputs stay with the function (every item's run reads them).
func (inv *invocation) newRun(fs *fnState, index int, item *datum) *pendingRun {
	pr := &pendingRun{inv: inv, fs: fs, index: index, fired: time.Now(), held: map[string]bool{}, tiers: map[string]int64{}}
	add := func(d *datum, own bool) protocol.Datum {
		pr.bytes += int64(d.size)
		pr.tiers[d.via] += int64(d.size)
		pr.sent = max(pr.sent, d.sent)
		if d.key != "" {
			pr.held[d.key] = true
			if own {
				pr.owned = append(pr.owned, d.key)
			}
			return protocol.Datum{Key: d.key, Len: d.size}
		}
		off := len(pr.body)
		pr.body = append(pr.body, d.inline...)
		return protocol.Datum{Off: off, Len: len(d.inline)}
	}
	for _, in := range fs.f.Inputs {
		s := fs.slots[in.Name]
		pi := protocol.Input{Name: in.Name, List: in.List}
		switch {
		case fs.f.IsMap() && in.Name == fs.f.ForeachInput:
			v := add(item, true)
			pi.Value = &v
		case in.List:
			pi.Items = make([]protocol.Datum, s.count)
			for i := 0; i < s.count; i++ {
				pi.Items[i] = add(s.items[i], true)
			}
			s.items = nil
		case fs.f.IsMap():
			v := add(s.val, false)
			pi.Value = &v
		default:
			v := add(s.val, true)
			pi.Value = &v
			s.val = nil
		}
		pr.inputs = append(pr.inputs, pi)
	}
	return pr
}

// attempt collects what one run attempt posted.
type attempt struct {
	mu     sync.Mutex
	posted map[string]bool
	items  map[string]int    // foreach output → items posted
	values map[string][]byte // outputs a switch needs at the end
	held   []*send           // outputs held until the run ends (control-flow modes)
	sent   []*send           // outputs sent as posted, kept for a checkpoint
	bytes  int64
	err    error
	// ended holds what the run had still to send once it ended (see
	// endEarly), already sent; nil until then.
	ended *effects
}

// execute runs pr on the pool, with retries, and handles its end.
func (e *Engine) execute(pr *pendingRun) {
	inv, f := pr.inv, pr.fs.f
	spec := inv.dep.specs[f.Name]
	e.prewarm(inv.dep, f)
	outs := make([]protocol.OutSpec, len(f.Outputs))
	for i, o := range f.Outputs {
		outs[i] = protocol.OutSpec{Name: o.Name, Foreach: o.Foreach}
	}
	var res runtime.Result
	var last *attempt
	for try := 0; ; try++ {
		at := &attempt{posted: map[string]bool{}, items: map[string]int{}, values: map[string][]byte{}}
		last = at
		deadline := time.Now().Add(f.EffectiveTimeout())
		if inv.deadline.Before(deadline) {
			deadline = inv.deadline
		}
		call := &runtime.Call{
			Run: protocol.Run{
				Run: e.runID.Add(1), Invocation: inv.id, Function: f.Name, Index: pr.index,
				Inputs: pr.inputs, Outputs: outs,
			},
			Body:     pr.body,
			Deadline: deadline,
			OnOutput: func(name string, data []byte) { e.onOutput(pr, at, name, data) },
			OnDone: func(ok bool) {
				if ok {
					e.endEarly(pr, at)
				}
			},
			Fetch:  pr.fetch(e),
			Cancel: inv.cancel,
		}
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		res = e.exec.Execute(ctx, spec, call)
		cancel()
		at.mu.Lock()
		if at.ended != nil {
			res.Err = nil // it completed, whatever the runtime saw after
		} else if res.Err == nil {
			res.Err = at.err
		}
		at.mu.Unlock()
		e.record(pr, at, res, try)
		if res.Err == nil || try >= f.Retries || isEnded(inv) {
			break
		}
		e.log.Info("retrying failed run", "invocation", inv.id, "function", f.Name, "attempt", try+1, "err", res.Err)
	}
	for _, key := range pr.owned {
		e.releaseKey(key)
	}
	fx := &effects{}
	switch {
	case res.Err != nil:
		fx.fail = &failure{function: f.Name, err: describeRunError(f, res.Err)}
	case last.ended != nil: // its sends are out
		if inv.dep.Checkpoint {
			e.checkpoint(pr, append(last.sent, last.ended.sends...))
		}
	default:
		e.completed(pr, last, fx)
		if fx.fail == nil && inv.dep.Checkpoint {
			e.checkpoint(pr, append(last.sent, fx.sends...))
		}
	}
	inv.mu.Lock()
	if !inv.ended {
		inv.runEnded(e, pr.fs, fx)
	} else {
		fx = &effects{} // the invocation ended while this ran: nothing more to say
	}
	inv.mu.Unlock()
	e.apply(inv, fx)
}

// checkpoint reports to the gateway everything a completed run sent, so
// that a resumed invocation need not run it again. A checkpoint that does
// not arrive costs only that: the run is repeated on resume.
func (e *Engine) checkpoint(pr *pendingRun, sends []*send) {
	kept := make([]api.Sent, len(sends))
	for i, s := range sends {
		kept[i] = api.Sent{Kind: s.kind, Index: s.index, Count: s.count, Targets: s.targets, Data: s.data}
	}
	body, err := json.Marshal(kept)
	if err != nil {
		e.log.Error("encode checkpoint", "invocation", pr.inv.id, "function", pr.fs.f.Name, "err", err)
		return
	}
	r := &api.Report{Invocation: pr.inv.id, Worker: e.cfg.Worker, Kind: "checkpoint", From: pr.fs.f.Name, Index: pr.index}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := e.tr.Report(ctx, r, body); err != nil {
			e.log.Warn("checkpoint not kept; the run repeats if the invocation resumes", "invocation", pr.inv.id, "function", pr.fs.f.Name, "err", err)
		}
	}()
}

// prewarmer is an executor that can start an instance ahead of its first
// run (*runtime.Pool can).
type prewarmer interface {
	Prewarm(spec runtime.Spec)
}

// prewarm starts, in the background, an instance of each consumer of f
// placed on this worker that has none idle, so that its cold start
// overlaps f's run.
func (e *Engine) prewarm(dep *deployment, f *workflow.Function) {
	pw, ok := e.exec.(prewarmer)
	if !ok || e.cfg.NoPrewarm {
		return
	}
	for _, t := range f.Reach {
		if spec, local := dep.specs[t.Function]; local && t.Function != f.Name {
			pw.Prewarm(spec)
		}
	}
}

func describeRunError(f *workflow.Function, err error) error {
	if errors.Is(err, runtime.ErrTimeout) {
		return fmt.Errorf("function %s timed out after %s (set timeout: on the function to allow longer)", f.Name, f.EffectiveTimeout())
	}
	return fmt.Errorf("function %s failed: %w", f.Name, err)
}

func isEnded(inv *invocation) bool {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	return inv.ended
}

// fetch serves the instance's reads of stored inputs of this run.
func (pr *pendingRun) fetch(e *Engine) func(string) ([]byte, error) {
	return func(key string) ([]byte, error) {
		if !pr.held[key] {
			return nil, fmt.Errorf("input %s does not belong to this run", key)
		}
		data, err := e.readLocal(key)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("input %s is no longer held: the invocation ended", key)
		}
		return data, err
	}
}

// onOutput forwards an output as soon as the function posts it.
func (e *Engine) onOutput(pr *pendingRun, at *attempt, name string, data []byte) {
	f := pr.fs.f
	out := f.Output(name)
	at.mu.Lock()
	if out == nil {
		at.err = fmt.Errorf("function %s posted unknown output %q", f.Name, name)
		at.mu.Unlock()
		return
	}
	at.bytes += int64(len(data))
	s := &send{from: f.Name, kind: api.KindValue, index: -1, targets: out.To, data: data}
	switch {
	case out.Foreach:
		s.kind, s.index = api.KindItem, at.items[name]
		at.items[name]++
	case at.posted[name]:
		at.err = fmt.Errorf("function %s posted output %q twice", f.Name, name)
		at.mu.Unlock()
		return
	default:
		at.posted[name] = true
		if f.IsMap() {
			s.index = pr.index
		}
	}
	if len(f.Switch) > 0 {
		at.values[name] = data
	}
	if len(s.targets) == 0 {
		at.mu.Unlock()
		return
	}
	if pr.inv.dep.Mode != api.ModeDataflow {
		// Control flow: successors learn of outputs when the run ends.
		at.held = append(at.held, s)
		at.mu.Unlock()
		return
	}
	if pr.inv.dep.Checkpoint {
		at.sent = append(at.sent, s)
	}
	at.mu.Unlock()
	e.apply(pr.inv, &effects{sends: []*send{s}})
}

// endEarly sends what a run still has to send the moment its instance says
// it succeeded, from the instance's reader goroutine: the run's own
// goroutine learns of the end a hand-over later, and in the control-flow
// modes every successor waits for this. A run whose end says something
// failed (an output missing, say) is left to execute.
func (e *Engine) endEarly(pr *pendingRun, at *attempt) {
	at.mu.Lock()
	failed := at.err != nil
	at.mu.Unlock()
	if failed {
		return
	}
	fx := &effects{}
	e.completed(pr, at, fx)
	if fx.fail != nil {
		return
	}
	at.mu.Lock()
	at.ended = fx
	at.mu.Unlock()
	e.apply(pr.inv, fx)
}

// completed decides what a successful run still has to send: foreach
// counts, the switch's chosen branch, and skips for the branches not taken.
func (e *Engine) completed(pr *pendingRun, at *attempt, fx *effects) {
	f := pr.fs.f
	fx.sends = append(fx.sends, at.held...)
	for _, out := range f.Outputs {
		switch {
		case out.Foreach:
			fx.sends = append(fx.sends, &send{from: f.Name, kind: api.KindCount, count: at.items[out.Name], targets: countTargets(f, out)})
		case len(out.To) > 0 && !at.posted[out.Name]:
			fx.fail = &failure{function: f.Name, err: fmt.Errorf("function %s ended without posting output %q, which %s waits for", f.Name, out.Name, out.To[0])}
			return
		}
	}
	if len(f.Switch) == 0 {
		return
	}
	branch, err := chooseBranch(pr.inv.dep.conds[f.Name], at.values)
	if err != nil {
		fx.fail = &failure{function: f.Name, err: fmt.Errorf("switch of %s: %w", f.Name, err)}
		return
	}
	sent := map[workflow.Target]bool{}
	for _, out := range f.Outputs {
		for _, t := range out.To {
			sent[t] = true
		}
	}
	if branch != nil {
		for _, r := range branch.Routes {
			data := []byte("null")
			if !r.Signal {
				v, ok := at.values[r.Output]
				if !ok {
					fx.fail = &failure{function: f.Name, err: fmt.Errorf("function %s took a branch that sends output %q, but did not post it", f.Name, r.Output)}
					return
				}
				data = v
			}
			fx.sends = append(fx.sends, &send{from: f.Name, kind: api.KindValue, index: -1, targets: r.To, data: data})
			for _, t := range r.To {
				sent[t] = true
			}
		}
	}
	var skipped []workflow.Target
	for _, t := range f.Reach {
		if !sent[t] {
			skipped = append(skipped, t)
		}
	}
	if len(skipped) > 0 {
		fx.sends = append(fx.sends, &send{from: f.Name, kind: api.KindSkip, targets: skipped})
	}
}

// countTargets lists the functions told the item count of a foreach output:
// its consumers and the functions gathering their outputs.
func countTargets(f *workflow.Function, out *workflow.Output) []workflow.Target {
	var ts []workflow.Target
	seen := map[string]bool{}
	for _, t := range out.To {
		if !seen[t.Function] {
			seen[t.Function] = true
			ts = append(ts, workflow.Target{Function: t.Function})
		}
	}
	for _, name := range f.CountTo {
		if !seen[name] {
			seen[name] = true
			ts = append(ts, workflow.Target{Function: name})
		}
	}
	return ts
}

// compiledBranch is a switch branch with its condition parsed.
type compiledBranch struct {
	*workflow.Branch
	cond *expr.Expr
}

func compileSwitch(f *workflow.Function) ([]*compiledBranch, error) {
	out := make([]*compiledBranch, len(f.Switch))
	for i, b := range f.Switch {
		out[i] = &compiledBranch{Branch: b}
		if b.When == "" {
			continue
		}
		c, err := expr.Parse(b.When)
		if err != nil {
			return nil, fmt.Errorf("switch of %s, branch %d: %w", f.Name, i+1, err)
		}
		out[i].cond = c
	}
	return out, nil
}

// chooseBranch returns the first branch whose condition holds over the
// posted outputs, or the default branch, or nil when none applies.
func chooseBranch(branches []*compiledBranch, values map[string][]byte) (*workflow.Branch, error) {
	decoded := map[string]any{}
	lookup := func(name string) (any, bool) {
		if v, ok := decoded[name]; ok {
			return v, true
		}
		raw, ok := values[name]
		if !ok {
			return nil, false
		}
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			v = string(raw) // not JSON: compare as text
		}
		decoded[name] = v
		return v, true
	}
	for _, b := range branches {
		if b.cond == nil {
			return b.Branch, nil
		}
		ok, err := b.cond.Eval(lookup)
		if err != nil {
			return nil, fmt.Errorf("condition %q: %w", b.When, err)
		}
		if ok {
			return b.Branch, nil
		}
	}
	return nil, nil
}

// apply carries out effects: local messages are handled at once (which may
// produce more effects), remote ones are sent in the background, runs start.
func (e *Engine) apply(inv *invocation, fx *effects) {
	queue := []*effects{fx}
	for len(queue) > 0 {
		fx := queue[0]
		queue = queue[1:]
		for _, pr := range fx.runs {
			go e.execute(pr)
		}
		if len(fx.runs) > 0 {
			// Let the runs write their start frames now rather than after
			// the caller (a stream's reader, say) has handled every frame
			// already waiting: it had them start 0.18 ms later at the
			// median, 1 ms at the 90th percentile (cycles, measured).
			goruntime.Gosched()
		}
		if fx.fail != nil {
			e.fail(inv, fx.fail)
			return
		}
		for _, s := range fx.sends {
			if next := e.route(inv, s); next != nil {
				queue = append(queue, next)
			}
		}
		if fx.done {
			e.End(inv.id)
		}
	}
}

// route sends s to its targets' workers; the local part is handled now and
// its effects returned.
func (e *Engine) route(inv *invocation, s *send) *effects {
	dep := inv.dep
	if dep.Mode == api.ModeMasterSP {
		e.relay(inv, s)
		return nil
	}
	byWorker := map[string][]workflow.Target{}
	var remote []string
	var results []workflow.Target
	for _, t := range s.targets {
		if t.Function == workflow.ResultFunction {
			results = append(results, t)
			continue
		}
		w := dep.Placement[t.Function]
		if _, ok := byWorker[w]; !ok && w != e.cfg.Worker {
			remote = append(remote, w)
		}
		byWorker[w] = append(byWorker[w], t)
	}
	if len(results) > 0 {
		e.sendResults(inv, s, results)
	}
	if len(remote) > 0 {
		e.sendRemote(inv, s, byWorker, remote)
	}
	if len(byWorker[e.cfg.Worker]) == 0 {
		return nil
	}
	return e.handle(inv, s.message(inv, byWorker[e.cfg.Worker]), s.data, "")
}

// sendRemote sends s to other workers: its value inline when small or when
// there is no remote store, else written once to the remote store for all
// of them (in the background).
func (e *Engine) sendRemote(inv *invocation, s *send, byWorker map[string][]workflow.Target, workers []string) {
	if e.remote == nil || len(s.data) <= e.cfg.InlineMax {
		e.post(inv, s, byWorker, workers, nil, s.data)
		return
	}
	go func() {
		ref, err := e.putRemote(inv, s.from, s.data, len(workers))
		if err != nil {
			e.fail(inv, &failure{function: s.from, err: err})
			return
		}
		e.post(inv, s, byWorker, workers, ref, nil)
	}()
}

// post hands s's message for its targets on each worker to that worker's
// stream; a message that does not arrive fails the invocation.
func (e *Engine) post(inv *invocation, s *send, byWorker map[string][]workflow.Target, workers []string, ref *api.DataRef, data []byte) {
	for _, w := range workers {
		m := s.message(inv, byWorker[w])
		m.Ref = ref
		addr := inv.dep.Workers[w]
		e.tr.Post(addr, m, data, func(err error) {
			if err == nil {
				return
			}
			f := &failure{function: s.from, err: fmt.Errorf("send output of %s to worker %s at %s: %w", s.from, w, addr, err)}
			if !api.Refused(err) {
				f.peer = w // unreachable: the gateway waits for its heartbeat verdict
			}
			go e.fail(inv, f)
		})
	}
}

// relay hands s to the gateway, which triggers its targets (master-side
// scheduling): every completion takes a round trip through the master, and
// large values go through the remote store even to consumers on this
// worker. Result values stay inline: the gateway keeps them.
func (e *Engine) relay(inv *invocation, s *send) {
	m := s.message(inv, s.targets)
	go func() {
		data := s.data
		if workers, results := targetWorkers(inv.dep, s.targets); e.remote != nil && len(data) > e.cfg.InlineMax && !results {
			ref, err := e.putRemote(inv, s.from, data, workers)
			if err != nil {
				e.fail(inv, &failure{function: s.from, err: err})
				return
			}
			m.Ref, data = ref, nil
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Until(inv.deadline)+time.Second)
		defer cancel()
		if err := e.tr.Relay(ctx, m, data); err != nil {
			e.fail(inv, &failure{function: s.from, err: fmt.Errorf("hand output of %s to the gateway: %w", s.from, err)})
		}
	}()
}

// targetWorkers counts the workers that run targets, and says whether any
// target is a result key.
func targetWorkers(dep *deployment, targets []workflow.Target) (workers int, results bool) {
	seen := map[string]bool{}
	for _, t := range targets {
		if t.Function == workflow.ResultFunction {
			results = true
			continue
		}
		seen[dep.Placement[t.Function]] = true
	}
	return len(seen), results
}

// sendResults hands s's value (or skip) for result keys to the gateway: a
// small value in one message on the worker's stream to it, a value over
// InlineMax in a report per key (a request whose refusal, for a value over
// the gateway's limit, names the key). A result that cannot be handed over
// fails the invocation: it could not end well, and waiting for its timeout
// helps no one.
func (e *Engine) sendResults(inv *invocation, s *send, keys []workflow.Target) {
	if len(s.data) > e.cfg.InlineMax {
		for _, t := range keys {
			e.report(inv, s, t)
		}
		return
	}
	e.tr.PostResult(s.message(inv, keys), s.data, func(err error) {
		if err != nil {
			go e.fail(inv, &failure{function: s.from, err: fmt.Errorf("could not hand result %s from %s to the gateway: %w", keyList(keys), s.from, err)})
		}
	})
}

// keyList names result keys for an error: "a", "b".
func keyList(keys []workflow.Target) string {
	q := make([]string, len(keys))
	for i, t := range keys {
		q[i] = strconv.Quote(t.Input)
	}
	return strings.Join(q, ", ")
}

// reportTries is how many times a result report is sent before the
// invocation is failed for it.
const reportTries = 3

// report sends a result value (or skip) for one key to the gateway in a
// request of its own. A result the gateway refuses (too large, say), or
// that cannot reach it after a few tries, fails the invocation.
func (e *Engine) report(inv *invocation, s *send, t workflow.Target) {
	r := &api.Report{Invocation: inv.id, Worker: e.cfg.Worker, Kind: "result", From: s.from, Key: t.Input, Skip: s.kind == api.KindSkip}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var err error
		for try := 1; try <= reportTries; try++ {
			if err = e.tr.Report(ctx, r, s.data); err == nil || api.Refused(err) || ctx.Err() != nil {
				break
			}
			// A gateway refusing a large body may close the connection
			// before its answer is read: try again to read the answer.
			e.log.Warn("report result to gateway; trying again", "invocation", inv.id, "key", t.Input, "try", try, "err", err)
			time.Sleep(time.Duration(try) * 100 * time.Millisecond)
		}
		if err != nil {
			e.fail(inv, &failure{function: s.from, err: fmt.Errorf("could not hand result %q from %s to the gateway: %w", t.Input, s.from, err)})
		}
	}()
}

// fail ends the invocation here and tells the gateway, which ends it on the
// other workers. An invocation that already ended here because all its
// local functions had run still reports: a send or report of theirs may
// fail after that.
func (e *Engine) fail(inv *invocation, f *failure) {
	inv.mu.Lock()
	// Ended with every local function run or skipped: its part completed.
	ended, completed := inv.ended, inv.unresolved == 0
	inv.mu.Unlock()
	if ended && !completed {
		return // failed or dropped already: the gateway knows
	}
	e.End(inv.id)
	r := &api.Report{Invocation: inv.id, Worker: e.cfg.Worker, Kind: "fail", Function: f.function, Error: f.err.Error(), Peer: f.peer}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.tr.Report(ctx, r, nil); err != nil {
		e.log.Error("report failure to gateway", "invocation", inv.id, "err", err)
	}
}

// record hands a run's record to the recorder.
func (e *Engine) record(pr *pendingRun, at *attempt, res runtime.Result, try int) {
	if e.rec == nil {
		return
	}
	const ns = 1e9
	r := &RunRecord{
		RequestID: pr.inv.id, Workflow: pr.inv.dep.Workflow.Name, Function: pr.fs.f.Name, Worker: e.cfg.Worker,
		Index: pr.index, Phase: "run", Time: float64(res.Done.EndNS-res.Done.StartNS) / ns, Fire: float64(pr.fired.UnixNano()) / ns,
		St: float64(res.Done.StartNS) / ns, Ed: float64(res.Done.EndNS) / ns, CPU: float64(res.Done.CPUNS) / ns,
		BytesIn: pr.bytes, BytesOut: at.bytes, Tier: mainTier(pr.tiers), Tiers: pr.tiers, ColdStart: res.ColdStart,
		Queued: res.Queued.Seconds(), Attempt: try + 1, Status: "ok",
		TemplateName: pr.inv.dep.Workflow.Name, BlockName: pr.fs.f.Name,
	}
	if pr.sent > 0 {
		r.Hop = float64(pr.fired.UnixNano()-pr.sent) / ns
	}
	if res.Err != nil {
		r.Status, r.Error = "failed", firstLine(res.Err.Error())
	}
	e.rec.Record(r)
}

// mainTier returns the tier that brought the most bytes ("inline" for a
// run without inputs).
func mainTier(tiers map[string]int64) string {
	best, n := "inline", int64(-1)
	for t, b := range tiers {
		if b > n || (b == n && t < best) {
			best, n = t, b
		}
	}
	return best
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
