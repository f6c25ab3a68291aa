package runtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/faasflow/faasflow-go/fn/protocol"
)

// PoolConfig configures a Pool.
type PoolConfig struct {
	// SocketPath is where the agent listens for its instances.
	SocketPath string
	// KeepAlive is how long an idle instance is kept warm (default 10m).
	KeepAlive time.Duration
	// StartTimeout bounds an instance's start until it says hello (default 10s).
	StartTimeout time.Duration
	// MaxBody bounds one frame from an instance, i.e. one output (default protocol.DefaultMaxBody).
	MaxBody int
	// MaxInstances caps the instances of any one function on this worker,
	// whatever the function's own max_instances asks (0 = no cap beyond
	// the function's).
	MaxInstances int
	// MaxQueue bounds the calls of one function waiting for an instance
	// (default DefaultMaxQueue; negative = unbounded). A call that finds
	// the queue full fails at once with ErrQueueFull.
	MaxQueue int
}

// DefaultMaxQueue is the default PoolConfig.MaxQueue.
const DefaultMaxQueue = 10000

// ErrQueueFull is wrapped by Execute's error for a call refused because
// MaxQueue calls of its function already wait for an instance.
var ErrQueueFull = errors.New("queue full")

// Pool keeps warm instances per function and runs calls on them.
type Pool struct {
	cfg     PoolConfig
	backend Backend
	log     *slog.Logger
	ln      net.Listener

	mu     sync.Mutex
	funcs  map[string]*funcPool
	hellos map[string]chan hello // instance ID and token → starter waiting for its hello
	// procs holds every process started and not yet exited, whether it is
	// starting, in use or being retired, so that Close can stop them all.
	procs   map[Process]struct{}
	closed  bool
	stopped chan struct{}
	// stopCtx ends with Close; it bounds the starts of prewarmed instances.
	stopCtx  context.Context
	stopFunc context.CancelFunc
	wg       sync.WaitGroup
}

type funcPool struct {
	spec     Spec
	idle     []*Instance // a stack: the most recently used is reused first
	total    int         // idle + busy + starting
	starting int         // instances being started, for a run or prewarmed
	live     map[*Instance]struct{}
	waiters  []chan struct{}
	// prewarming counts prewarmed instances still starting; prewaiters are
	// the calls waiting for one of them rather than starting their own.
	// They are all woken when a prewarm ends.
	prewarming int
	prewaiters []chan struct{}
}

// NewPool listens on cfg.SocketPath and returns a pool that starts
// instances with backend.
func NewPool(cfg PoolConfig, backend Backend, log *slog.Logger) (*Pool, error) {
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = 10 * time.Minute
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 10 * time.Second
	}
	if cfg.MaxQueue == 0 {
		cfg.MaxQueue = DefaultMaxQueue
	}
	os.Remove(cfg.SocketPath)
	ln, err := net.Listen("unix", cfg.SocketPath)
	if err != nil {
		return nil, fmt.Errorf("listen for instances on %s: %w", cfg.SocketPath, err)
	}
	if err := os.Chmod(cfg.SocketPath, 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("restrict instance socket: %w", err)
	}
	p := &Pool{
		cfg: cfg, backend: backend, log: log.With("component", "pool"), ln: ln,
		funcs: map[string]*funcPool{}, hellos: map[string]chan hello{}, procs: map[Process]struct{}{},
		stopped: make(chan struct{}),
	}
	p.stopCtx, p.stopFunc = context.WithCancel(context.Background())
	p.wg.Add(2)
	go p.acceptLoop()
	go p.reapLoop()
	return p, nil
}

func (p *Pool) acceptLoop() {
	defer p.wg.Done()
	for {
		nc, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.greet(nc)
	}
}

// hello is what greet hands the starter of an instance: its connection, or
// why its hello was refused.
type hello struct {
	conn *protocol.Conn
	err  error
}

// errOldProtocol refuses an instance whose program was built by a faasflow
// from before the instance protocol's binary headers.
var errOldProtocol = errors.New("its program speaks an older version of the instance protocol (JSON headers): deploy the workflow again with this version's faasflow CLI, which builds its functions anew")

