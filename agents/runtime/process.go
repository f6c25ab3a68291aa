package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
)

// ProcessBackend runs each instance as a child process of the agent, in its
// own process group, killed if the agent dies.
type ProcessBackend struct{}

var _ Backend = ProcessBackend{}

// Start launches spec.Executable.
func (ProcessBackend) Start(ctx context.Context, spec Spec, env []string) (Process, error) {
	cmd := exec.Command(spec.Executable, spec.Args...)
	cmd.Env = append(append(os.Environ(), spec.Env...), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	p := &process{cmd: cmd, exited: make(chan struct{}), tail: &TailBuffer{Max: 4096}}
	var out io.Writer = p.tail
	if spec.LogPath != "" {
		f, err := os.OpenFile(spec.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return nil, fmt.Errorf("open instance log: %w", err)
		}
		p.logFile = f
		out = io.MultiWriter(f, p.tail)
	}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		if p.logFile != nil {
			p.logFile.Close()
		}
		return nil, fmt.Errorf("start %s: %w", spec.Executable, err)
	}
	go p.wait()
	return p, nil
}

type process struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	err     error
	tail    *TailBuffer
	logFile *os.File
}

func (p *process) wait() {
	err := p.cmd.Wait()
	if p.logFile != nil {
		p.logFile.Close()
	}
	if err == nil {
		err = errors.New("exited with status 0")
	}
	if t := strings.TrimSpace(p.tail.String()); t != "" {
		err = fmt.Errorf("%w; last output:\n%s", err, t)
	}
	p.err = err
	close(p.exited)
}

func (p *process) Exited() <-chan struct{} { return p.exited }
func (p *process) ExitErr() error          { <-p.exited; return p.err }

// Kill sends SIGKILL to the instance's whole process group.
func (p *process) Kill() {
	if p.cmd.Process != nil {
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	}
}

// TailBuffer keeps the last Max bytes written to it: the end of an
// instance's output, for the error that says why it ended. It is safe for
// concurrent use.
type TailBuffer struct {
	mu  sync.Mutex
	Max int
	buf []byte
}

func (t *TailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.Max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

// String returns the bytes kept.
func (t *TailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
