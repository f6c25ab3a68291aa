//go:build linux

package multihost_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/internal/netns"
)

// home is the CLI's FAASFLOW_HOME for every test of the package, so that
// functions built by one deploy are reused by the next.
var home string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ffmh-home")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	home = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	gatewayPort = 7000
	workerPort  = 8000
	// lostAfter is the gateway's default heartbeat limit; the tests want
	// loss noticed within lostLimit.
	lostAfter = 3 * time.Second
	lostLimit = 5 * time.Second
)

// cluster is a gateway (host "gw") and workers (hosts "w0", "w1", ...),
// each in its own namespace, started from the binaries of `make build`.
type cluster struct {
	t       *testing.T
	net     *netns.Net
	bin     string
	data    string
	gwURL   string
	api     *api.Client // its connections start in the gateway's namespace
	gateway *netns.Proc
	gwArgs  []string // to start it again
	workers []*netns.Proc

	token, tokenFile, secretFile string // empty without authentication
}

// clusterOptions tune startCluster.
type clusterOptions struct {
	Workers     int      // default 3
	GatewayArgs []string // more flags for the gateway
	WorkerArgs  []string // more flags for every worker
}

// requireNet skips the test, saying why, where namespaces cannot be made
// (not root, no ip command). CI runs as root with iproute2 installed by
// scripts/services/netns.sh, and counts a skip as a failure.
func requireNet(t *testing.T) {
	t.Helper()
	if err := netns.Check(); err != nil {
		t.Skipf("multi-host tests skipped: %v", err)
	}
}

// binDir is where the binaries are: $FAASFLOW_BIN, else the module's bin/.
func binDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("FAASFLOW_BIN")
	if dir == "" {
		abs, err := filepath.Abs("../../bin")
		if err != nil {
			t.Fatal(err)
		}
		dir = abs
	}
	for _, b := range []string{"faasflow", "faasflow-gateway", "faasflow-worker", "faasflow-synthetic"} {
		if _, err := os.Stat(filepath.Join(dir, b)); err != nil {
			t.Fatalf("%s is missing: run `make build` first (or set FAASFLOW_BIN to the directory of the binaries)", filepath.Join(dir, b))
		}
	}
	return dir
}

func workerID(i int) string   { return fmt.Sprintf("worker-%d", i) }
func workerHost(i int) string { return fmt.Sprintf("w%d", i) }

// startCluster makes the hosts, starts the gateway and the workers and
// waits until every worker has registered.
func startCluster(t *testing.T, opt clusterOptions) *cluster {
	t.Helper()
	requireNet(t)
	if opt.Workers <= 0 {
		opt.Workers = 3
	}
	bin := binDir(t)
	// Data directories hold the workers' Unix sockets: keep their paths
	// short (t.TempDir's can be too long). Removed after the processes
	// stopped (cleanups run last-in first-out).
	data, err := os.MkdirTemp("", "ffmh")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(data) })
	hosts := []string{"gw"}
	for i := range opt.Workers {
		hosts = append(hosts, workerHost(i))
	}
	n := netns.New(t, netns.Options{}, hosts...)
	c := &cluster{t: t, net: n, bin: bin, data: data}
	gwAddr := fmt.Sprintf("%s:%d", n.Host("gw").IP, gatewayPort)
	c.gwURL = "http://" + gwAddr
	c.setupAuth()
	c.api = &api.Client{Base: c.gwURL, HTTP: c.withToken(n.HTTPClient("gw", 30*time.Second))}

	gwArgs := append([]string{"--listen", gwAddr, "--data-dir", filepath.Join(data, "gateway")}, opt.GatewayArgs...)
	c.gwArgs = append(gwArgs, c.authGatewayArgs()...)
	c.startGateway("gateway")
	for i := range opt.Workers {
		h := n.Host(workerHost(i))
		args := append([]string{
			"--id", workerID(i),
			"--listen", fmt.Sprintf("%s:%d", h.IP, workerPort),
			"--gateway", c.gwURL,
			"--data-dir", filepath.Join(data, workerID(i)),
		}, opt.WorkerArgs...)
		args = append(args, c.authWorkerArgs()...)
		p, err := n.Start(h.Name, workerID(i), nil, filepath.Join(bin, "faasflow-worker"), args...)
		if err != nil {
			t.Fatal(err)
		}
		c.workers = append(c.workers, p)
	}
	c.waitWorkers(opt.Workers, 30*time.Second)
	return c
}

// waitWorkers waits until n workers are registered and not lost, failing
// early if a process exits.
// startGateway starts the gateway process, its log named name.
func (c *cluster) startGateway(name string) {
	c.t.Helper()
	var err error
	c.gateway, err = c.net.Start("gw", name, nil, filepath.Join(c.bin, "faasflow-gateway"), c.gwArgs...)
	if err != nil {
		c.t.Fatal(err)
	}
}

