// Package docker runs function instances as Docker containers: a
// runtime.Backend on the Docker Engine API (the Docker SDK's client).
//
// Each function gets an image, tagged after the sha256 of its code and
// built once: a Go function (any static executable) is its binary alone in
// a FROM-scratch image; a Python function is its zip application on a base
// image holding the worker's interpreter and standard library (see
// python.go). Containers run with no network, a read-only root, the
// worker's user, the function's CPU and memory limits, and the agent's
// Unix socket bind-mounted at the path the instance is given.
//
// Containers carry the labels faasflow.cluster and faasflow.worker. New
// removes leftovers carrying this worker's pair, Close removes the
// containers it made; no other container is ever touched. Images are kept
// as a cache (label faasflow.image).
package docker

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/build"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/mount"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/client"
	"github.com/docker/docker/pkg/stdcopy"

	"github.com/faasflow/faasflow-go/agents/runtime"
	"github.com/faasflow/faasflow-go/fn/protocol"
)

// Labels the backend puts on its containers and images.
const (
	LabelCluster  = "faasflow.cluster"  // the cluster's namespace
	LabelWorker   = "faasflow.worker"   // the worker's ID
	LabelFunction = "faasflow.function" // the function's name
	LabelInstance = "faasflow.instance" // the instance's ID
	LabelImage    = "faasflow.image"    // on images: "function" or "python"
)

// imageRepo is the repository of function images; the tag is a sha256.
const imageRepo = "faasflow-fn"

// Config configures a Backend.
type Config struct {
	// Host is the Docker daemon's address, such as
	// unix:///var/run/docker.sock (default: $DOCKER_HOST, else Docker's
	// default socket).
	Host string
	// Cluster and Worker are the values of the faasflow.cluster and
	// faasflow.worker labels of this worker's containers. Both are required.
	Cluster, Worker string
}

// Backend starts function instances as containers.
type Backend struct {
	cfg  Config
	cli  *client.Client
	log  *slog.Logger
	user string // uid:gid of the worker, which owns the agent's socket

	// ctx ends with Close; it bounds the waits and log streams of containers.
	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	closed  bool
	images  map[string]*imageState     // by reference
	sums    map[string]fileSum         // by executable path
	pyBases map[string]pythonBaseImage // by interpreter path
}

var _ runtime.Backend = (*Backend)(nil)

// imageState serializes the preparation of one image.
type imageState struct {
	mu    sync.Mutex
	ready bool
}

// fileSum is a file's sha256, valid while its size and time are the same.
type fileSum struct {
	size  int64
	mtime time.Time
	sum   string
}

// New connects to the Docker daemon and removes the containers left by an
// earlier run of this worker (those labelled with its cluster and worker).
func New(ctx context.Context, cfg Config, log *slog.Logger) (*Backend, error) {
	if cfg.Cluster == "" || cfg.Worker == "" {
		return nil, errors.New("docker runtime: a cluster namespace and a worker ID are needed to label containers")
	}
	opts := []client.Opt{client.FromEnv, client.WithAPIVersionNegotiation()}
	if cfg.Host != "" {
		opts = append(opts, client.WithHost(cfg.Host))
	}
	cli, err := client.NewClientWithOpts(opts...)
	if err != nil {
		return nil, fmt.Errorf("docker runtime: client for %q: %w (set --docker-host or DOCKER_HOST to the daemon's address, e.g. unix:///var/run/docker.sock)", cfg.Host, err)
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(pctx); err != nil {
		cli.Close()
		return nil, fmt.Errorf("docker runtime: reach the Docker daemon at %s: %w (is dockerd running? scripts/services/docker.sh start starts one and prints its DOCKER_HOST)", cli.DaemonHost(), err)
	}
	cli.NegotiateAPIVersion(pctx)
	b := &Backend{
		cfg: cfg, cli: cli, log: log.With("component", "docker"),
		user:   fmt.Sprintf("%d:%d", os.Getuid(), os.Getgid()),
		images: map[string]*imageState{}, sums: map[string]fileSum{}, pyBases: map[string]pythonBaseImage{},
	}
	b.ctx, b.cancel = context.WithCancel(context.Background())
	n, err := b.removeOurs(ctx)
	if err != nil {
		b.cancel()
		cli.Close()
		return nil, fmt.Errorf("docker runtime: remove leftover containers of worker %s: %w", cfg.Worker, err)
	}
	b.log.Info("docker runtime ready", "host", cli.DaemonHost(), "api", cli.ClientVersion(), "leftovers_removed", n)
	return b, nil
}

// Close removes the containers of this worker and ends the backend. The
// pool using it should be closed first.
func (b *Backend) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := b.removeOurs(ctx)
	b.cancel()
	b.wg.Wait()
	b.cli.Close()
	if err != nil {
		return fmt.Errorf("docker runtime: remove the containers of worker %s: %w", b.cfg.Worker, err)
	}
	return nil
}

