// Package cluster brings FaaSFlow clusters up and down. The local provider
// runs the gateway and N workers as processes on 127.0.0.1, remembering
// their PIDs in a state directory so that `down` stops exactly them.
package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/faasflow/faasflow-go/api"
)

// LocalConfig configures a local cluster.
type LocalConfig struct {
	// StateDir holds the cluster's state file, data and logs.
	StateDir string
	// BinDir holds faasflow-gateway and faasflow-worker.
	BinDir string
	// Workers is the number of workers (default 3).
	Workers int
	// Host is the loopback address to listen on (default 127.0.0.1).
	Host string
	// GatewayPort is the gateway's port (default 7000); workers use
	// WorkerPort, WorkerPort+1, ... (default 8000).
	GatewayPort int
	WorkerPort  int
	// KeepAlive is passed to workers (0 = their default).
	KeepAlive time.Duration
	// Keep is how many invocations the gateway remembers (0 = its default).
	Keep int
	// Data is the data profile and the services it uses.
	Data DataConfig
	// Runtime is how workers run function instances: "process" (default)
	// or "docker" (the daemon at $DOCKER_HOST).
	Runtime string
}

// DataConfig chooses the cluster's data profile: "embedded" (default; no
// services) or "full" (Redis, Kafka and CouchDB at the given addresses).
type DataConfig struct {
	Profile    string
	Redis      string // host:port
	Kafka      string // host:port[,host:port...]
	CouchDB    string // URL
	RemoteTier string // overrides the profile's remote tier: direct, kafka, couchdb
}

// workerArgs returns the worker flags for the data profile: the services
// go to workers only when the profile or the remote tier uses them, so an
// embedded cluster stays free of them even where they run.
func (d DataConfig) workerArgs() []string {
	full := d.Profile == "full"
	var args []string
	add := func(use bool, flag, value string) {
		if use && value != "" {
			args = append(args, flag, value)
		}
	}
	add(true, "--data-profile", d.Profile)
	add(true, "--remote", d.RemoteTier)
	add(full, "--redis", d.Redis)
	add(full || d.RemoteTier == "kafka", "--kafka", d.Kafka)
	add(full || d.RemoteTier == "couchdb", "--couchdb", d.CouchDB)
	return args
}

// State is what `cluster up` remembers about a running cluster.
type State struct {
	Provider  string    `json:"provider"`
	Gateway   string    `json:"gateway"`
	Started   time.Time `json:"started"`
	Processes []Process `json:"processes"`
}

// Credentials of a local cluster, in its state directory, mode 0600,
// fresh at every `cluster up` (docs/security.md).
const (
	// TokenFile holds the API token users send to the gateway.
	TokenFile = "token"
	// SecretFile holds the secret the gateway and workers sign their
	// requests to each other with.
	SecretFile = "secret"
)

// Process is one process of a local cluster.
type Process struct {
	Name   string `json:"name"`
	PID    int    `json:"pid"`
	Binary string `json:"binary"`
	Listen string `json:"listen"`
	Log    string `json:"log"`
}

const stateFile = "cluster.json"

// LoadState reads the state of the cluster in dir; it returns an error
// wrapping os.ErrNotExist when no cluster is up there.
func LoadState(dir string) (*State, error) {
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, err
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("read cluster state %s: %w", filepath.Join(dir, stateFile), err)
	}
	return &s, nil
}

func saveState(dir string, s *State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, stateFile), b, 0o644)
}

