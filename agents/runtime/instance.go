package runtime

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/faasflow/faasflow-go/fn/protocol"
)

// Instance is one live function instance with its connection to the agent.
type Instance struct {
	id       string
	fp       *funcPool
	proc     Process
	conn     *protocol.Conn
	log      *slog.Logger
	lastUsed time.Time // guarded by the pool's mutex

	mu     sync.Mutex
	cur    *Call
	done   chan protocol.Done
	broken error // set when the connection failed; the instance is not reused
	closed chan struct{}
}

func (i *Instance) start() {
	i.closed = make(chan struct{})
	i.done = make(chan protocol.Done, 1)
	go i.readLoop()
}

// readLoop handles frames from the instance until its connection ends.
func (i *Instance) readLoop() {
	defer close(i.closed)
	for {
		f, err := i.conn.Read()
		if err != nil {
			i.mu.Lock()
			if i.broken == nil {
				i.broken = fmt.Errorf("connection to instance lost: %w", err)
				if errors.Is(err, protocol.ErrTooLarge) {
					i.broken = i.tooLarge(err)
				}
			}
			i.mu.Unlock()
			return
		}
		i.mu.Lock()
		call := i.cur
		i.mu.Unlock()
		switch f.Type {
		case protocol.TypeOutput:
			var o protocol.Output
			if f.Decode(&o) != nil || call == nil || o.Run != call.Run.Run {
				continue
			}
			call.OnOutput(o.Name, f.Body)
		case protocol.TypeGet:
			var g protocol.Get
			if f.Decode(&g) != nil {
				continue
			}
			var data []byte
			var ferr error
			if call == nil || g.Run != call.Run.Run {
				ferr = errors.New("no such run")
			} else {
				data, ferr = call.Fetch(g.Key)
			}
			reply := protocol.Data{Req: g.Req}
			if ferr != nil {
				reply.Error = ferr.Error()
			}
			if err := i.conn.Write(protocol.TypeData, reply, data); err != nil {
				i.log.Warn("answer instance", "err", err)
			}
		case protocol.TypeDone:
			var d protocol.Done
			if f.Decode(&d) != nil || call == nil || d.Run != call.Run.Run {
				continue
			}
			if call.OnDone != nil {
				call.OnDone(d.Error == "")
			}
			i.done <- d
		}
	}
}

// tooLarge describes a frame the instance sent over the agent's limit:
// for an output, which one, how big, and the limit.
func (i *Instance) tooLarge(err error) error {
	var tl *protocol.TooLargeError
	if !errors.As(err, &tl) {
		return fmt.Errorf("function %s sent a frame too large for this worker: %w", i.fp.spec.Function, err)
	}
	var o protocol.Output
	hdr := protocol.Frame{Type: tl.Type, Header: tl.Header}
	if tl.Type == protocol.TypeOutput && hdr.Decode(&o) == nil && o.Name != "" {
		return fmt.Errorf("function %s posted output %q of %d bytes, over this worker's limit of %d bytes on one output: %w",
			i.fp.spec.Function, o.Name, tl.Size, tl.Limit, err)
	}
	return fmt.Errorf("function %s sent an output of %d bytes, over this worker's limit of %d bytes on one output: %w",
		i.fp.spec.Function, tl.Size, tl.Limit, err)
}

// do runs call and waits for its end, its deadline or the instance's death.
func (i *Instance) do(call *Call) Result {
	i.mu.Lock()
	i.cur = call
	broken := i.broken
	i.mu.Unlock()
	defer func() {
		i.mu.Lock()
		i.cur = nil
		i.mu.Unlock()
	}()
	if broken != nil {
		return Result{Err: broken}
	}
	call.Run.DeadlineMS = call.Deadline.UnixMilli()
	if err := i.conn.Write(protocol.TypeRun, call.Run, call.Body); err != nil {
		i.markBroken(fmt.Errorf("send run to instance: %w", err))
		// The instance most likely died: say why, if it ends soon.
		select {
		case <-i.proc.Exited():
			return Result{Err: fmt.Errorf("instance died during the run: %w", i.proc.ExitErr())}
		case <-time.After(2 * time.Second):
		}
		return Result{Err: fmt.Errorf("send run to instance of %s: %w", i.fp.spec.Function, err)}
	}
	timer := time.NewTimer(time.Until(call.Deadline))
	defer timer.Stop()
	cancel := call.Cancel
	for {
		select {
		case <-cancel:
			i.conn.Write(protocol.TypeCancel, protocol.Cancel{Run: call.Run.Run})
			cancel = nil
			continue
		case d := <-i.done:
			res := Result{Done: d}
			if d.Error != "" {
				res.Err = errors.New(d.Error)
			}
			return res
		case <-i.closed:
			i.mu.Lock()
			broken := i.broken
			i.mu.Unlock()
			if errors.Is(broken, protocol.ErrTooLarge) {
				// The instance is alive but sent more than the agent takes.
				i.proc.Kill()
				return Result{Err: fmt.Errorf("%w (raise the worker's --max-body, or pass less data)", broken)}
			}
			i.proc.Kill()
			return Result{Err: fmt.Errorf("instance died during the run: %w", i.proc.ExitErr())}
		case <-timer.C:
			err := fmt.Errorf("%w: the run took longer than its timeout; the instance was killed", ErrTimeout)
			i.markBroken(err)
			i.proc.Kill()
			return Result{Err: err}
		}
	}
}

func (i *Instance) markBroken(err error) {
	i.mu.Lock()
	if i.broken == nil {
		i.broken = err
	}
	i.mu.Unlock()
}

// healthy reports whether the instance can take another run.
func (i *Instance) healthy() bool {
	i.mu.Lock()
	defer i.mu.Unlock()
	select {
	case <-i.closed:
		return false
	case <-i.proc.Exited():
		return false
	default:
	}
	return i.broken == nil
}

// close ends the instance: closing the connection makes a well-behaved
// instance exit; it is killed if it has not after a grace period.
func (i *Instance) close() {
	i.conn.Close()
	go func() {
		select {
		case <-i.proc.Exited():
		case <-time.After(2 * time.Second):
			i.proc.Kill()
		}
	}()
}