// ourFilter selects the containers labelled with this worker's cluster and
// worker ID.
func (b *Backend) ourFilter() filters.Args {
	return filters.NewArgs(
		filters.Arg("label", LabelCluster+"="+b.cfg.Cluster),
		filters.Arg("label", LabelWorker+"="+b.cfg.Worker),
	)
}

// removeOurs force-removes every container of this worker, running or not.
func (b *Backend) removeOurs(ctx context.Context) (int, error) {
	list, err := b.cli.ContainerList(ctx, container.ListOptions{All: true, Filters: b.ourFilter()})
	if err != nil {
		return 0, err
	}
	var errs []error
	n := 0
	for _, c := range list {
		// The daemon filtered by label already; check again, as removing
		// someone else's container is not an option.
		if c.Labels[LabelCluster] != b.cfg.Cluster || c.Labels[LabelWorker] != b.cfg.Worker {
			continue
		}
		err := b.cli.ContainerRemove(ctx, c.ID, container.RemoveOptions{Force: true})
		if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) { // conflict: removal already in progress
			errs = append(errs, err)
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// Start creates and starts a container of spec's function, building its
// image first if needed.
func (b *Backend) Start(ctx context.Context, spec runtime.Spec, env []string) (runtime.Process, error) {
	socket, id := envValue(env, protocol.EnvSocket), envValue(env, protocol.EnvInstance)
	if socket == "" {
		return nil, fmt.Errorf("docker runtime: %s missing from the instance's environment", protocol.EnvSocket)
	}
	img, cmd, err := b.image(ctx, spec)
	if err != nil {
		return nil, err
	}
	cfg := &container.Config{
		Image:           img,
		Cmd:             cmd,
		Env:             append(slices.Clone(spec.Env), env...),
		User:            b.user,
		NetworkDisabled: true,
		Labels: map[string]string{
			LabelCluster: b.cfg.Cluster, LabelWorker: b.cfg.Worker,
			LabelFunction: spec.Function, LabelInstance: id,
		},
	}
	host := &container.HostConfig{
		NetworkMode: network.NetworkNone,
		// The socket alone, not its directory: the worker's data directory
		// holds other functions' code and data.
		Mounts:         []mount.Mount{{Type: mount.TypeBind, Source: socket, Target: socket, ReadOnly: true}},
		ReadonlyRootfs: true,
		Tmpfs:          map[string]string{"/tmp": "rw,nosuid,nodev,mode=1777"},
		CapDrop:        []string{"ALL"},
		SecurityOpt:    []string{"no-new-privileges"},
		LogConfig:      container.LogConfig{Type: "json-file", Config: map[string]string{"max-size": "10m", "max-file": "1"}},
	}
	if spec.CPU > 0 {
		host.NanoCPUs = int64(spec.CPU * 1e9)
	}
	if spec.MemoryMB > 0 {
		host.Memory = int64(spec.MemoryMB) << 20
		host.MemorySwap = host.Memory // no swap beyond the limit
	}
	name := containerName(b.cfg.Cluster, b.cfg.Worker, spec.Function, id)
	created, err := b.cli.ContainerCreate(ctx, cfg, host, nil, nil, name)
	if cerrdefs.IsNotFound(err) {
		// The image was removed behind our back: build it again.
		b.forgetImage(img)
		if img, cmd, err = b.image(ctx, spec); err != nil {
			return nil, err
		}
		cfg.Image, cfg.Cmd = img, cmd
		created, err = b.cli.ContainerCreate(ctx, cfg, host, nil, nil, name)
	}
	if err != nil {
		return nil, fmt.Errorf("docker runtime: create a container of %s: %w", spec.Function, err)
	}
	c := &instance{b: b, id: created.ID, name: name, memoryMB: spec.MemoryMB, exited: make(chan struct{}), logsDone: make(chan struct{}), tail: &runtime.TailBuffer{Max: 4096}}
	fail := func(err error) (runtime.Process, error) {
		b.removeContainer(c.id)
		return nil, err
	}
	b.mu.Lock()
	closed := b.closed
	if !closed {
		b.wg.Add(1) // for c.wait; added under the lock, so before Close waits
	}
	b.mu.Unlock()
	if closed {
		return fail(errors.New("docker runtime: the worker is shutting down"))
	}
	if spec.LogPath != "" {
		f, err := os.OpenFile(spec.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			b.wg.Done()
			return fail(fmt.Errorf("open instance log: %w", err))
		}
		c.logFile = f
	}
	// Wait for the next exit before starting, so that a container that
	// exits at once is not missed.
	waitC, errC := b.cli.ContainerWait(b.ctx, c.id, container.WaitConditionNextExit)
	if err := b.cli.ContainerStart(ctx, c.id, container.StartOptions{}); err != nil {
		if c.logFile != nil {
			c.logFile.Close()
		}
		res, err := fail(fmt.Errorf("docker runtime: start the container of %s: %w", spec.Function, err))
		// The removal ends the wait; take its answer, which the client
		// cannot drop.
		go func() {
			defer b.wg.Done()
			select {
			case <-waitC:
			case <-errC:
			}
		}()
		return res, err
	}
	go c.followLogs()
	go c.wait(waitC, errC)
	return c, nil
}

// Image makes sure the image of spec's function exists, building it if
// needed, and returns its reference: what `faasflow build` does ahead of a
// deploy, so no worker builds it on a first run.
func (b *Backend) Image(ctx context.Context, spec runtime.Spec) (string, error) {
	ref, _, err := b.image(ctx, spec)
	return ref, err
}

// image returns the image of spec's function, building it if it is not
// there, and the container's command.
func (b *Backend) image(ctx context.Context, spec runtime.Spec) (string, []string, error) {
	if spec.Runtime == "python" {
		return b.pythonImage(ctx, spec)
	}
	if err := checkStatic(spec.Executable); err != nil {
		return "", nil, fmt.Errorf("docker runtime: function %s: %w", spec.Function, err)
	}
	sum, err := b.fileSHA256(spec.Executable)
	if err != nil {
		return "", nil, fmt.Errorf("docker runtime: function %s: %w", spec.Function, err)
	}
	ref := imageRepo + ":" + sum
	err = b.ensureImage(ctx, ref, func() error {
		dockerfile := "FROM scratch\nCOPY fn /fn\nENTRYPOINT [\"/fn\"]\n"
		return b.buildImage(ctx, ref, "function", dockerfile, map[string]string{"fn": spec.Executable})
	})
	if err != nil {
		return "", nil, fmt.Errorf("docker runtime: image of %s: %w", spec.Function, err)
	}
	return ref, spec.Args, nil
}

// ensureImage makes sure image ref exists, calling build when it does not.
// Concurrent calls for one ref build it once.
func (b *Backend) ensureImage(ctx context.Context, ref string, build func() error) error {
	b.mu.Lock()
	st := b.images[ref]
	if st == nil {
		st = &imageState{}
		b.images[ref] = st
	}
	b.mu.Unlock()
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.ready {
		return nil
	}
	if _, err := b.cli.ImageInspect(ctx, ref); err == nil {
		st.ready = true
		return nil
	} else if !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("inspect image %s: %w", ref, err)
	}
	t0 := time.Now()
	if err := build(); err != nil {
		return err
	}
	b.log.Info("image built", "image", ref, "took", time.Since(t0).Round(time.Millisecond))
	st.ready = true
	return nil
}

// forgetImage makes the next Start check image ref again.
func (b *Backend) forgetImage(ref string) {
	b.mu.Lock()
	delete(b.images, ref)
	b.mu.Unlock()
}

// buildImage builds ref from dockerfile and files (name in the context →
// path on this host), sending the context from memory.
func (b *Backend) buildImage(ctx context.Context, ref, kind, dockerfile string, files map[string]string) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, mode int64, r io.Reader, size int64) error {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: mode, Size: size, ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		_, err := io.Copy(tw, r)
		return err
	}
	if err := add("Dockerfile", 0o644, strings.NewReader(dockerfile), int64(len(dockerfile))); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		f, err := os.Open(files[name])
		if err != nil {
			return err
		}
		fi, err := f.Stat()
		if err == nil {
			err = add(name, 0o755, f, fi.Size())
		}
		f.Close()
		if err != nil {
			return fmt.Errorf("pack %s: %w", files[name], err)
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	resp, err := b.cli.ImageBuild(ctx, &buf, build.ImageBuildOptions{
		Tags: []string{ref}, Version: build.BuilderV1, Remove: true, ForceRemove: true, NetworkMode: network.NetworkNone,
		Labels: map[string]string{LabelImage: kind},
	})
	if err != nil {
		return fmt.Errorf("build image %s: %w", ref, err)
	}
	defer resp.Body.Close()
	if err := readJSONStream(resp.Body); err != nil {
		return fmt.Errorf("build image %s: %w", ref, err)
	}
	return nil
}