// greet reads an instance's hello and hands the connection to its starter.
func (p *Pool) greet(nc net.Conn) {
	conn := protocol.NewConn(nc, p.cfg.MaxBody)
	nc.SetReadDeadline(time.Now().Add(p.cfg.StartTimeout))
	f, err := conn.Read()
	nc.SetReadDeadline(time.Time{})
	if err == nil && f.Type != protocol.TypeHello {
		err = fmt.Errorf("first frame is of type %d, not a hello", f.Type)
	}
	var h protocol.Hello
	if err == nil {
		err = f.Decode(&h)
	}
	if err != nil {
		// The hello of an instance built by an older faasflow is JSON: it
		// names the instance, whose start can then fail saying what to do.
		if f == nil || f.Type != protocol.TypeHello || json.Unmarshal(f.Header, &h) != nil {
			p.log.Warn("instance connection without a valid hello", "err", err)
			nc.Close()
			return
		}
		err = errOldProtocol
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	ch := p.hellos[h.Instance+"/"+h.Token]
	delete(p.hellos, h.Instance+"/"+h.Token)
	if ch == nil {
		p.log.Warn("hello from an unknown instance", "instance", h.Instance)
		nc.Close()
		return
	}
	// Never blocks: one hello per channel, which has room for it.
	if err != nil {
		nc.Close()
		ch <- hello{err: err}
		return
	}
	ch <- hello{conn: conn}
}

// reapLoop stops instances idle for longer than the keep-alive.
func (p *Pool) reapLoop() {
	defer p.wg.Done()
	tick := time.NewTicker(min(p.cfg.KeepAlive/4, 5*time.Second))
	defer tick.Stop()
	for {
		select {
		case <-p.stopped:
			return
		case now := <-tick.C:
			var stale []*Instance
			p.mu.Lock()
			for _, fp := range p.funcs {
				keep := fp.idle[:0]
				for _, inst := range fp.idle {
					if now.Sub(inst.lastUsed) > p.cfg.KeepAlive {
						stale = append(stale, inst)
						delete(fp.live, inst)
						fp.total--
					} else {
						keep = append(keep, inst)
					}
				}
				clear(fp.idle[len(keep):])
				fp.idle = keep
			}
			p.mu.Unlock()
			for _, inst := range stale {
				inst.close()
			}
		}
	}
}

// Execute runs call on an instance of spec's function, starting one if
// none is idle and the cap allows, else waiting for one. It returns when the
// run ends; ctx cancels only the wait for an instance (a started run is
// bounded by call.Deadline).
func (p *Pool) Execute(ctx context.Context, spec Spec, call *Call) Result {
	t0 := time.Now()
	inst, cold, err := p.acquire(ctx, spec)
	queued := time.Since(t0)
	if err != nil {
		return Result{Err: err, Queued: queued}
	}
	res := inst.do(call)
	res.ColdStart, res.Queued = cold, queued
	p.release(inst)
	return res
}

// maxInstances is the cap on instances of spec's function: its own, within
// the pool's.
func (p *Pool) maxInstances(spec Spec) int {
	n := max(spec.MaxInstances, 1)
	if p.cfg.MaxInstances > 0 {
		n = min(n, p.cfg.MaxInstances)
	}
	return n
}

// queueFullLocked returns the error for a call of fp that would wait
// behind MaxQueue others, or nil if it may wait.
func (p *Pool) queueFullLocked(fp *funcPool) error {
	waiting := len(fp.waiters) + len(fp.prewaiters)
	if p.cfg.MaxQueue < 0 || waiting < p.cfg.MaxQueue {
		return nil
	}
	return fmt.Errorf("%w: function %s already has %d calls waiting for one of its %d instances, this worker's limit (--max-queue=%d): raise it or the function's max_instances, or send fewer calls at once",
		ErrQueueFull, fp.spec.Function, waiting, fp.total, p.cfg.MaxQueue)
}

// funcPoolLocked returns the pool of spec's key, making it if needed.
func (p *Pool) funcPoolLocked(spec Spec) *funcPool {
	fp := p.funcs[spec.Key]
	if fp == nil {
		fp = &funcPool{spec: spec, live: map[*Instance]struct{}{}}
		p.funcs[spec.Key] = fp
	}
	return fp
}

func (p *Pool) acquire(ctx context.Context, spec Spec) (*Instance, bool, error) {
	max := p.maxInstances(spec)
	// waited is set once the call has been queued: only a new call is
	// refused for a full queue, never one woken to try again.
	waited := false
	for {
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			return nil, false, errors.New("worker is shutting down")
		}
		fp := p.funcPoolLocked(spec)
		if n := len(fp.idle); n > 0 {
			inst := fp.idle[n-1]
			fp.idle[n-1] = nil
			fp.idle = fp.idle[:n-1]
			if !inst.healthy() {
				// It died while idle and watch has not dropped it yet.
				fp.total--
				delete(fp.live, inst)
				p.mu.Unlock()
				inst.close()
				continue
			}
			p.mu.Unlock()
			return inst, false, nil
		}
		if fp.prewarming > len(fp.prewaiters) {
			// An instance is being prewarmed that no other call waits for:
			// waiting for it is quicker than starting another.
			if err := p.queueFullLocked(fp); err != nil && !waited {
				p.mu.Unlock()
				return nil, false, err
			}
			waited = true
			if err := p.waitLocked(ctx, fp, &fp.prewaiters); err != nil {
				return nil, false, err
			}
			continue
		}
		if fp.total < max {
			fp.total++
			fp.starting++
			p.mu.Unlock()
			inst, err := p.start(ctx, fp)
			p.mu.Lock()
			fp.starting--
			if err != nil {
				fp.total--
				p.wakeLocked(fp)
				p.mu.Unlock()
				return nil, false, err
			}
			p.mu.Unlock()
			return inst, true, nil
		}
		if err := p.queueFullLocked(fp); err != nil && !waited {
			p.mu.Unlock()
			return nil, false, err
		}
		waited = true
		if err := p.waitLocked(ctx, fp, &fp.waiters); err != nil {
			return nil, false, err
		}
	}
}

