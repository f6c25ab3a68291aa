//go:build linux

package netns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Prefix starts the name of every namespace this package makes.
const Prefix = "ffmh-"

// DefaultSubnet is the first three octets of the hosts' /24. The addresses
// exist only inside the namespaces (each Net has its own hub), so two Nets
// never clash even with the same subnet; it is chosen unlikely to be a
// real network anyway.
const DefaultSubnet = "10.213.77"

// hostDev is the name of each host's end of its link, inside its namespace.
const hostDev = "eth0"

// bridgeDev is the hub's bridge.
const bridgeDev = "br0"

var hostName = regexp.MustCompile(`^[a-z][a-z0-9]{0,9}$`)

// Check reports why the package cannot work here (not root, no ip command,
// no network namespaces), or nil.
func Check() error {
	if os.Geteuid() != 0 {
		return errors.New("network namespace tests need root (ip netns add); run them as root, as CI does")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("the ip command (iproute2) is missing: install it (scripts/services/netns.sh start does)")
	}
	if _, err := os.Stat("/proc/self/ns/net"); err != nil {
		return fmt.Errorf("this kernel has no network namespaces: %v", err)
	}
	return nil
}

// Net is a set of hosts, each in its own network namespace, joined by a
// bridge in a hub namespace.
type Net struct {
	tb     testing.TB
	prefix string // "ffmh-<pid>-<n>-"
	subnet string
	logDir string

	mu     sync.Mutex
	hosts  map[string]*Host
	order  []string
	procs  []*Proc
	queues []*delayQueue
	nextIP int
	closed bool
}

// Host is one host of a Net.
type Host struct {
	Name string // as given to New
	NS   string // its network namespace
	IP   string // its address, e.g. 10.213.77.10
	Dev  string // its end of the link, inside NS ("eth0")
	// HubDev is the other end of its link, on the hub's bridge.
	HubDev string
}

var seq atomic.Int64

// Options tune New.
type Options struct {
	// Subnet is the /24's first three octets (default DefaultSubnet).
	Subnet string
	// FirstIP is the last octet of the first host's address (default 10);
	// the others follow in order.
	FirstIP int
}

// New makes a namespace per host name (short: lowercase letters and
// digits, starting with a letter), the hub with its bridge, and the links,
// and removes them all when the test ends. It fails the test if anything
// cannot be made; call Check first to skip where it cannot work.
func New(tb testing.TB, opt Options, hosts ...string) *Net {
	tb.Helper()
	if err := Check(); err != nil {
		tb.Fatal(err)
	}
	if opt.Subnet == "" {
		opt.Subnet = DefaultSubnet
	}
	if opt.FirstIP == 0 {
		opt.FirstIP = 10
	}
	if opt.FirstIP < 1 || opt.FirstIP+len(hosts) > 254 {
		tb.Fatalf("netns: %d hosts from .%d do not fit in %s.0/24", len(hosts), opt.FirstIP, opt.Subnet)
	}
	RemoveStale(tb.Logf)
	n := &Net{
		tb:     tb,
		prefix: fmt.Sprintf("%s%d-%d-", Prefix, os.Getpid(), seq.Add(1)),
		subnet: opt.Subnet,
		logDir: tb.TempDir(),
		hosts:  map[string]*Host{},
		nextIP: opt.FirstIP,
	}
	tb.Cleanup(n.Close)
	hub := n.prefix + "hub"
	if err := n.ip("netns", "add", hub); err != nil {
		tb.Fatal(err)
	}
	n.order = append(n.order, "") // the hub is deleted with the hosts
	if err := n.ipIn(hub, "link", "add", bridgeDev, "type", "bridge"); err != nil {
		tb.Fatal(err)
	}
	if err := n.ipIn(hub, "link", "set", bridgeDev, "up"); err != nil {
		tb.Fatal(err)
	}
	for _, h := range hosts {
		if _, err := n.AddHost(h); err != nil {
			tb.Fatal(err)
		}
	}
	return n
}

// Hub is the hub namespace's name.
func (n *Net) Hub() string { return n.prefix + "hub" }

// AddHost adds a host to the network: its namespace with loopback up, a
// veth link to the hub's bridge and the next address.
func (n *Net) AddHost(name string) (*Host, error) {
	if !hostName.MatchString(name) || name == "hub" {
		return nil, fmt.Errorf("netns: host name %q: use 1-10 lowercase letters and digits, starting with a letter, not \"hub\"", name)
	}
	n.mu.Lock()
	if _, dup := n.hosts[name]; dup {
		n.mu.Unlock()
		return nil, fmt.Errorf("netns: host %q added twice", name)
	}
	h := &Host{Name: name, NS: n.prefix + name, IP: fmt.Sprintf("%s.%d", n.subnet, n.nextIP), Dev: hostDev, HubDev: "h-" + name}
	n.nextIP++
	n.hosts[name] = h
	n.order = append(n.order, name)
	n.mu.Unlock()

	hub := n.Hub()
	steps := [][]string{
		{"netns", "add", h.NS},
		// Both ends are made in the hub and the host: never in the
		// namespace this process runs in.
		{"-n", hub, "link", "add", h.HubDev, "type", "veth", "peer", "name", h.Dev, "netns", h.NS},
		{"-n", hub, "link", "set", h.HubDev, "master", bridgeDev, "up"},
		{"-n", h.NS, "link", "set", "lo", "up"},
		{"-n", h.NS, "addr", "add", h.IP + "/24", "dev", h.Dev},
		{"-n", h.NS, "link", "set", h.Dev, "up"},
	}
	for _, s := range steps {
		if err := n.ip(s...); err != nil {
			return nil, err
		}
	}
	return h, nil
}