// readJSONStream reads a build or import progress stream to its end and
// returns the error it reports, if any.
func readJSONStream(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var m struct {
			Error       string `json:"error"`
			ErrorDetail struct {
				Message string `json:"message"`
			} `json:"errorDetail"`
		}
		if err := dec.Decode(&m); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read the daemon's progress: %w", err)
		}
		if m.ErrorDetail.Message != "" {
			return errors.New(m.ErrorDetail.Message)
		}
		if m.Error != "" {
			return errors.New(m.Error)
		}
	}
}

// fileSHA256 returns the hex sha256 of the file at p, cached while its
// size and modification time stay the same.
func (b *Backend) fileSHA256(p string) (string, error) {
	fi, err := os.Stat(p)
	if err != nil {
		return "", err
	}
	b.mu.Lock()
	s, ok := b.sums[p]
	b.mu.Unlock()
	if ok && s.size == fi.Size() && s.mtime.Equal(fi.ModTime()) {
		return s.sum, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("read %s: %w", p, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	b.mu.Lock()
	b.sums[p] = fileSum{size: fi.Size(), mtime: fi.ModTime(), sum: sum}
	b.mu.Unlock()
	return sum, nil
}

// checkStatic fails unless p is a statically linked ELF executable, the
// only kind a FROM-scratch image can run.
func checkStatic(p string) error {
	f, err := elf.Open(p)
	if err != nil {
		if _, serr := os.Stat(p); serr != nil {
			return serr
		}
		return fmt.Errorf("%s is not a Linux executable (%v): the docker runtime runs static binaries, such as Go functions", p, err)
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked: the docker runtime runs it in an empty (FROM scratch) image, so build it static (CGO_ENABLED=0 go build)", p)
		}
	}
	return nil
}

// removeContainer force-removes container id, ignoring one already gone.
func (b *Backend) removeContainer(id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := b.cli.ContainerRemove(ctx, id, container.RemoveOptions{Force: true})
	if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
		b.log.Warn("remove container", "container", id, "err", err)
	}
}

