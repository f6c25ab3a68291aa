// Package engine is the worker agent's workflow engine: it keeps the state
// of each invocation's functions placed on this worker, fires a function
// when its inputs have arrived (DataFlower's data-flow semantics), runs it on
// the instance pool, and sends each output to its consumers as soon as it
// is posted — to local functions directly, to other workers through the
// Transport, and to the gateway when it is part of the result. No message
// goes through the gateway between two functions.
//
// Switch branches that are not taken, and functions that can never fire
// because one of their inputs will never arrive, send "skip" to everything
// they could have sent to, so every function of an invocation ends — fired
// or skipped — and its state is freed.
package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/workflow"

	"github.com/faasflow/faasflow-go/agents/runtime"
	"github.com/faasflow/faasflow-go/agents/store"
)

// DefaultInlineMax is the largest value sent inline with its notification;
// larger ones go through the stores.
const DefaultInlineMax = 16 << 10

// Stores is an engine's data plane (the rule of docs/design.md): values up
// to Config.InlineMax ride inline; larger ones wait in Local for consumers
// on this worker, or go through Remote to consumers on other workers.
type Stores struct {
	// Local holds values for consumers on this worker (memory or Redis).
	Local store.Store
	// Remote carries values to other workers (direct, Kafka or CouchDB);
	// nil sends them inline with the message.
	Remote store.Store
}

// Transport carries messages to other workers and reports to the gateway.
type Transport interface {
	// Post hands m with its value to the worker at addr without waiting;
	// done is called once with the outcome (nil when the worker took it)
	// and must not block.
	Post(addr string, m *api.Message, data []byte, done func(error))
	// PostResult hands m, whose targets are all keys of the workflow's
	// result, to the gateway as Post does to a worker.
	PostResult(m *api.Message, data []byte, done func(error))
	// Report sends r (and a result value) to the gateway.
	Report(ctx context.Context, r *api.Report, data []byte) error
	// Relay hands m to the gateway to deliver (master-side scheduling).
	Relay(ctx context.Context, m *api.Message, data []byte) error
}

// Executor runs calls on function instances; *runtime.Pool is one.
type Executor interface {
	Execute(ctx context.Context, spec runtime.Spec, call *runtime.Call) runtime.Result
}

// Recorder receives a record of every run.
type Recorder interface {
	Record(r *RunRecord)
}

// RunRecord describes one run of a function, with FaaSFlow's field names
// where it has them, and their meanings. Times are Unix seconds,
// durations seconds.
type RunRecord struct {
	RequestID string `json:"request_id"`
	// TemplateName and BlockName are FaaSFlow's names for the workflow and
	// the function.
	TemplateName string `json:"template_name"`
	BlockName    string `json:"block_name"`
	Workflow     string `json:"workflow"`
	Function     string `json:"function"`
	Worker       string `json:"worker"`
	Index        int    `json:"index"`
	Phase        string `json:"phase"`
	// Time is the run's duration in seconds, Ed - St, as FaaSFlow's
	// records have it.
	Time     float64 `json:"time"`
	Fire     float64 `json:"fire"`
	St       float64 `json:"st"`
	Ed       float64 `json:"ed"`
	CPU      float64 `json:"cpu"`
	BytesIn  int64   `json:"bytes_in"`
	BytesOut int64   `json:"bytes_out"`
	// Tier is the tier that brought most of the input bytes; Tiers has the
	// input bytes by tier ("inline", "memory", "redis", "direct", "kafka",
	// "couchdb").
	Tier  string           `json:"tier"`
	Tiers map[string]int64 `json:"tiers,omitempty"`
	// Hop is the time in seconds from the last input being sent to the
	// function firing.
	Hop       float64 `json:"hop"`
	ColdStart bool    `json:"cold_start,omitempty"`
	// Queued is the time in seconds from firing to having an instance.
	Queued  float64 `json:"queued"`
	Attempt int     `json:"attempt"`
	Status  string  `json:"status"`
	Error   string  `json:"error,omitempty"`
}

// Config configures an Engine.
type Config struct {
	// Worker is this worker's ID, as used in placements.
	Worker string
	// InlineMax is the largest value kept inline (default DefaultInlineMax).
	InlineMax int
	// TombstoneTTL is how long an ended invocation's ID is remembered so late
	// messages are dropped instead of starting it again (default 1m).
	TombstoneTTL time.Duration
	// NoPrewarm turns off starting instances of a function's consumers on
	// this worker when it fires (pre-warming hides their cold start behind
	// its run; the executor must have a Prewarm method).
	NoPrewarm bool
	// RemoteGrace is how long after an invocation ends here its values in
	// the remote store are kept for consumers still reading them (default
	// 30s). Values are normally freed earlier, by their last reader.
	RemoteGrace time.Duration
}

// Engine runs the functions of deployed workflows placed on this worker.
type Engine struct {
	cfg   Config
	log   *slog.Logger
	exec  Executor
	tr    Transport
	local store.Store
	// remote is nil when values to other workers go inline.
	remote store.Store
	rec    Recorder
	runID  atomic.Uint64

	mu    sync.Mutex
	deps  map[string]*deployment
	invs  map[string]*invocation
	ended map[string]time.Time
	stop  chan struct{}
	done  chan struct{}
}