func (c *cluster) waitWorkers(n int, limit time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	var last error
	for {
		for _, p := range append([]*netns.Proc{c.gateway}, c.workers...) {
			if p.Exited() {
				c.t.Fatalf("%s exited during start-up; its log ends with:\n%s", p.Name, netns.Tail(p.Log, 20))
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		got, err := c.api.Health(ctx)
		cancel()
		if err == nil && got >= n {
			return
		}
		last = err
		if time.Now().After(deadline) {
			c.t.Fatalf("cluster not ready after %s: %d of %d workers registered (last error: %v)", limit, got, n, last)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// cli runs the faasflow CLI inside the gateway's namespace, bounded by
// timeout, and returns its standard output; it fails the test on error.
func (c *cluster) cli(timeout time.Duration, args ...string) string {
	c.t.Helper()
	r := c.cliResult(timeout, args...)
	if r.Err != nil {
		c.t.Fatalf("faasflow %s: %v\n%s", strings.Join(args, " "), r.Err, r.Stdout)
	}
	return r.Stdout
}

func (c *cluster) cliResult(timeout time.Duration, args ...string) netns.Result {
	env := []string{"FAASFLOW_HOME=" + home, "FAASFLOW_GATEWAY=" + c.gwURL}
	env = append(env, c.authCLIEnv()...)
	return c.net.Run("gw", timeout, env, filepath.Join(c.bin, "faasflow"), args...)
}

// deploy deploys a workflow file with the CLI.
func (c *cluster) deploy(file string, flags ...string) {
	c.t.Helper()
	out := c.cli(3*time.Minute, append([]string{"deploy", file}, flags...)...)
	c.t.Logf("%s", strings.TrimSpace(out))
}

// invokeCLI runs one invocation to its end with the CLI (invoke --full) and
// returns its record.
func (c *cluster) invokeCLI(name, input string, timeout time.Duration) *api.Invocation {
	c.t.Helper()
	r := c.cliResult(timeout, "invoke", name, "--input", input, "--full")
	var inv api.Invocation
	if err := json.Unmarshal([]byte(r.Stdout), &inv); err != nil {
		c.t.Fatalf("faasflow invoke %s: %v (output %q, error %v)", name, err, r.Stdout, r.Err)
	}
	return &inv
}

// invokeAsync starts an invocation and returns its request ID.
func (c *cluster) invokeAsync(name string, input map[string]json.RawMessage) string {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	inv, err := c.api.Invoke(ctx, name, &api.InvokeRequest{Async: true, Input: input})
	if err != nil {
		c.t.Fatalf("invoke %s: %v", name, err)
	}
	return inv.RequestID
}

// status returns an invocation's record now.
func (c *cluster) status(id string) (*api.Invocation, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.api.Invocation(ctx, id, 0)
}

// awaitEnd waits up to limit for an invocation to end; nil when it did not
// (the caller says what that means). It polls, so that a gateway that
// never answers a long poll cannot hold the test.
func (c *cluster) awaitEnd(id string, limit time.Duration) (*api.Invocation, time.Time) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		inv, err := c.status(id)
		if err == nil && inv.Ended() {
			return inv, time.Now()
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil, time.Time{}
}

// workerState returns what the gateway says about a worker.
func (c *cluster) workerState(id string) (api.WorkerInfo, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	ws, err := c.api.Workers(ctx)
	if err != nil {
		return api.WorkerInfo{}, err
	}
	for _, w := range ws {
		if w.ID == id {
			return w, nil
		}
	}
	return api.WorkerInfo{}, fmt.Errorf("the gateway lists no worker %s", id)
}

// waitLost polls GET /v1/workers (from inside the gateway's namespace)
// until the worker is listed as lost == want, up to limit; it returns the
// time it saw that, or false.
func (c *cluster) waitLost(id string, want bool, limit time.Duration) (time.Time, bool) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if w, err := c.workerState(id); err == nil && w.Lost == want {
			return time.Now(), true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Time{}, false
}

// chainYAML is a three-function synthetic chain a → b → c, each passing
// the input x on (so the result "out" equals the input), b taking slow
// seconds. Placed with chainTable, each function runs on its own worker,
// b on worker-1.
func chainYAML(name string, slow float64) string {
	return fmt.Sprintf(`name: %s
inputs: {x: a.in}
functions:
  a: {synthetic: {seconds: 0}, inputs: [in], outputs: {in: b.in}}
  b: {synthetic: {seconds: %g}, inputs: [in], outputs: {in: c.in}}
  c: {synthetic: {seconds: 0}, inputs: [in], outputs: {in: $result.out}}
`, name, slow)
}

var chainPlacement = []string{"--placement", "static", "--table", "a=worker-0,b=worker-1,c=worker-2"}

// writeChain writes chainYAML to a file and returns its path.
func writeChain(t *testing.T, name string, slow float64) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".yaml")
	if err := os.WriteFile(path, []byte(chainYAML(name, slow)), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// checkChain fails the test unless inv succeeded with out == want.
func checkChain(t *testing.T, inv *api.Invocation, want string) {
	t.Helper()
	if inv.Status != api.StatusSucceeded {
		t.Fatalf("invocation %s: %s: %s", inv.RequestID, inv.Status, inv.Error)
	}
	var got string
	if err := json.Unmarshal(inv.Result["out"], &got); err != nil || got != want {
		t.Fatalf("invocation %s: result out = %s (%v), want %q", inv.RequestID, inv.Result["out"], err, want)
	}
}

// startRunning starts the slow chain and waits until its slow step runs on
// worker-1: c has not run, and a moment passed for a and the start of b.
func (c *cluster) startRunning(name, input string, settle time.Duration) string {
	c.t.Helper()
	id := c.invokeAsync(name, map[string]json.RawMessage{"x": json.RawMessage(fmt.Sprintf("%q", input))})
	time.Sleep(settle)
	inv, err := c.status(id)
	if err != nil {
		c.t.Fatal(err)
	}
	if inv.Ended() {
		c.t.Fatalf("invocation %s ended before the fault was injected: %s %s", id, inv.Status, inv.Error)
	}
	return id
}

// Authentication. When the binaries have the flags (their -h output names
// them), every cluster gets a fresh API token and cluster secret in 0600
// files: the gateway --token-file and --secret-file, the workers
// --secret-file, the CLI $FAASFLOW_TOKEN, and the test's own HTTP client
// an Authorization header. Binaries without the flags run open.
type authSupport struct{ gatewayToken, gatewaySecret, workerSecret bool }

var (
	authOnce sync.Once
	authHas  authSupport
)

// detectAuth reads the binaries' flags once (running them with -h does
// not touch the network).
func detectAuth(bin string) authSupport {
	authOnce.Do(func() {
		help := func(prog string) string {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			out, _ := exec.CommandContext(ctx, filepath.Join(bin, prog), "-h").CombinedOutput()
			return string(out)
		}
		gw, wk := help("faasflow-gateway"), help("faasflow-worker")
		authHas.gatewayToken = strings.Contains(gw, "-token-file")
		// The secret only works when both sides have it.
		authHas.workerSecret = strings.Contains(wk, "-secret-file") && strings.Contains(gw, "-secret-file")
		authHas.gatewaySecret = authHas.workerSecret
	})
	return authHas
}

// setupAuth makes the token and secret files this cluster's binaries take.
func (c *cluster) setupAuth() {
	c.t.Helper()
	has := detectAuth(c.bin)
	if !has.gatewayToken && !has.gatewaySecret {
		c.t.Logf("auth: the binaries have no --token-file/--secret-file flags; running without authentication")
		return
	}
	dir := c.t.TempDir()
	write := func(name string) (string, string) {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			c.t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(hex.EncodeToString(b)+"\n"), 0o600); err != nil {
			c.t.Fatal(err)
		}
		return path, hex.EncodeToString(b)
	}
	if has.gatewayToken {
		c.tokenFile, c.token = write("token")
	}
	if has.gatewaySecret {
		c.secretFile, _ = write("secret")
	}
	c.t.Logf("auth: API token %v, cluster secret %v", c.token != "", c.secretFile != "")
}

func (c *cluster) authGatewayArgs() []string {
	var args []string
	if c.tokenFile != "" {
		args = append(args, "--token-file", c.tokenFile)
	}
	if c.secretFile != "" {
		args = append(args, "--secret-file", c.secretFile)
	}
	return args
}

func (c *cluster) authWorkerArgs() []string {
	if c.secretFile != "" {
		return []string{"--secret-file", c.secretFile}
	}
	return nil
}

func (c *cluster) authCLIEnv() []string {
	if c.token != "" {
		return []string{"FAASFLOW_TOKEN=" + c.token}
	}
	return nil
}

// bearer adds the API token to every request.
type bearer struct {
	token string
	next  http.RoundTripper
}

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return b.next.RoundTrip(r)
}

// withToken makes an HTTP client send the cluster's API token, if any.
func (c *cluster) withToken(hc *http.Client) *http.Client {
	if c.token != "" {
		hc.Transport = bearer{token: c.token, next: hc.Transport}
	}
	return hc
}
