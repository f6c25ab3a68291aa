// Package fn is the Go SDK for FaaSFlow functions. A function is a main
// package that calls fn.Run with its handler:
//
//	func main() {
//		fn.Run(func(ctx context.Context, c *fn.Call) error {
//			text, err := c.Input("text")
//			if err != nil {
//				return err
//			}
//			return c.OutputJSON("words", len(bytes.Fields(text)))
//		})
//	}
//
// The worker agent starts the program as a long-lived instance that serves
// one run at a time. Inputs are fetched on demand (small ones arrive with the
// run, large ones are read from the agent's store), and each output is
// handed to the agent as soon as the function posts it, so consumers can
// start while the function still runs.
package fn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/faasflow/faasflow-go/fn/protocol"
)

// Handler is a function's code. Returning an error fails the run (and the
// invocation, unless the function has retries left).
type Handler func(ctx context.Context, c *Call) error

// Run serves runs for the agent that started this process, until the agent
// closes the connection. It is meant to be the whole of a function's main,
// and exits the process with status 1 if it cannot reach the agent.
func Run(h Handler) {
	if err := Serve(context.Background(), h); err != nil {
		slog.Error("function instance stopped", "err", err)
		os.Exit(1)
	}
}

// Serve connects to the agent named by the environment and serves runs until
// the connection closes (returns nil) or ctx ends.
func Serve(ctx context.Context, h Handler) error {
	path := os.Getenv(protocol.EnvSocket)
	if path == "" {
		return fmt.Errorf("%s is not set: function programs are started by a faasflow worker, not by hand", protocol.EnvSocket)
	}
	nc, err := net.Dial("unix", path)
	if err != nil {
		return fmt.Errorf("connect to agent at %s: %w", path, err)
	}
	s := newSession(protocol.NewConn(nc, 0))
	hello := protocol.Hello{Instance: os.Getenv(protocol.EnvInstance), Token: os.Getenv(protocol.EnvToken), Language: "go"}
	if err := s.conn.Write(protocol.TypeHello, hello); err != nil {
		return fmt.Errorf("say hello to agent: %w", err)
	}
	go func() {
		<-ctx.Done()
		s.conn.Close()
	}()
	return s.serve(ctx, h)
}

type session struct {
	conn *protocol.Conn
	runs chan *protocol.Frame

	mu      sync.Mutex
	nextReq uint64
	pending map[uint64]chan *protocol.Frame
	cancels map[uint64]context.CancelFunc
	readErr error
}

func newSession(c *protocol.Conn) *session {
	return &session{
		conn:    c,
		runs:    make(chan *protocol.Frame, 16),
		pending: map[uint64]chan *protocol.Frame{},
		cancels: map[uint64]context.CancelFunc{},
	}
}

// readLoop dispatches frames from the agent until the connection ends.
func (s *session) readLoop() {
	defer close(s.runs)
	for {
		f, err := s.conn.Read()
		if err != nil {
			s.mu.Lock()
			s.readErr = err
			for _, ch := range s.pending {
				close(ch)
			}
			s.pending = map[uint64]chan *protocol.Frame{}
			for _, cancel := range s.cancels {
				cancel()
			}
			s.mu.Unlock()
			return
		}
		switch f.Type {
		case protocol.TypeRun:
			s.runs <- f
		case protocol.TypeData:
			var d protocol.Data
			if f.Decode(&d) != nil {
				continue
			}
			s.mu.Lock()
			ch := s.pending[d.Req]
			delete(s.pending, d.Req)
			s.mu.Unlock()
			if ch != nil {
				ch <- f
			}
		case protocol.TypeCancel:
			var c protocol.Cancel
			if f.Decode(&c) != nil {
				continue
			}
			s.mu.Lock()
			if cancel := s.cancels[c.Run]; cancel != nil {
				cancel()
			}
			s.mu.Unlock()
		}
	}
}

func (s *session) serve(ctx context.Context, h Handler) error {
	go s.readLoop()
	for f := range s.runs {
		var r protocol.Run
		if err := f.Decode(&r); err != nil {
			return err
		}
		if err := s.run(ctx, h, &r, f.Body); err != nil {
			return err
		}
	}
	return nil
}

// run executes one run and reports it; it returns an error only when the
// agent can no longer be told.
func (s *session) run(ctx context.Context, h Handler, r *protocol.Run, body []byte) error {
	rctx, cancel := context.WithDeadline(ctx, time.UnixMilli(r.DeadlineMS))
	s.mu.Lock()
	s.cancels[r.Run] = cancel
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.cancels, r.Run)
		s.mu.Unlock()
		cancel()
	}()

	c := &Call{s: s, r: r, body: body, posted: map[string]bool{}}
	cpu0 := cpuTime()
	done := protocol.Done{Run: r.Run, StartNS: time.Now().UnixNano()}
	err, panicked := callHandler(rctx, h, c)
	done.EndNS = time.Now().UnixNano()
	done.CPUNS = int64(cpuTime() - cpu0)
	if err != nil {
		done.Error = err.Error()
		done.Panic = panicked
	}
	return s.conn.Write(protocol.TypeDone, done)
}

