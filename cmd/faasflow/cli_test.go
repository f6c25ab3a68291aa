package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/docker/docker/client"

	"github.com/faasflow/faasflow-go/benchmarks/wordcount"
	"github.com/faasflow/faasflow-go/cluster"
	"github.com/faasflow/faasflow-go/internal/services"
	"github.com/faasflow/faasflow-go/internal/testcluster"
)

// binDir builds the three binaries for the test, unless FAASFLOW_BIN
// points at already built ones (make test-e2e).
func binDir(t *testing.T) string {
	if dir := os.Getenv("FAASFLOW_BIN"); dir != "" {
		return dir
	}
	dir := t.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+"/", "github.com/faasflow/faasflow-go/cmd/...")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build binaries: %v\n%s", err, out)
	}
	return dir
}

// freePorts finds n consecutive free ports on 127.0.0.1.
func freePorts(t *testing.T, n int) int {
	for base := 21000 + os.Getpid()%20000; base < 65000-n; base += n + 7 {
		ok := true
		for i := 0; i < n && ok; i++ {
			ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(base+i))
			if err != nil {
				ok = false
				continue
			}
			ln.Close()
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free ports")
	return 0
}

type cli struct {
	t    *testing.T
	bin  string
	home string
	env  []string // more environment, after the defaults
}

// run runs the CLI and returns its stdout, stderr and exit code.
func (c *cli) run(args ...string) (string, string, int) {
	cmd := exec.Command(filepath.Join(c.bin, "faasflow"), args...)
	cmd.Env = append(os.Environ(), "FAASFLOW_HOME="+c.home)
	cmd.Env = append(cmd.Env, "FAASFLOW_GATEWAY=", "FAASFLOW_TOKEN=")
	cmd.Env = append(cmd.Env, c.env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		c.t.Fatalf("run faasflow %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), code
}

func (c *cli) mustRun(args ...string) string {
	c.t.Helper()
	out, errOut, code := c.run(args...)
	if code != 0 {
		c.t.Fatalf("faasflow %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// TestCLIClusterWordcount follows the README: cluster up, deploy the
// wordcount benchmark, invoke it, check the answer, cluster down — and
// then no process of the cluster, nor any function instance, is left.
func TestCLIClusterWordcount(t *testing.T) {
	c := &cli{t: t, bin: binDir(t), home: t.TempDir()}
	base := freePorts(t, 4)
	c.mustRun("cluster", "up", "--workers", "3", "--gateway-port", strconv.Itoa(base), "--worker-port", strconv.Itoa(base+1))
	downed := false
	defer func() {
		if !downed {
			c.run("cluster", "down")
		}
	}()
	state, err := cluster.LoadState(c.home)
	if err != nil {
		t.Fatal(err)
	}
	if len(state.Alive()) != 4 {
		t.Fatalf("%d cluster processes alive after up, want 4", len(state.Alive()))
	}
	checkClusterAuth(t, c, state)

	c.mustRun("deploy", "../../benchmarks/wordcount")
	out := c.mustRun("invoke", "wordcount", "--input", `{"seed": 3}`)
	var got struct {
		Res wordcount.Result `json:"res"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("invoke printed something that is not the result: %v\n%s", err, out)
	}
	if want := wordcount.Direct(3); got.Res.Total != want.Total || got.Res.Distinct != want.Distinct || fmt.Sprint(got.Res.Top) != fmt.Sprint(want.Top) {
		t.Fatalf("wordcount result: %d words, %d distinct, top %v; a direct count gives %d, %d, %v",
			got.Res.Total, got.Res.Distinct, got.Res.Top, want.Total, want.Distinct, want.Top)
	}
	if _, stderr, code := c.run("invoke", ""); code != 2 || !strings.Contains(stderr, "invoke needs one workflow name") {
		t.Errorf("invoke of an empty name: exit %d, %q; want exit 2 asking for a workflow name", code, stderr)
	}
	list := c.mustRun("list", "invocations")
	if !strings.Contains(list, "succeeded") {
		t.Fatalf("list invocations does not show the succeeded invocation:\n%s", list)
	}
	id := strings.Fields(list)[0]
	if logs := c.mustRun("logs", id); strings.Count(logs, "count ") != 8 {
		t.Fatalf("logs of %s should show 8 runs of count:\n%s", id, logs)
	}

	pids := clusterPIDs(t, state)
	c.mustRun("cluster", "down")
	downed = true
	for _, pid := range pids {
		if running(pid) {
			t.Errorf("process %d is still running after cluster down", pid)
		}
	}
	if _, err := cluster.LoadState(c.home); !os.IsNotExist(err) {
		t.Errorf("cluster state still present after down (err %v)", err)
	}
}

// clusterPIDs returns the cluster's processes and all their descendants
// (function instances).
func clusterPIDs(t *testing.T, s *cluster.State) []int {
	parents := map[int]bool{}
	var pids []int
	for _, p := range s.Processes {
		parents[p.PID] = true
		pids = append(pids, p.PID)
	}
	entries, _ := os.ReadDir("/proc")
	for changed := true; changed; {
		changed = false
		for _, e := range entries {
			pid, err := strconv.Atoi(e.Name())
			if err != nil || parents[pid] {
				continue
			}
			if parents[ppid(pid)] {
				parents[pid] = true
				pids = append(pids, pid)
				changed = true
			}
		}
	}
	if len(pids) <= len(s.Processes) {
		t.Fatalf("found no function instances under the workers (pids %v)", pids)
	}
	return pids
}

func ppid(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 2 {
		return -1
	}
	n, _ := strconv.Atoi(fields[1])
	return n
}

// running reports whether pid exists and is not a zombie.
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(fields) > 0 && fields[0] != "Z"
}

func TestCLIValidate(t *testing.T) {
	c := &cli{t: t, bin: binDir(t), home: t.TempDir()}
	dir := "../../workflow/testdata/dataflower"
	files, _ := filepath.Glob(filepath.Join(dir, "*.workflow_info.yaml"))
	if len(files) != 4 {
		t.Fatalf("found %d DataFlower workflow files in %s, want 4", len(files), dir)
	}
	out := c.mustRun(append([]string{"validate"}, files...)...)
	if n := strings.Count(out, "is valid"); n != 4 {
		t.Fatalf("validate accepted %d of 4 files:\n%s", n, out)
	}

	// A broken copy: one destination renamed to an input that does not exist.
	broken := t.TempDir()
	src, err := os.ReadFile(filepath.Join(dir, "wordcount.workflow_info.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := os.ReadFile(filepath.Join(dir, "templates_info.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(src), "wordcount__merge: { block_0: { counts } }", "wordcount__merge: { block_0: { countz } }", 1)
	if bad == string(src) {
		t.Fatal("test fixture changed: could not break the file")
	}
	os.WriteFile(filepath.Join(broken, "wordcount.workflow_info.yaml"), []byte(bad), 0o644)
	os.WriteFile(filepath.Join(broken, "templates_info.yaml"), tpl, 0o644)
	_, errOut, code := c.run("validate", filepath.Join(broken, "wordcount.workflow_info.yaml"))
	if code == 0 {
		t.Fatal("validate accepted a workflow with an edge to an unknown input")
	}
	line := 0
	for i, l := range strings.Split(bad, "\n") {
		if strings.Contains(l, "countz") {
			line = i + 1
		}
	}
	for _, want := range []string{fmt.Sprintf("wordcount.workflow_info.yaml:%d:", line), "countz", "dest"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("error does not mention %q:\n%s", want, errOut)
		}
	}
}

// TestCLIResultsDiff: a run within tolerance of its expected results exits
// 0, one out of tolerance exits non-zero and names the metric.
func TestCLIResultsDiff(t *testing.T) {
	c := &cli{t: t, bin: binDir(t), home: t.TempDir()}
	dir := t.TempDir()
	expected := filepath.Join(dir, "expected.csv")
	os.WriteFile(expected, []byte("# test baseline\ncount,errors,avg,p50,p90,p95,p99,min,max\n30,0,0.1,0.1,0.12,0.13,0.15,0.08,0.15\n"), 0o644)
	tests := []struct {
		name     string
		summary  string
		wantCode int
		wantOut  string
	}{
		{name: "within", summary: "30,0,0.11,0.11,0.13,0.14,0.2,0.09,0.2", wantCode: 0, wantOut: "ok"},
		{name: "slow", summary: "30,0,0.3,0.3,0.4,0.4,0.5,0.2,0.5", wantCode: 1, wantOut: "OUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := filepath.Join(dir, tt.name)
			os.MkdirAll(run, 0o755)
			os.WriteFile(filepath.Join(run, "run.json"), []byte(`{"kind": "latency", "workflow": "wordcount"}`), 0o644)
			os.WriteFile(filepath.Join(run, "summary.csv"), []byte("count,errors,avg,p50,p90,p95,p99,min,max\n"+tt.summary+"\n"), 0o644)
			out, errOut, code := c.run("results", "diff", run, "--expected", expected, "--tolerances", "../../experiments/tolerances.yaml")
			if code != tt.wantCode || !strings.Contains(out, tt.wantOut) {
				t.Fatalf("exit %d (want %d)\n%s%s", code, tt.wantCode, out, errOut)
			}
		})
	}
}

// TestCLIClusterFullProfile brings a cluster up in the full profile on the
// running services: wordcount spread over the workers gives the direct
// count, and the workers say they use Redis and Kafka.
func TestCLIClusterFullProfile(t *testing.T) {
	full := testcluster.FullProfile(t)
	c := &cli{t: t, bin: binDir(t), home: t.TempDir()}
	base := freePorts(t, 3)
	c.mustRun("cluster", "up", "--workers", "2", "--gateway-port", strconv.Itoa(base), "--worker-port", strconv.Itoa(base+1),
		"--profile", "full", "--redis", full.RedisAddr, "--kafka", strings.Join(full.KafkaBrokers, ","), "--couchdb", full.CouchDBURL)
	defer c.run("cluster", "down")
	c.mustRun("deploy", "../../benchmarks/wordcount", "--placement", "static",
		"--table", "start=worker-0,count=worker-1,merge=worker-1")
	out := c.mustRun("invoke", "wordcount", "--input", `{"seed": 4}`)
	var got struct {
		Res wordcount.Result `json:"res"`
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("invoke printed something that is not the result: %v\n%s", err, out)
	}
	if want := wordcount.Direct(4); got.Res.Total != want.Total || got.Res.Distinct != want.Distinct {
		t.Fatalf("wordcount result: %d words, %d distinct; a direct count gives %d, %d", got.Res.Total, got.Res.Distinct, want.Total, want.Distinct)
	}
	logs, err := os.ReadFile(filepath.Join(c.home, "logs", "worker-1.log"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(logs), "local_tier=redis remote_tier=kafka") {
		t.Fatalf("worker-1's log does not show the full profile's tiers:\n%s", logs)
	}
}

// TestCLIBuildImages builds wordcount's images (Go, and Python for its
// count step) ahead of a deploy: each function's image is on the daemon.
func TestCLIBuildImages(t *testing.T) {
	host := services.Docker(t)
	c := &cli{t: t, bin: binDir(t), home: t.TempDir()}
	out := c.mustRun("build", "../../benchmarks/wordcount/workflow-python.yaml", "--docker-host", host)
	cli, err := client.NewClientWithOpts(client.WithHost(host), client.WithAPIVersionNegotiation())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	images := 0
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		_, ref, ok := strings.Cut(line, " image ")
		if !ok {
			t.Fatalf("build printed a function without an image: %q", line)
		}
		if _, err := cli.ImageInspect(context.Background(), ref); err != nil {
			t.Fatalf("image %s of %q is not on the daemon: %v", ref, line, err)
		}
		images++
	}
	if images != 3 {
		t.Fatalf("build printed %d images, want 3 (start, count, merge):\n%s", images, out)
	}
}