// waitLocked adds a waiter to list, unlocks the pool and waits until the
// waiter is woken or ctx ends.
func (p *Pool) waitLocked(ctx context.Context, fp *funcPool, list *[]chan struct{}) error {
	wake := make(chan struct{})
	*list = append(*list, wake)
	p.mu.Unlock()
	select {
	case <-wake:
		return nil
	case <-ctx.Done():
		p.mu.Lock()
		if i := slices.Index(*list, wake); i >= 0 {
			*list = slices.Delete(*list, i, i+1)
		}
		p.mu.Unlock()
		return fmt.Errorf("no instance of %s became free: %w", fp.spec.Function, ctx.Err())
	}
}

// Prewarm starts one instance of spec's function in the background, so
// that a run coming soon finds it warm, or waits for it rather than
// starting its own. It does nothing when the function has an idle instance
// or one starting, or is at its cap on instances. A prewarmed instance is
// idle, and expires, like any other.
func (p *Pool) Prewarm(spec Spec) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	fp := p.funcPoolLocked(spec)
	if len(fp.idle) > 0 || fp.starting > 0 || fp.total >= p.maxInstances(spec) {
		return
	}
	fp.total++
	fp.starting++
	fp.prewarming++
	p.wg.Add(1) // before Close's Wait: Close sets closed under the lock first
	go p.prewarm(fp)
}

// prewarm starts an instance of fp and leaves it idle.
func (p *Pool) prewarm(fp *funcPool) {
	defer p.wg.Done()
	inst, err := p.start(p.stopCtx, fp)
	p.mu.Lock()
	fp.starting--
	fp.prewarming--
	for _, w := range fp.prewaiters {
		close(w)
	}
	fp.prewaiters = nil
	if err != nil {
		fp.total--
		p.wakeLocked(fp)
		closed := p.closed
		p.mu.Unlock()
		if !closed {
			p.log.Warn("prewarm failed", "function", fp.spec.Function, "err", err)
		}
		return
	}
	keep := p.releaseLocked(inst)
	p.mu.Unlock()
	if !keep {
		inst.close()
	}
}

// wakeLocked lets the first waiter of fp try again.
func (p *Pool) wakeLocked(fp *funcPool) {
	if len(fp.waiters) > 0 {
		close(fp.waiters[0])
		fp.waiters = fp.waiters[1:]
	}
}

// release puts inst back on its idle stack, or drops it if it cannot take
// another run. Health is checked under the lock, so an instance that dies
// now is either dropped here or found idle by watch.
func (p *Pool) release(inst *Instance) {
	p.mu.Lock()
	keep := p.releaseLocked(inst)
	p.mu.Unlock()
	if !keep {
		inst.close()
	}
}

// releaseLocked puts inst on its idle stack and reports true, or drops it
// and reports false: the caller then closes it, after unlocking.
func (p *Pool) releaseLocked(inst *Instance) bool {
	fp := inst.fp
	if !p.closed && inst.healthy() {
		inst.lastUsed = time.Now()
		fp.idle = append(fp.idle, inst)
		p.wakeLocked(fp)
		return true
	}
	fp.total--
	delete(fp.live, inst)
	p.wakeLocked(fp)
	return false
}

