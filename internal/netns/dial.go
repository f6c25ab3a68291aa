//go:build linux

package netns

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"time"
)

// inNamespace runs f on an OS thread that has joined the network namespace
// ns, so that sockets f makes belong to ns (a socket keeps the namespace it
// was made in). The thread goes back to its own namespace afterwards; if it
// cannot, it stays locked and the Go runtime ends it with this goroutine,
// so no other goroutine ever runs in ns by accident. (Threads the runtime
// starts meanwhile are made from a clean template thread, not this one.)
func inNamespace(ns string, f func() error) error {
	target, err := os.Open(filepath.Join("/run/netns", ns))
	if err != nil {
		return fmt.Errorf("netns %s: %w", ns, err)
	}
	defer target.Close()
	runtime.LockOSThread()
	own, err := os.Open(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: this thread's namespace: %w", err)
	}
	defer own.Close()
	if err := setns(target); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: join %s: %w", ns, err)
	}
	ferr := f()
	if err := setns(own); err != nil {
		// Leave the thread locked: it dies with this goroutine.
		return fmt.Errorf("netns: leave %s: %w", ns, err)
	}
	runtime.UnlockOSThread()
	return ferr
}

func setns(f *os.File) error {
	if sysSetns == 0 {
		return syscall.ENOSYS
	}
	_, _, e := syscall.RawSyscall(uintptr(sysSetns), f.Fd(), syscall.CLONE_NEWNET, 0)
	if e != 0 {
		return e
	}
	return nil
}

// Dial connects from inside a host's namespace: the socket is made there,
// so its packets start there, never in this process's namespace.
func (n *Net) Dial(ctx context.Context, host, network, addr string) (net.Conn, error) {
	h := n.Host(host)
	var conn net.Conn
	err := inNamespace(h.NS, func() error {
		var err error
		conn, err = (&net.Dialer{Timeout: 10 * time.Second}).DialContext(ctx, network, addr)
		return err
	})
	if err != nil && conn != nil {
		conn.Close()
		conn = nil
	}
	return conn, err
}

// HTTPClient returns an HTTP client whose connections are made inside a
// host's namespace: use it to call servers on the hosts' addresses. Each
// request is bounded by timeout (0: none; bound it with a context).
func (n *Net) HTTPClient(host string, timeout time.Duration) *http.Client {
	n.Host(host) // fail early on an unknown host
	tr := &http.Transport{
		Proxy: nil, // never a proxy from the environment
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			return n.Dial(ctx, host, network, addr)
		},
		MaxIdleConnsPerHost: 4,
		IdleConnTimeout:     30 * time.Second,
	}
	n.tb.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: timeout}
}

// Listen opens a TCP listener inside a host's namespace (addr like
// "10.213.77.10:80" or ":80"), for servers that run in this process.
func (n *Net) Listen(host, addr string) (net.Listener, error) {
	h := n.Host(host)
	var ln net.Listener
	err := inNamespace(h.NS, func() error {
		var err error
		ln, err = net.Listen("tcp", addr)
		return err
	})
	if err != nil && ln != nil {
		ln.Close()
		ln = nil
	}
	return ln, err
}
