//go:build linux

package netns

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is a process started inside a host's namespace. Its output goes to
// Log, a file in the test's temporary directory.
type Proc struct {
	Name string
	Host string
	Cmd  *exec.Cmd
	Log  string

	done    chan struct{}
	mu      sync.Mutex
	waitErr error
	killed  bool
	stopped bool
}

// Start starts a program inside a host's namespace (ip netns exec, which
// execs the program itself: Cmd.Process.Pid is the program's PID) with the
// given environment added to this process's, output to a log file named
// after name. It is stopped when the test ends, and killed if this process
// dies first.
func (n *Net) Start(host, name string, env []string, prog string, args ...string) (*Proc, error) {
	h := n.Host(host)
	logPath := filepath.Join(n.logDir, name+".log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	cmd := exec.Command("ip", append([]string{"netns", "exec", h.NS, prog}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s in %s: %w", name, h.NS, err)
	}
	p := &Proc{Name: name, Host: host, Cmd: cmd, Log: logPath, done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		p.mu.Lock()
		p.waitErr = err
		p.mu.Unlock()
		close(p.done)
	}()
	n.mu.Lock()
	n.procs = append(n.procs, p)
	n.mu.Unlock()
	return p, nil
}

// PID is the process's ID.
func (p *Proc) PID() int { return p.Cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Done is closed when the process has ended.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Kill sends SIGKILL to the process (by its PID; not its children) and
// waits up to 5 s for it to end.
func (p *Proc) Kill() error {
	p.mu.Lock()
	p.killed = true
	p.mu.Unlock()
	if err := p.Cmd.Process.Signal(syscall.SIGKILL); err != nil && !p.Exited() {
		return err
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(5 * time.Second):
		return fmt.Errorf("%s (pid %d) still runs 5s after SIGKILL", p.Name, p.PID())
	}
}

// Stop sends SIGTERM, waits up to grace, then SIGKILL.
func (p *Proc) Stop(grace time.Duration) {
	if p.Exited() {
		return
	}
	p.mu.Lock()
	p.stopped = true
	p.mu.Unlock()
	p.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(grace):
	}
	p.Kill()
}

func (p *Proc) state() string {
	if !p.Exited() {
		return "running"
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.killed {
		return "killed"
	}
	if p.stopped {
		return "stopped (" + fmt.Sprint(p.waitErr) + ")"
	}
	if p.waitErr != nil {
		return "exited: " + p.waitErr.Error()
	}
	return "exited"
}

// Result is how a command run by Net.Run ended.
type Result struct {
	Stdout, Stderr string
	Took           time.Duration
	Err            error // nil when it exited 0
}

// Run runs a program inside a host's namespace to its end, bounded by
// timeout, with env added to this process's environment.
func (n *Net) Run(host string, timeout time.Duration, env []string, prog string, args ...string) Result {
	h := n.Host(host)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", h.NS, prog}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	cmd.WaitDelay = 2 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	t0 := time.Now()
	err := cmd.Run()
	r := Result{Stdout: stdout.String(), Stderr: stderr.String(), Took: time.Since(t0)}
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%s did not end within %s: %w", prog, timeout, err)
		}
		r.Err = fmt.Errorf("%s %s (in %s): %w: %s", filepath.Base(prog), strings.Join(args, " "), h.NS, err, strings.TrimSpace(stderr.String()))
	}
	return r
}

// Tail returns the last n lines of a file (or why it cannot).
func Tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