// watch drops inst from the idle stack once it dies there, so that it is
// neither counted nor handed to a call. A busy instance that dies is dropped
// by Execute when its run ends.
func (p *Pool) watch(inst *Instance) {
	select {
	case <-inst.closed:
	case <-inst.proc.Exited():
	}
	p.mu.Lock()
	fp := inst.fp
	i := slices.Index(fp.idle, inst)
	if i < 0 {
		p.mu.Unlock()
		return
	}
	fp.idle = slices.Delete(fp.idle, i, i+1)
	fp.total--
	delete(fp.live, inst)
	p.wakeLocked(fp)
	p.mu.Unlock()
	inst.close()
}

// track records a started process until it exits, so that Close can stop
// it; it refuses (killing the process) once the pool is closed.
func (p *Pool) track(proc Process) error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		proc.Kill()
		<-proc.Exited()
		return errors.New("worker is shutting down")
	}
	p.procs[proc] = struct{}{}
	p.mu.Unlock()
	go func() {
		<-proc.Exited()
		p.mu.Lock()
		delete(p.procs, proc)
		p.mu.Unlock()
	}()
	return nil
}

func (p *Pool) start(ctx context.Context, fp *funcPool) (*Instance, error) {
	id := newID()
	token := newID()
	ch := make(chan hello, 1)
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, errors.New("worker is shutting down")
	}
	// Close waits for starts under way: a container the daemon is still
	// creating when Close comes must be gone when Close returns.
	p.wg.Add(1) // under the lock, so before Close's Wait
	defer p.wg.Done()
	p.hellos[id+"/"+token] = ch
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		delete(p.hellos, id+"/"+token)
		select {
		case h := <-ch: // a hello that came after the start was given up
			if h.conn != nil {
				h.conn.Close()
			}
		default:
		}
		p.mu.Unlock()
	}()
	env := []string{
		protocol.EnvSocket + "=" + p.cfg.SocketPath,
		protocol.EnvInstance + "=" + id,
		protocol.EnvToken + "=" + token,
	}
	proc, err := p.backend.Start(ctx, fp.spec, env)
	if err != nil {
		return nil, fmt.Errorf("start an instance of %s: %w", fp.spec.Function, err)
	}
	if err := p.track(proc); err != nil {
		return nil, err
	}
	timer := time.NewTimer(p.cfg.StartTimeout)
	defer timer.Stop()
	select {
	case h := <-ch:
		if h.err != nil {
			proc.Kill()
			return nil, fmt.Errorf("instance of %s refused: %w", fp.spec.Function, h.err)
		}
		conn := h.conn
		inst := &Instance{id: id, fp: fp, proc: proc, conn: conn, log: p.log.With("function", fp.spec.Function, "instance", id)}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			conn.Close()
			proc.Kill()
			return nil, errors.New("worker is shutting down")
		}
		inst.start()
		fp.live[inst] = struct{}{}
		p.mu.Unlock()
		go p.watch(inst)
		return inst, nil
	case <-p.stopped:
		proc.Kill()
		return nil, errors.New("worker is shutting down")
	case <-proc.Exited():
		return nil, fmt.Errorf("instance of %s exited before connecting: %w", fp.spec.Function, proc.ExitErr())
	case <-timer.C:
		proc.Kill()
		return nil, fmt.Errorf("instance of %s did not connect within %s: does its program call fn.Run?", fp.spec.Function, p.cfg.StartTimeout)
	case <-ctx.Done():
		proc.Kill()
		return nil, fmt.Errorf("start an instance of %s: %w", fp.spec.Function, ctx.Err())
	}
}

// Stats reports, per pool key, the instances alive and how many are idle.
func (p *Pool) Stats() map[string][2]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string][2]int, len(p.funcs))
	for key, fp := range p.funcs {
		out[key] = [2]int{fp.total, len(fp.idle)}
	}
	return out
}

// Close stops accepting work, kills every instance (busy ones' runs fail,
// starting ones' calls too), waits for them to exit and removes the socket.
func (p *Pool) Close() {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return
	}
	p.closed = true
	procs := slices.Collect(maps.Keys(p.procs))
	var live []*Instance
	for _, fp := range p.funcs {
		for inst := range fp.live {
			live = append(live, inst)
		}
		fp.idle = nil
		for _, w := range fp.waiters {
			close(w)
		}
		fp.waiters = nil
		for _, w := range fp.prewaiters {
			close(w)
		}
		fp.prewaiters = nil
	}
	p.mu.Unlock()
	close(p.stopped)
	p.stopFunc()
	p.ln.Close()
	for _, inst := range live {
		inst.conn.Close()
	}
	for _, proc := range procs {
		proc.Kill()
	}
	for _, proc := range procs {
		<-proc.Exited()
	}
	p.wg.Wait()
	os.Remove(p.cfg.SocketPath)
}

func newID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
