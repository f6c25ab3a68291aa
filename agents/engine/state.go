package engine

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faasflow/faasflow-go/api"

	"github.com/faasflow/faasflow-go/workflow"
)

// invocation is the state of one invocation on this worker. Its fields are
// guarded by mu.
type invocation struct {
	id       string
	dep      *deployment
	deadline time.Time
	timer    *time.Timer

	// putRemote is set once a value of this invocation went to the remote
	// store, which then needs cleaning when the invocation ends.
	putRemote atomic.Bool

	mu         sync.Mutex
	ended      bool
	funcs      map[string]*fnState // local functions only
	unresolved int
	cancel     chan struct{} // closed when the invocation ends here
}

// fnState is one local function's progress in an invocation.
type fnState struct {
	f        *workflow.Function
	slots    map[string]*slot
	fired    bool // a non-map function's run has started
	resolved bool // ran to the end, or was skipped
	dead     bool

	// For a map function (one run per foreach item):
	items    map[int]*datum // arrived items; nil once their run started
	count    int            // item count, -1 until known
	finished int            // runs that ended
}

// slot is one input of a function in an invocation.
type slot struct {
	in      *workflow.Input
	have    bool
	val     *datum
	skipped map[string]bool // sources that said they will send nothing
	dead    bool

	// For a list input:
	items map[int]*datum
	count int // -1 until known
}

func newInvocation(id string, dep *deployment, deadline time.Time) *invocation {
	inv := &invocation{id: id, dep: dep, deadline: deadline, funcs: map[string]*fnState{}, cancel: make(chan struct{})}
	for name := range dep.local {
		f := dep.Workflow.Function(name)
		fs := &fnState{f: f, slots: make(map[string]*slot, len(f.Inputs)), count: -1}
		for _, in := range f.Inputs {
			s := &slot{in: in, count: -1}
			if in.List {
				s.items = map[int]*datum{}
			}
			fs.slots[in.Name] = s
		}
		if f.IsMap() {
			fs.items = map[int]*datum{}
		}
		inv.funcs[name] = fs
		inv.unresolved++
	}
	return inv
}

// effects collects what handling a message decided, to be carried out
// after the invocation's lock is released.
type effects struct {
	runs  []*pendingRun
	sends []*send
	fail  *failure
	// done is set when every local function is resolved.
	done bool
}

// send is one outgoing message before it is routed.
type send struct {
	from    string
	kind    api.Kind
	index   int
	count   int
	targets []workflow.Target
	data    []byte
}

// message is s as a message of inv for the given targets (some of s's).
func (s *send) message(inv *invocation, targets []workflow.Target) *api.Message {
	return &api.Message{
		Invocation: inv.id, Workflow: inv.dep.Workflow.Name, DeadlineMS: inv.deadline.UnixMilli(),
		From: s.from, Kind: s.kind, Index: s.index, Count: s.count, Targets: targets,
		SentNS: time.Now().UnixNano(),
	}
}

type failure struct {
	function string
	err      error
	// peer is the worker a send could not reach, when that is the failure.
	peer string
}

// startZeroInput fires local functions that have no inputs.
func (inv *invocation) startZeroInput(e *Engine, fx *effects) {
	for _, fs := range inv.funcs {
		if len(fs.f.Inputs) == 0 {
			inv.tryFire(e, fs, fx)
		}
	}
}

// markDone takes runs that completed in an earlier attempt of a resumed
// invocation as done: they are not run again, and what they sent arrives
// from the gateway's checkpoint.
func (inv *invocation) markDone(e *Engine, done []api.RunID, fx *effects) {
	for _, r := range done {
		fs := inv.funcs[r.Function]
		if fs == nil || fs.resolved {
			continue
		}
		if fs.f.IsMap() {
			if _, dup := fs.items[r.Index]; dup {
				continue
			}
			fs.items[r.Index] = nil // taken: an item arriving for it is dropped
		} else {
			if fs.fired {
				continue
			}
			fs.fired = true
		}
		inv.runEnded(e, fs, fx)
	}
}

// receive handles a message whose targets are all on this worker; shared
// is its value (see Engine.hold), nil for messages without one.
func (inv *invocation) receive(e *Engine, m *api.Message, shared *datum, fx *effects) {
	if m.Kind == api.KindStart {
		inv.startZeroInput(e, fx)
		return
	}
	for _, t := range m.Targets {
		fs := inv.funcs[t.Function]
		if fs == nil {
			e.log.Warn("message for a function not placed here", "invocation", inv.id, "target", t.String())
			e.release(shared)
			continue
		}
		switch m.Kind {
		case api.KindValue:
			inv.value(e, fs, m.From, t.Input, m.Index, shared, fx)
		case api.KindItem:
			inv.item(e, fs, m.Index, shared, fx)
		case api.KindCount:
			inv.count(e, fs, m.From, m.Count, fx)
		case api.KindSkip:
			inv.skip(e, fs, m.From, t.Input, fx)
		}
	}
}