func callHandler(ctx context.Context, h Handler, c *Call) (err error, panicked bool) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n\n%s", p, debug.Stack())
			panicked = true
		}
	}()
	return h(ctx, c), false
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// fetch asks the agent for a stored value.
func (s *session) fetch(run uint64, key string) ([]byte, error) {
	ch := make(chan *protocol.Frame, 1)
	s.mu.Lock()
	if s.readErr != nil {
		s.mu.Unlock()
		return nil, fmt.Errorf("agent connection closed: %w", s.readErr)
	}
	s.nextReq++
	req := s.nextReq
	s.pending[req] = ch
	s.mu.Unlock()
	if err := s.conn.Write(protocol.TypeGet, protocol.Get{Req: req, Run: run, Key: key}); err != nil {
		return nil, fmt.Errorf("ask agent for %s: %w", key, err)
	}
	f, ok := <-ch
	if !ok {
		return nil, errors.New("agent connection closed while fetching an input")
	}
	var d protocol.Data
	if err := f.Decode(&d); err != nil {
		return nil, err
	}
	if d.Error != "" {
		return nil, errors.New(d.Error)
	}
	return f.Body, nil
}

// Call is one run of a function: its inputs and where its outputs go. A
// Call is used by one goroutine at a time.
type Call struct {
	s      *session
	r      *protocol.Run
	body   []byte
	posted map[string]bool
}

// Function is the name of the running function.
func (c *Call) Function() string { return c.r.Function }

// Invocation is the ID of the workflow invocation this run belongs to.
func (c *Call) Invocation() string { return c.r.Invocation }

// Index is the item number when the function runs once per item of a
// foreach output, else -1.
func (c *Call) Index() int { return c.r.Index }

// Inputs lists the names of the run's inputs.
func (c *Call) Inputs() []string {
	names := make([]string, len(c.r.Inputs))
	for i, in := range c.r.Inputs {
		names[i] = in.Name
	}
	return names
}

// Outputs lists the names of the function's outputs.
func (c *Call) Outputs() []string {
	names := make([]string, len(c.r.Outputs))
	for i, o := range c.r.Outputs {
		names[i] = o.Name
	}
	return names
}

func (c *Call) input(name string) (*protocol.Input, error) {
	for i := range c.r.Inputs {
		if c.r.Inputs[i].Name == name {
			return &c.r.Inputs[i], nil
		}
	}
	return nil, fmt.Errorf("function %s has no input %q (inputs: %v)", c.r.Function, name, c.Inputs())
}

func (c *Call) datum(d protocol.Datum) ([]byte, error) {
	if d.Key != "" {
		return c.s.fetch(c.r.Run, d.Key)
	}
	if d.Off < 0 || d.Off+d.Len > len(c.body) {
		return nil, fmt.Errorf("run frame is corrupt: datum [%d,+%d) outside body of %d bytes", d.Off, d.Len, len(c.body))
	}
	return c.body[d.Off : d.Off+d.Len : d.Off+d.Len], nil
}

// Input returns the bytes of a normal input. Values that came from a
// workflow input or an OutputJSON call are JSON; a signal is "null".
func (c *Call) Input(name string) ([]byte, error) {
	in, err := c.input(name)
	if err != nil {
		return nil, err
	}
	if in.List || in.Value == nil {
		return nil, fmt.Errorf("input %q of %s is a list: read it with List", name, c.r.Function)
	}
	return c.datum(*in.Value)
}

// InputJSON decodes a normal input into v.
func (c *Call) InputJSON(name string, v any) error {
	b, err := c.Input(name)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("input %q of %s is not the JSON expected: %w", name, c.r.Function, err)
	}
	return nil
}

// List returns the items of a list (merge) input, in item order.
func (c *Call) List(name string) ([][]byte, error) {
	in, err := c.input(name)
	if err != nil {
		return nil, err
	}
	if !in.List {
		return nil, fmt.Errorf("input %q of %s is not a list: read it with Input", name, c.r.Function)
	}
	items := make([][]byte, len(in.Items))
	for i, d := range in.Items {
		if items[i], err = c.datum(d); err != nil {
			return nil, fmt.Errorf("item %d of input %q: %w", i, name, err)
		}
	}
	return items, nil
}

func (c *Call) spec(name string) (protocol.OutSpec, error) {
	for _, o := range c.r.Outputs {
		if o.Name == name {
			return o, nil
		}
	}
	names := make([]string, len(c.r.Outputs))
	for i, o := range c.r.Outputs {
		names[i] = o.Name
	}
	return protocol.OutSpec{}, fmt.Errorf("function %s has no output %q (outputs: %v)", c.r.Function, name, names)
}

// Output publishes the value of a normal output. Each output is published
// at most once per run; consumers may start as soon as it is.
func (c *Call) Output(name string, data []byte) error {
	o, err := c.spec(name)
	if err != nil {
		return err
	}
	if o.Foreach {
		return fmt.Errorf("output %q of %s is foreach: publish its items with Post", name, c.r.Function)
	}
	if c.posted[name] {
		return fmt.Errorf("output %q of %s was already published in this run", name, c.r.Function)
	}
	c.posted[name] = true
	return c.s.conn.Write(protocol.TypeOutput, protocol.Output{Run: c.r.Run, Name: name}, data)
}

// OutputJSON publishes v, encoded as JSON, as a normal output.
func (c *Call) OutputJSON(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode output %q: %w", name, err)
	}
	return c.Output(name, b)
}

// Post publishes one item of a foreach output: it starts one instance of
// each consumer at once.
func (c *Call) Post(name string, item []byte) error {
	o, err := c.spec(name)
	if err != nil {
		return err
	}
	if !o.Foreach {
		return fmt.Errorf("output %q of %s is not foreach: publish it with Output", name, c.r.Function)
	}
	return c.s.conn.Write(protocol.TypeOutput, protocol.Output{Run: c.r.Run, Name: name}, item)
}

// PostJSON publishes v, encoded as JSON, as one item of a foreach output.
func (c *Call) PostJSON(name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode item of %q: %w", name, err)
	}
	return c.Post(name, b)
}
