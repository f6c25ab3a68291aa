//go:build linux

package netns

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"
)

func need(t *testing.T) {
	t.Helper()
	if err := Check(); err != nil {
		t.Skip(err)
	}
}

// mainLinks lists the interfaces of the namespace the test runs in.
func mainLinks(t *testing.T) []string {
	ifs, err := net.Interfaces()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, i := range ifs {
		names = append(names, i.Name)
	}
	sort.Strings(names)
	return names
}

// serve answers "hello from NAME" on host name's port 80.
func serve(t *testing.T, n *Net, name string) string {
	ln, err := n.Listen(name, n.Host(name).IP+":80")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s", name)
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return "http://" + n.Host(name).IP + ":80/"
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// TestNet builds two hosts, checks they reach each other (and only from
// inside), cuts and restores a link, delays packets, and checks that
// everything is gone afterwards while the main namespace never changed.
func TestNet(t *testing.T) {
	need(t)
	before := mainLinks(t)
	var nsNames []string
	t.Run("net", func(t *testing.T) {
		n := New(t, Options{}, "a", "b")
		nsNames = []string{n.Hub(), n.Host("a").NS, n.Host("b").NS}
		if got := mainLinks(t); strings.Join(got, ",") != strings.Join(before, ",") {
			t.Fatalf("the main namespace's interfaces changed: %v, were %v", got, before)
		}
		for _, ns := range nsNames {
			if !strings.HasPrefix(ns, fmt.Sprintf("%s%d-", Prefix, os.Getpid())) {
				t.Errorf("namespace %s is not named after this process", ns)
			}
		}
		url := serve(t, n, "a")
		fromB := n.HTTPClient("b", 2*time.Second)
		if got, err := get(fromB, url); err != nil || got != "hello from a" {
			t.Fatalf("b → a: %q, %v", got, err)
		}

		// A program run in b reaches a as well; loopback is up in b.
		if r := n.Run("b", 10*time.Second, nil, "ip", "-o", "addr", "show", "dev", "lo"); r.Err != nil || !strings.Contains(r.Stdout, "127.0.0.1") {
			t.Fatalf("loopback of b: %q, %v", r.Stdout, r.Err)
		}

		if err := n.Cut("a"); err != nil {
			t.Fatal(err)
		}
		cut := n.HTTPClient("b", time.Second)
		if got, err := get(cut, url); err == nil {
			t.Fatalf("b → a with a's link cut answered %q", got)
		}
		if err := n.Restore("a"); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, err := get(n.HTTPClient("b", time.Second), url)
			if err == nil && got == "hello from a" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("b → a after restoring the link: %q, %v", got, err)
			}
			time.Sleep(100 * time.Millisecond)
		}

		rtt := func() time.Duration {
			best := time.Hour
			for range 5 {
				t0 := time.Now()
				conn, err := n.Dial(context.Background(), "b", "tcp", n.Host("a").IP+":80")
				if err != nil {
					t.Fatal(err)
				}
				best = min(best, time.Since(t0))
				conn.Close()
			}
			return best
		}
		base := rtt()
		how, err := n.Impair("a", Impairment{Delay: 40 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		slow := rtt()
		t.Logf("connect time b → a: %s, with a's egress delayed 40ms (%s): %s", base, how, slow)
		if slow < 40*time.Millisecond || slow > time.Second {
			t.Errorf("connect time with 40ms delay = %s, want 40ms to 1s", slow)
		}
		if err := n.Unimpair("a"); err != nil {
			t.Fatal(err)
		}
		if again := rtt(); again >= 40*time.Millisecond {
			t.Errorf("connect time after Unimpair = %s, want under 40ms", again)
		}

		p, err := n.Start("b", "sleeper", nil, "sleep", "60")
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Kill(); err != nil {
			t.Fatal(err)
		}
	})
	for _, ns := range nsNames {
		if _, err := os.Stat("/run/netns/" + ns); err == nil {
			t.Errorf("namespace %s is still there after the test", ns)
		}
	}
	if got := mainLinks(t); strings.Join(got, ",") != strings.Join(before, ",") {
		t.Fatalf("the main namespace's interfaces changed: %v, were %v", got, before)
	}
}

// TestRemoveStale removes the namespace of a run whose process is gone, and
// leaves alone the ones of live processes.
func TestRemoveStale(t *testing.T) {
	need(t)
	// A PID that surely is not running: a child that has exited.
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	dead := fmt.Sprintf("%s%d-1-x", Prefix, cmd.Process.Pid)
	live := fmt.Sprintf("%s%d-999-x", Prefix, os.Getppid())
	for _, ns := range []string{dead, live} {
		if err := runIP("netns", "add", ns); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { removeNS(ns) })
	}
	RemoveStale(t.Logf)
	if _, err := os.Stat("/run/netns/" + dead); err == nil {
		t.Errorf("stale namespace %s was not removed", dead)
	}
	if _, err := os.Stat("/run/netns/" + live); err != nil {
		t.Errorf("namespace %s of a live process was removed", live)
	}
}