// deployment is a Deployment with what this worker derived from it.
type deployment struct {
	*api.Deployment
	local map[string]bool         // functions placed here
	specs map[string]runtime.Spec // runtime specs of local functions
	conds map[string][]*compiledBranch
}

// New returns an engine. rec may be nil.
func New(cfg Config, exec Executor, tr Transport, st Stores, rec Recorder, log *slog.Logger) *Engine {
	if cfg.InlineMax <= 0 {
		cfg.InlineMax = DefaultInlineMax
	}
	if cfg.TombstoneTTL <= 0 {
		cfg.TombstoneTTL = time.Minute
	}
	if cfg.RemoteGrace <= 0 {
		cfg.RemoteGrace = 30 * time.Second
	}
	if st.Local == nil {
		st.Local = store.NewMemory()
	}
	e := &Engine{
		cfg: cfg, log: log.With("component", "engine"), exec: exec, tr: tr, local: st.Local, remote: st.Remote, rec: rec,
		deps: map[string]*deployment{}, invs: map[string]*invocation{}, ended: map[string]time.Time{},
		stop: make(chan struct{}), done: make(chan struct{}),
	}
	go e.sweep()
	return e
}

// Deploy installs (or replaces) a workflow. specs gives the runtime spec of
// every function placed on this worker.
func (e *Engine) Deploy(d *api.Deployment, specs map[string]runtime.Spec) error {
	dep := &deployment{Deployment: d, local: map[string]bool{}, specs: specs, conds: map[string][]*compiledBranch{}}
	for _, f := range d.Workflow.Functions {
		w, ok := d.Placement[f.Name]
		if !ok {
			return fmt.Errorf("placement has no worker for function %s", f.Name)
		}
		if _, ok := d.Workers[w]; !ok {
			return fmt.Errorf("function %s is placed on unknown worker %q", f.Name, w)
		}
		if w == e.cfg.Worker {
			dep.local[f.Name] = true
			if _, ok := specs[f.Name]; !ok {
				return fmt.Errorf("no runtime spec for local function %s", f.Name)
			}
		}
		if len(f.Switch) > 0 {
			branches, err := compileSwitch(f)
			if err != nil {
				return err
			}
			dep.conds[f.Name] = branches
		}
	}
	e.mu.Lock()
	e.deps[d.Workflow.Name] = dep
	e.mu.Unlock()
	return nil
}

// Remove forgets a workflow; invocations in flight keep running.
func (e *Engine) Remove(name string) {
	e.mu.Lock()
	delete(e.deps, name)
	e.mu.Unlock()
}

// ErrUnknownWorkflow is returned by Deliver for a workflow not deployed here.
var ErrUnknownWorkflow = fmt.Errorf("workflow is not deployed on this worker")

// Deliver takes a message for functions on this worker. It returns
// ErrUnknownWorkflow (wrapped) when the workflow is not deployed here.
// Messages for invocations that already ended are dropped.
//
// A message whose value waits in the remote store (m.Ref) is accepted at
// once and its value fetched in the background; a failed fetch fails the
// invocation.
func (e *Engine) Deliver(m *api.Message, data []byte) error {
	if m.Kind == api.KindRestore {
		return e.restore(m, data)
	}
	inv, err := e.invocation(m, nil)
	if err != nil || inv == nil {
		return err
	}
	if m.Ref != nil {
		go e.fetchRemote(inv, m)
		return nil
	}
	if m.Kind == api.KindInputs {
		return e.receiveInputs(inv, m, data)
	}
	e.receive(inv, m, data, "inline") // it came with the message
	return nil
}

// receiveInputs hands each workflow input to its targets on this worker, as
// a value message from the workflow's input: its value in the KindInputs
// message, or null when the invocation did not give it.
//
// v1 workflows give every function inputs of its own, hundreds in all: they
// are taken under one lock, and the runs they make ready start together.
func (e *Engine) receiveInputs(inv *invocation, m *api.Message, data []byte) error {
	var inputs map[string]json.RawMessage
	if err := json.Unmarshal(data, &inputs); err != nil {
		return fmt.Errorf("inputs of invocation %s are not a JSON object: %w", m.Invocation, err)
	}
	var all []heldMessage
	for _, in := range inv.dep.Workflow.Inputs {
		value, ok := inputs[in.Name]
		if !ok {
			value = json.RawMessage("null") // not given
		}
		var here []workflow.Target
		for _, t := range in.To {
			if inv.funcs[t.Function] != nil {
				here = append(here, t)
			}
		}
		if len(here) == 0 {
			continue
		}
		one := *m
		one.Kind, one.Targets = api.KindValue, here
		d, err := e.hold(inv, &one, value, "inline")
		if err != nil {
			for _, h := range all {
				e.release(h.d)
			}
			e.apply(inv, &effects{fail: &failure{function: m.From, err: err}})
			return nil
		}
		all = append(all, heldMessage{&one, d})
	}
	e.apply(inv, e.take(inv, all))
	return nil
}