// instance is one container, as the pool sees it.
type instance struct {
	b        *Backend
	id, name string
	memoryMB int

	tail     *runtime.TailBuffer
	logFile  *os.File
	logsDone chan struct{}

	killed atomic.Bool // Kill was called: a SIGKILL is ours
	exited chan struct{}
	err    error
}

// followLogs copies the container's output to its log file and tail.
func (c *instance) followLogs() {
	defer close(c.logsDone)
	rc, err := c.b.cli.ContainerLogs(c.b.ctx, c.id, container.LogsOptions{ShowStdout: true, ShowStderr: true, Follow: true})
	if err != nil {
		c.b.log.Warn("follow container output", "container", c.name, "err", err)
		return
	}
	defer rc.Close()
	var out io.Writer = c.tail
	if c.logFile != nil {
		out = io.MultiWriter(c.logFile, c.tail)
	}
	stdcopy.StdCopy(out, out, rc)
}

// wait waits for the container to end, describes how it ended, removes it
// and closes exited.
func (c *instance) wait(waitC <-chan container.WaitResponse, errC <-chan error) {
	defer c.b.wg.Done()
	var err error
	status := int64(-1)
	select {
	case r := <-waitC:
		status = r.StatusCode
		err = fmt.Errorf("container %s exited with status %d", c.name, r.StatusCode)
		if r.Error != nil && r.Error.Message != "" {
			err = fmt.Errorf("%w: %s", err, r.Error.Message)
		}
	case werr := <-errC:
		// The daemon or our connection to it failed: make sure the
		// container is not left running.
		err = fmt.Errorf("lost track of container %s: %w", c.name, werr)
	}
	select {
	case <-c.logsDone:
	case <-time.After(2 * time.Second):
	}
	if c.memoryMB > 0 && status == 137 && !c.killed.Load() {
		err = fmt.Errorf("%w: %s", err, c.oomVerdict())
	}
	if t := strings.TrimSpace(c.tail.String()); t != "" {
		err = fmt.Errorf("%w; last output:\n%s", err, t)
	}
	c.b.removeContainer(c.id)
	if c.logFile != nil {
		c.logFile.Close()
	}
	c.err = err
	close(c.exited)
}