// Host returns the host of that name; it fails the test if there is none.
func (n *Net) Host(name string) *Host {
	n.mu.Lock()
	defer n.mu.Unlock()
	h, ok := n.hosts[name]
	if !ok {
		n.tb.Fatalf("netns: no host %q", name)
	}
	return h
}

// ip runs the ip command with a bounded time.
func (n *Net) ip(args ...string) error {
	return runIP(args...)
}

func (n *Net) ipIn(ns string, args ...string) error {
	return runIP(append([]string{"-n", ns}, args...)...)
}

func runIP(args ...string) error {
	return command(10*time.Second, "ip", args...)
}

// command runs a short command to its end, bounded by timeout, and returns
// an error with its output when it fails.
func command(timeout time.Duration, name string, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.WaitDelay = time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return nil
}

// Cut takes a host's link down at the hub's end, as if its cable were
// pulled: packets to and from the host are dropped while its own end and
// address stay configured. Restore puts it back.
func (n *Net) Cut(host string) error {
	h := n.Host(host)
	return n.ipIn(n.Hub(), "link", "set", h.HubDev, "down")
}

// Restore brings a cut link up again.
func (n *Net) Restore(host string) error {
	h := n.Host(host)
	return n.ipIn(n.Hub(), "link", "set", h.HubDev, "up")
}

// Close stops every process still running in the namespaces (the ones
// Start started, then any they left, such as their children), deletes the
// namespaces and, if the test failed, prints the tail of every process log.
// Cleanup calls it; calling it again does nothing.
func (n *Net) Close() {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return
	}
	n.closed = true
	procs := append([]*Proc(nil), n.procs...)
	queues := append([]*delayQueue(nil), n.queues...)
	n.mu.Unlock()
	for _, p := range procs {
		p.Stop(3 * time.Second)
	}
	if n.tb.Failed() {
		for _, p := range procs {
			n.tb.Logf("--- last lines of %s (%s, %s) ---\n%s", p.Name, p.Log, p.state(), Tail(p.Log, 40))
		}
	}
	var names []string
	for _, name := range n.order {
		if name == "" {
			names = append(names, n.Hub())
		} else {
			names = append(names, n.prefix+name)
		}
	}
	// Delete the hosts first, the hub last.
	for i := len(names) - 1; i >= 0; i-- {
		if err := removeNS(names[i]); err != nil {
			n.tb.Errorf("netns: %v", err)
		}
	}
	for _, q := range queues {
		q.close()
	}
}

// removeNS kills whatever still runs in a namespace of ours, then deletes
// it. A namespace that is not there is fine.
func removeNS(ns string) error {
	if _, err := os.Stat(filepath.Join("/run/netns", ns)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	for range 3 {
		pids, _ := nsPIDs(ns)
		if len(pids) == 0 {
			break
		}
		for _, pid := range pids {
			syscall.Kill(pid, syscall.SIGKILL)
		}
		waitGone(pids, 3*time.Second)
	}
	if err := runIP("netns", "delete", ns); err != nil {
		return err
	}
	return nil
}

// nsPIDs lists the processes in a namespace of ours.
func nsPIDs(ns string) ([]int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "ip", "netns", "pids", ns).Output()
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, f := range strings.Fields(string(out)) {
		if pid, err := strconv.Atoi(f); err == nil && pid != os.Getpid() {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

func waitGone(pids []int, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		alive := false
		for _, pid := range pids {
			if syscall.Kill(pid, 0) == nil {
				alive = true
			}
		}
		if !alive {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var staleName = regexp.MustCompile(`^` + regexp.QuoteMeta(Prefix) + `([0-9]+)-[0-9]+-[a-z][a-z0-9]*$`)

// RemoveStale deletes namespaces that an earlier run of this package left
// behind: only names "ffmh-<pid>-<n>-<host>" whose PID no longer runs (a
// live PID may be a parallel run). Their processes are killed first.
// logf (may be nil) hears what was removed.
func RemoveStale(logf func(string, ...any)) {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return
	}
	for _, e := range entries {
		m := staleName.FindStringSubmatch(e.Name())
		if m == nil {
			continue
		}
		pid, _ := strconv.Atoi(m[1])
		if pid == os.Getpid() || !errors.Is(syscall.Kill(pid, 0), syscall.ESRCH) {
			continue // alive (or not ours to judge)
		}
		err := removeNS(e.Name())
		if logf != nil {
			if err != nil {
				logf("netns: leftover namespace %s of a dead run (pid %d): %v", e.Name(), pid, err)
			} else {
				logf("netns: removed leftover namespace %s of a dead run (pid %d)", e.Name(), pid)
			}
		}
	}
}