// receive handles m and carries out what it decided. via names the tier
// that brought its value to this worker ("" when it was produced here).
func (e *Engine) receive(inv *invocation, m *api.Message, data []byte, via string) {
	e.apply(inv, e.handle(inv, m, data, via))
}

// handle holds m's value for its targets here, hands m to the invocation
// and returns the effects to carry out.
func (e *Engine) handle(inv *invocation, m *api.Message, data []byte, via string) *effects {
	d, err := e.hold(inv, m, data, via)
	if err != nil {
		return &effects{fail: &failure{function: m.From, err: err}}
	}
	return e.take(inv, []heldMessage{{m, d}})
}

// heldMessage is a message whose value is held for its targets here.
type heldMessage struct {
	m *api.Message
	d *datum
}

// take hands held messages to the invocation under one lock and returns the
// effects to carry out; an invocation that ended gives their values up.
func (e *Engine) take(inv *invocation, held []heldMessage) *effects {
	fx := &effects{}
	inv.mu.Lock()
	defer inv.mu.Unlock()
	for _, h := range held {
		if inv.ended {
			e.release(h.d)
			continue
		}
		inv.receive(e, h.m, h.d, fx)
	}
	return fx
}

// restore starts the state of a resumed invocation with the runs that
// completed in its earlier attempt marked done.
func (e *Engine) restore(m *api.Message, data []byte) error {
	var done []api.RunID
	if err := json.Unmarshal(data, &done); err != nil {
		return fmt.Errorf("completed runs of invocation %s are not a JSON list: %w", m.Invocation, err)
	}
	_, err := e.invocation(m, done)
	return err
}

// invocation finds or starts the state of m's invocation; nil when it
// ended. A new state takes done as completed runs (see restore) before its
// functions without inputs start.
func (e *Engine) invocation(m *api.Message, done []api.RunID) (*invocation, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if inv := e.invs[m.Invocation]; inv != nil {
		return inv, nil
	}
	if _, gone := e.ended[m.Invocation]; gone {
		return nil, nil
	}
	dep := e.deps[m.Workflow]
	if dep == nil {
		return nil, fmt.Errorf("%w: %s (deploy it again?)", ErrUnknownWorkflow, m.Workflow)
	}
	inv := newInvocation(m.Invocation, dep, time.UnixMilli(m.DeadlineMS))
	e.invs[m.Invocation] = inv
	// Give up on the invocation a little after its deadline even if nobody
	// says so: the gateway fails it at the deadline itself.
	inv.timer = time.AfterFunc(time.Until(inv.deadline)+5*time.Second, func() { e.End(inv.id) })
	fx := &effects{}
	inv.mu.Lock()
	inv.markDone(e, done, fx)
	inv.startZeroInput(e, fx)
	inv.mu.Unlock()
	if len(fx.runs) > 0 || len(fx.sends) > 0 || fx.done {
		go e.apply(inv, fx)
	}
	return inv, nil
}

// End frees everything of an invocation on this worker and cancels its
// running functions. Ending an unknown invocation only remembers its ID.
func (e *Engine) End(id string) {
	e.mu.Lock()
	inv := e.invs[id]
	delete(e.invs, id)
	e.ended[id] = time.Now()
	e.mu.Unlock()
	if inv == nil {
		return
	}
	inv.mu.Lock()
	inv.finish()
	inv.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := e.local.DropInvocation(ctx, id); err != nil {
		e.log.Warn("drop the invocation's local values", "invocation", id, "err", err)
	}
	if e.remote != nil && inv.putRemote.Load() {
		time.AfterFunc(e.cfg.RemoteGrace, func() { e.dropRemote(id) })
	}
}

// dropRemote deletes what the invocation left in the remote store.
func (e *Engine) dropRemote(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := e.remote.DropInvocation(ctx, id); err != nil {
		e.log.Warn("drop the invocation's remote values", "invocation", id, "tier", store.TierOf(e.remote), "err", err)
	}
}

// Active reports how many invocations hold state on this worker.
func (e *Engine) Active() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.invs)
}

// Held reports the values the local store still holds for invocations,
// when the store can tell (the memory store can).
func (e *Engine) Held() (items int, bytes int64) {
	if s, ok := e.local.(interface{ Stats() (int, int64) }); ok {
		return s.Stats()
	}
	return 0, 0
}

// sweep forgets tombstones older than the TTL.
func (e *Engine) sweep() {
	defer close(e.done)
	tick := time.NewTicker(e.cfg.TombstoneTTL / 2)
	defer tick.Stop()
	for {
		select {
		case <-e.stop:
			return
		case now := <-tick.C:
			e.mu.Lock()
			for id, t := range e.ended {
				if now.Sub(t) > e.cfg.TombstoneTTL {
					delete(e.ended, id)
				}
			}
			e.mu.Unlock()
		}
	}
}

// Close ends every invocation and stops background work.
func (e *Engine) Close() {
	e.mu.Lock()
	ids := make([]string, 0, len(e.invs))
	for id := range e.invs {
		ids = append(ids, id)
	}
	e.mu.Unlock()
	for _, id := range ids {
		e.End(id)
	}
	close(e.stop)
	<-e.done
}