// oomVerdict says why a container with a memory limit was killed without
// our asking. The daemon marks an out-of-memory kill a moment after the
// exit is reported, so it is asked for a second; a SIGKILL nobody sent is
// the kernel's OOM killer in practice even when the mark never comes.
func (c *instance) oomVerdict() string {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for try := 0; try < 10; try++ {
		info, err := c.b.cli.ContainerInspect(ctx, c.id)
		if err == nil && info.State != nil && info.State.OOMKilled {
			return fmt.Sprintf("out of memory (the function's limit is %d MiB; raise its memory)", c.memoryMB)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Sprintf("killed, most likely out of memory (the function's limit is %d MiB; raise its memory)", c.memoryMB)
}

func (c *instance) Exited() <-chan struct{} { return c.exited }
func (c *instance) ExitErr() error          { <-c.exited; return c.err }

// Kill kills the container; it is removed once its end is seen.
func (c *instance) Kill() {
	select {
	case <-c.exited:
		return
	default:
	}
	c.killed.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := c.b.cli.ContainerKill(ctx, c.id, "KILL")
	if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) { // conflict: not running
		c.b.log.Warn("kill container; removing it", "container", c.name, "err", err)
		c.b.removeContainer(c.id)
	}
}

// envValue returns the value of name in env.
func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

// containerName names a container after its worker, function and
// instance, in the characters Docker allows.
func containerName(cluster, worker, function, instance string) string {
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-' {
				return r
			}
			return '_'
		}, s)
	}
	return "faasflow_" + clean(cluster) + "_" + clean(worker) + "_" + clean(function) + "_" + clean(instance)
}