// Up starts a local cluster and waits until every worker has registered
// with the gateway.
func Up(ctx context.Context, cfg LocalConfig) (*State, error) {
	if cfg.Workers <= 0 {
		cfg.Workers = 3
	}
	if cfg.Host == "" {
		cfg.Host = "127.0.0.1"
	}
	if cfg.GatewayPort == 0 {
		cfg.GatewayPort = 7000
	}
	if cfg.WorkerPort == 0 {
		cfg.WorkerPort = 8000
	}
	if s, err := LoadState(cfg.StateDir); err == nil {
		if alive := s.Alive(); len(alive) > 0 {
			return nil, fmt.Errorf("a cluster is already up in %s (%d processes): run `faasflow cluster down` first", cfg.StateDir, len(alive))
		}
	}
	gwBin, err := findBinary(cfg.BinDir, "faasflow-gateway")
	if err != nil {
		return nil, err
	}
	wkBin, err := findBinary(cfg.BinDir, "faasflow-worker")
	if err != nil {
		return nil, err
	}
	gwAddr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.GatewayPort))
	addrs := []string{gwAddr}
	for i := 0; i < cfg.Workers; i++ {
		addrs = append(addrs, net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.WorkerPort+i)))
	}
	for _, a := range addrs {
		if err := checkFree(a); err != nil {
			return nil, err
		}
	}
	dataDir := filepath.Join(cfg.StateDir, "data")
	if err := os.RemoveAll(dataDir); err != nil {
		return nil, fmt.Errorf("clear old cluster data: %w", err)
	}
	logDir := filepath.Join(cfg.StateDir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return nil, err
	}
	// Authentication is always on: fresh credentials for every cluster.
	tokenPath, secretPath := filepath.Join(cfg.StateDir, TokenFile), filepath.Join(cfg.StateDir, SecretFile)
	token, err := api.WriteSecretFile(tokenPath)
	if err != nil {
		return nil, fmt.Errorf("cluster API token: %w", err)
	}
	if _, err := api.WriteSecretFile(secretPath); err != nil {
		return nil, fmt.Errorf("cluster secret: %w", err)
	}
	s := &State{Provider: "local", Gateway: "http://" + gwAddr, Started: time.Now()}
	start := func(name, bin string, args ...string) error {
		p, err := spawn(name, bin, filepath.Join(logDir, name+".log"), args...)
		if err != nil {
			return err
		}
		s.Processes = append(s.Processes, p)
		return saveState(cfg.StateDir, s)
	}
	fail := func(err error) (*State, error) {
		stopAll(s.Processes, 5*time.Second)
		os.Remove(filepath.Join(cfg.StateDir, stateFile))
		return nil, err
	}
	gwArgs := []string{"--listen", gwAddr, "--data-dir", filepath.Join(dataDir, "gateway"), "--token-file", tokenPath, "--secret-file", secretPath}
	if cfg.Data.Profile == "full" && cfg.Data.CouchDB != "" {
		gwArgs = append(gwArgs, "--couchdb", cfg.Data.CouchDB)
	}
	if cfg.Keep > 0 {
		gwArgs = append(gwArgs, "--keep", strconv.Itoa(cfg.Keep))
	}
	if err := start("gateway", gwBin, gwArgs...); err != nil {
		return fail(err)
	}
	s.Processes[0].Listen = gwAddr
	for i := 0; i < cfg.Workers; i++ {
		id := fmt.Sprintf("worker-%d", i)
		args := []string{"--id", id, "--listen", addrs[i+1], "--gateway", s.Gateway, "--data-dir", filepath.Join(dataDir, id), "--secret-file", secretPath}
		if cfg.KeepAlive > 0 {
			args = append(args, "--keep-alive", cfg.KeepAlive.String())
		}
		args = append(args, cfg.Data.workerArgs()...)
		if cfg.Runtime != "" {
			args = append(args, "--runtime", cfg.Runtime)
		}
		if err := start(id, wkBin, args...); err != nil {
			return fail(err)
		}
		s.Processes[len(s.Processes)-1].Listen = addrs[i+1]
	}
	if err := saveState(cfg.StateDir, s); err != nil {
		return fail(err)
	}
	if err := waitReady(ctx, s, cfg.Workers, token); err != nil {
		return fail(err)
	}
	return s, nil
}