func (inv *invocation) value(e *Engine, fs *fnState, from, input string, index int, d *datum, fx *effects) {
	s := fs.slots[input]
	if s == nil || fs.resolved {
		e.release(d)
		return
	}
	if s.in.List {
		if _, dup := s.items[index]; dup || s.dead {
			e.release(d)
			return
		}
		s.items[index] = d
	} else {
		if s.have {
			e.release(d) // the first value wins
			return
		}
		s.have, s.val = true, d
	}
	inv.tryFire(e, fs, fx)
}

func (inv *invocation) item(e *Engine, fs *fnState, index int, d *datum, fx *effects) {
	if !fs.f.IsMap() || fs.resolved {
		e.release(d)
		return
	}
	if _, dup := fs.items[index]; dup {
		e.release(d) // a retried producer posts its items again
		return
	}
	fs.items[index] = d
	inv.tryFire(e, fs, fx)
}

func (inv *invocation) count(e *Engine, fs *fnState, from string, n int, fx *effects) {
	if fs.resolved {
		return
	}
	if fs.f.ForeachFrom == from && fs.count < 0 {
		fs.count = n
	}
	for _, s := range fs.slots {
		if s.in.List && s.in.CountFrom == from && s.count < 0 {
			s.count = n
		}
	}
	inv.tryFire(e, fs, fx)
}

func (inv *invocation) skip(e *Engine, fs *fnState, from, input string, fx *effects) {
	if fs.resolved {
		return
	}
	if fs.f.IsMap() && input == fs.f.ForeachInput {
		inv.kill(e, fs, fx)
		return
	}
	s := fs.slots[input]
	if s == nil || s.have {
		return
	}
	if s.skipped == nil {
		s.skipped = map[string]bool{}
	}
	s.skipped[from] = true
	if s.in.List || len(s.skipped) >= len(s.in.Sources) {
		s.dead = true
	}
	inv.tryFire(e, fs, fx)
}

// complete reports whether the slot has everything its function needs.
func (s *slot) complete() bool {
	if s.in.List {
		return s.count >= 0 && len(s.items) >= s.count
	}
	return s.have
}

// tryFire starts what can start, or skips the function when one of its
// inputs can never arrive.
func (inv *invocation) tryFire(e *Engine, fs *fnState, fx *effects) {
	if fs.resolved {
		return
	}
	for _, s := range fs.slots {
		if s.dead {
			inv.kill(e, fs, fx)
			return
		}
	}
	if !fs.f.IsMap() {
		if fs.fired {
			return
		}
		for _, s := range fs.slots {
			if !s.complete() {
				return
			}
		}
		fs.fired = true
		fx.runs = append(fx.runs, inv.newRun(fs, -1, nil))
		return
	}
	if fs.count >= 0 && fs.finished >= fs.count {
		inv.resolve(e, fs, fx) // no items, or the count came after the last run ended
		return
	}
	for name, s := range fs.slots {
		if name != fs.f.ForeachInput && !s.complete() {
			return
		}
	}
	for idx, d := range fs.items {
		if d != nil {
			fs.items[idx] = nil
			fx.runs = append(fx.runs, inv.newRun(fs, idx, d))
		}
	}
}

// kill skips a function: it tells everything it could have sent to that
// nothing will come.
func (inv *invocation) kill(e *Engine, fs *fnState, fx *effects) {
	if fs.resolved {
		return
	}
	fs.dead = true
	if len(fs.f.Reach) > 0 {
		fx.sends = append(fx.sends, &send{from: fs.f.Name, kind: api.KindSkip, targets: fs.f.Reach})
	}
	inv.resolve(e, fs, fx)
}

// resolve marks fs as done for this invocation and releases the data its
// slots still hold (what runs took is theirs to release).
func (inv *invocation) resolve(e *Engine, fs *fnState, fx *effects) {
	if fs.resolved {
		return
	}
	fs.resolved = true
	for _, s := range fs.slots {
		e.release(s.val)
		s.val = nil
		for _, d := range s.items {
			e.release(d)
		}
		s.items = nil
	}
	for _, d := range fs.items {
		e.release(d)
	}
	fs.items = nil
	inv.unresolved--
	if inv.unresolved == 0 {
		fx.done = true
	}
}

// runEnded records the end of one run of fs.
func (inv *invocation) runEnded(e *Engine, fs *fnState, fx *effects) {
	if !fs.f.IsMap() {
		inv.resolve(e, fs, fx)
		return
	}
	fs.finished++
	if fs.count >= 0 && fs.finished >= fs.count {
		inv.resolve(e, fs, fx)
	}
}

// finish marks the invocation ended and cancels its runs. Called with mu held.
func (inv *invocation) finish() {
	if inv.ended {
		return
	}
	inv.ended = true
	close(inv.cancel)
	if inv.timer != nil {
		inv.timer.Stop()
	}
	inv.funcs = nil
}

func (inv *invocation) String() string {
	return fmt.Sprintf("invocation %s of %s", inv.id, inv.dep.Workflow.Name)
}