// waitReady polls the gateway until n workers have registered, failing
// early if a process dies. It asks with the token, so a gateway that
// refuses it fails the start.
func waitReady(ctx context.Context, s *State, n int, token string) error {
	client := api.NewClient(s.Gateway)
	client.Token = token
	deadline := time.Now().Add(30 * time.Second)
	for {
		for _, p := range s.Processes {
			if !p.alive() {
				return fmt.Errorf("%s exited during start-up; its log %s ends with:\n%s", p.Name, p.Log, tail(p.Log, 20))
			}
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		got, err := client.Health(cctx)
		if err == nil && got >= n {
			_, err = client.Workers(cctx) // the one call here that needs the token
		}
		cancel()
		if err == nil && got >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("cluster not ready after 30s (%d of %d workers registered; last error: %v); see logs in %s", got, n, err, filepath.Dir(s.Processes[0].Log))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Down stops the cluster in dir: workers first, then the gateway. Each gets
// SIGTERM and, after grace, SIGKILL.
func Down(dir string, grace time.Duration) error {
	s, err := LoadState(dir)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	}
	procs := append([]Process(nil), s.Processes...)
	// Reverse: the gateway was started first and stops last.
	for i, j := 0, len(procs)-1; i < j; i, j = i+1, j-1 {
		procs[i], procs[j] = procs[j], procs[i]
	}
	if err := stopAll(procs, grace); err != nil {
		return err
	}
	return os.Remove(filepath.Join(dir, stateFile))
}

// Alive returns the cluster's processes that are still running.
func (s *State) Alive() []Process {
	var out []Process
	for _, p := range s.Processes {
		if p.alive() {
			out = append(out, p)
		}
	}
	return out
}

func stopAll(procs []Process, grace time.Duration) error {
	for _, p := range procs {
		if p.alive() {
			syscall.Kill(p.PID, syscall.SIGTERM)
		}
	}
	deadline := time.Now().Add(grace)
	for _, p := range procs {
		for p.alive() && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if p.alive() {
			syscall.Kill(p.PID, syscall.SIGKILL)
		}
	}
	var still []string
	for _, p := range procs {
		for i := 0; i < 40 && p.alive(); i++ {
			time.Sleep(50 * time.Millisecond)
		}
		if p.alive() {
			still = append(still, fmt.Sprintf("%s (pid %d)", p.Name, p.PID))
		}
	}
	if len(still) > 0 {
		return fmt.Errorf("could not stop %s", strings.Join(still, ", "))
	}
	return nil
}

// alive reports whether the PID still runs the program we started (not a
// zombie, not a reused PID).
func (p Process) alive() bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.PID))
	if err != nil {
		return false
	}
	// The state follows the parenthesised command name.
	if i := strings.LastIndexByte(string(stat), ')'); i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	exe, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", p.PID))
	if err != nil {
		return true // not ours to inspect; the PID exists
	}
	return filepath.Base(strings.TrimSuffix(exe, " (deleted)")) == filepath.Base(p.Binary)
}

// spawn starts a detached process that outlives the CLI.
func spawn(name, bin, logPath string, args ...string) (Process, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		return Process{}, err
	}
	defer logf.Close()
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return Process{}, fmt.Errorf("start %s: %w", name, err)
	}
	p := Process{Name: name, PID: cmd.Process.Pid, Binary: bin, Log: logPath}
	cmd.Process.Release()
	return p, nil
}

func findBinary(dir, name string) (string, error) {
	if dir != "" {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return filepath.Abs(p)
	}
	return "", fmt.Errorf("cannot find %s in %s or on PATH: run `make build` first", name, dir)
}

func checkFree(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("address %s is taken (%v): is another cluster running? stop it with `faasflow cluster down`, or pick other ports", addr, err)
	}
	return ln.Close()
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(no log: " + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Tail returns the last n lines of a process's log.
func (p Process) Tail(n int) string { return tail(p.Log, n) }
