package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/build"
	"github.com/faasflow/faasflow-go/cluster"
	"github.com/faasflow/faasflow-go/workflow"
)

// infraOptions configure a cluster provisioned by Terraform (docker or aws)
// and configured by Ansible.
type infraOptions struct {
	provider string
	workers  int
	repo     string // the tree with infra/, ansible/, scripts/ and benchmarks/
	binDir   string
	profile  string
	runtime  string
	tfVars   []string
	noCheck  bool
}

// infraDir is where a provider's cluster keeps its Terraform work
// directory, inventory, config and logs.
func infraDir(provider string) string { return filepath.Join(stateDir(), "clusters", provider) }

// repoRoot finds the tree with infra/ and ansible/: the flag, the working
// directory, or the directory above this program's (bin/..).
func repoRoot(flagValue string) (string, error) {
	var candidates []string
	if flagValue != "" {
		candidates = append(candidates, flagValue)
	}
	if wd, err := os.Getwd(); err == nil {
		candidates = append(candidates, wd)
	}
	if exe, err := os.Executable(); err == nil {
		candidates = append(candidates, filepath.Dir(filepath.Dir(exe)))
	}
	for _, c := range candidates {
		if st, err := os.Stat(filepath.Join(c, "infra")); err == nil && st.IsDir() {
			if abs, err := filepath.Abs(c); err == nil {
				return abs, nil
			}
		}
	}
	return "", fmt.Errorf("no infra/ directory found (looked in %s): run from the faasflow tree or pass --repo", strings.Join(candidates, ", "))
}

// sourceExports runs a script that prints `export K=V` lines and sets
// those variables in this process; the script's messages go to w.
func sourceExports(ctx context.Context, w io.Writer, script string, args ...string) error {
	cmd := exec.CommandContext(ctx, script, args...)
	cmd.Stderr = w
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("%s: %w", filepath.Base(script), err)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "export ")
		if !ok {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		if err := os.Setenv(k, strings.Trim(v, `'"`)); err != nil {
			return err
		}
	}
	return nil
}

// step prints one line per phase with its duration.
func step(name string, f func() (string, error)) error {
	t0 := time.Now()
	fmt.Printf("==> %-10s ", name)
	detail, err := f()
	if err != nil {
		fmt.Printf("FAILED after %.1fs\n", time.Since(t0).Seconds())
		return fmt.Errorf("%s: %w", name, err)
	}
	fmt.Printf("%s (%.1fs)\n", detail, time.Since(t0).Seconds())
	return nil
}

// logFile opens a log in the cluster directory, truncated.
func logFile(dir, name string) (*os.File, error) {
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return nil, fmt.Errorf("log file: %w", err)
	}
	return f, nil
}

// prepare makes what the provider needs on the control host and returns
// the Terraform configuration: the Docker daemon, node image, local apt
// repository and provider mirror for docker; the archives for both.
func (o *infraOptions) prepare(ctx context.Context, dir string) (cluster.TerraformConfig, error) {
	scripts := filepath.Join(o.repo, "scripts")
	prepLog, err := logFile(dir, "prepare.log")
	if err != nil {
		return cluster.TerraformConfig{}, err
	}
	defer prepLog.Close()
	tc := cluster.TerraformConfig{
		StackDir: filepath.Join(o.repo, "infra", o.provider),
		WorkDir:  filepath.Join(dir, "terraform"),
		Vars:     map[string]string{"workers": fmt.Sprint(o.workers)},
	}
	err = step("prepare", func() (string, error) {
		if o.provider == "docker" {
			if os.Getenv("FAASFLOW_DOCKER_HOST") == "" {
				if err := sourceExports(ctx, prepLog, filepath.Join(scripts, "services", "docker.sh"), "start"); err != nil {
					return "", err
				}
			}
			if err := os.Setenv("DOCKER_HOST", os.Getenv("FAASFLOW_DOCKER_HOST")); err != nil {
				return "", err
			}
			for _, s := range []string{"providers.sh", "node-image.sh"} {
				if err := sourceExports(ctx, prepLog, filepath.Join(scripts, "infra", s)); err != nil {
					return "", fmt.Errorf("%w (see %s)", err, prepLog.Name())
				}
			}
			tc.CLIConfigFile = os.Getenv("TF_CLI_CONFIG_FILE")
			tc.Vars["docker_host"] = os.Getenv("FAASFLOW_DOCKER_HOST")
			tc.Vars["node_image"] = os.Getenv("FAASFLOW_NODE_IMAGE")
			tc.Vars["apt_repo"] = os.Getenv("FAASFLOW_NODE_DEBS")
		}
		if err := sourceExports(ctx, prepLog, filepath.Join(scripts, "infra", "artifacts.sh")); err != nil {
			return "", fmt.Errorf("%w (see %s)", err, prepLog.Name())
		}
		bin, err := cluster.FindTerraform()
		if err != nil {
			return "", err
		}
		tc.Binary = bin
		return "node image, packages, Kafka and CouchDB archives, Terraform " + bin, nil
	})
	for _, kv := range o.tfVars {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return tc, usagef("--var %q: write name=value", kv)
		}
		tc.Vars[k] = v
	}
	return tc, err
}

// inventoryVars are the Ansible variables of every node.
func (o *infraOptions) inventoryVars() map[string]any {
	v := map[string]any{
		"ansible_python_interpreter": "/usr/bin/python3",
		"faasflow_bin_dir":           o.binDir,
		"kafka_archive":              os.Getenv("FAASFLOW_KAFKA_ARCHIVE"),
		"couchdb_archive":            os.Getenv("FAASFLOW_COUCHDB_ARCHIVE"),
		"faasflow_profile":           o.profile,
		"faasflow_runtime":           o.runtime,
		// The cluster secret and API token (made by the faasflow role on
		// its first run, docs/security.md).
		"faasflow_auth_dir": filepath.Join(infraDir(o.provider), "auth"),
	}
	if o.provider == "docker" {
		// Containers share this machine's cores and memory.
		v["ansible_docker_extra_args"] = "-H " + os.Getenv("FAASFLOW_DOCKER_HOST")
		v["kafka_heap"] = "512m"
	}
	return v
}

func infraUp(ctx context.Context, o *infraOptions) error {
	dir := infraDir(o.provider)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	total := time.Now()
	tc, err := o.prepare(ctx, dir)
	if err != nil {
		return err
	}
	var outs *cluster.Outputs
	if err := step("terraform", func() (string, error) {
		f, err := logFile(dir, "terraform.log")
		if err != nil {
			return "", err
		}
		defer f.Close()
		tc.Output = f
		if outs, err = cluster.Apply(ctx, tc); err != nil {
			return "", fmt.Errorf("%w (see %s)", err, f.Name())
		}
		return fmt.Sprintf("%d nodes (%s)", len(outs.Nodes), nodeSummary(outs)), nil
	}); err != nil {
		return err
	}
	inventory := filepath.Join(dir, "inventory.yml")
	if err := writeClusterFiles(dir, o, outs); err != nil {
		return err
	}
	if err := runSite(ctx, o, dir, inventory); err != nil {
		return err
	}
	if !o.noCheck {
		if err := healthCheck(ctx, o, dir, inventory); err != nil {
			return err
		}
	}
	fmt.Printf("cluster up: %s provider, gateway %s (inventory %s; API token in %s, also in /etc/faasflow/token on the gateway node) in %.0fs\n",
		o.provider, cluster.NewConfig(o.provider, outs).Gateway, inventory, filepath.Join(dir, "auth", "token"), time.Since(total).Seconds())
	return nil
}

func nodeSummary(o *cluster.Outputs) string {
	var parts []string
	for _, role := range []string{"gateway", "storage", "worker"} {
		parts = append(parts, fmt.Sprintf("%d %s", len(o.NodesOf(role)), role))
	}
	return strings.Join(parts, ", ")
}

// writeClusterFiles writes the Ansible inventory and the cluster config.
func writeClusterFiles(dir string, o *infraOptions, outs *cluster.Outputs) error {
	inv, err := cluster.Inventory(outs, o.inventoryVars())
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "inventory.yml"), inv, 0o644); err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	return cluster.NewConfig(o.provider, outs).Write(filepath.Join(dir, "cluster.yaml"))
}

// runSite runs ansible/site.yml and reports the changed task count.
func runSite(ctx context.Context, o *infraOptions, dir, inventory string) error {
	return step("ansible", func() (string, error) {
		f, err := logFile(dir, "ansible.log")
		if err != nil {
			return "", err
		}
		defer f.Close()
		recap, err := cluster.RunPlaybook(ctx, cluster.PlaybookRun{
			Dir: filepath.Join(o.repo, "ansible"), Playbook: "site.yml", Inventory: inventory, Output: f,
		})
		if err != nil {
			return "", fmt.Errorf("%w (see %s)", err, f.Name())
		}
		return fmt.Sprintf("%d hosts configured, changed=%d", len(recap), recap.Changed()), nil
	})
}

// healthCheck builds the wordcount bundle on this host and runs `faasflow
// cluster check` on the gateway node (ansible/check.yml), so every probe
// starts inside the cluster network; it prints the table.
func healthCheck(ctx context.Context, o *infraOptions, dir, inventory string) error {
	bundle := filepath.Join(dir, "bundle")
	report := filepath.Join(dir, "health.txt")
	_ = os.Remove(report)
	err := step("health", func() (string, error) {
		if err := writeBundle(ctx, filepath.Join(o.repo, "benchmarks", "wordcount"), bundle, filepath.Join(dir, "build")); err != nil {
			return "", err
		}
		f, err := logFile(dir, "check.log")
		if err != nil {
			return "", err
		}
		defer f.Close()
		_, err = cluster.RunPlaybook(ctx, cluster.PlaybookRun{
			Dir: filepath.Join(o.repo, "ansible"), Playbook: "check.yml", Inventory: inventory, Output: f,
			ExtraVars: map[string]string{"check_bundle": bundle, "check_report": report},
		})
		if err != nil {
			return "", fmt.Errorf("a check failed (table below; log %s)", f.Name())
		}
		return "every check passed", nil
	})
	if b, rerr := os.ReadFile(report); rerr == nil {
		fmt.Print(string(b))
	}
	return err
}

// writeBundle builds a workflow's functions on this host and writes the
// deploy request and executables for `faasflow cluster check --bundle`.
func writeBundle(ctx context.Context, wfDir, bundle, buildDir string) error {
	wf, err := workflow.LoadFile(wfDir)
	if err != nil {
		return err
	}
	arts, err := build.Workflow(ctx, wf, buildDir)
	if err != nil {
		return err
	}
	if err := os.RemoveAll(bundle); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(bundle, cluster.BundleArtifacts), 0o755); err != nil {
		return err
	}
	for sum, a := range arts {
		b, err := os.ReadFile(a.Path)
		if err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
		if err := os.WriteFile(filepath.Join(bundle, cluster.BundleArtifacts, sum), b, 0o755); err != nil {
			return fmt.Errorf("bundle: %w", err)
		}
	}
	req, err := json.MarshalIndent(&api.DeployRequest{Workflow: wf, Placement: "round-robin", Mode: "dataflow"}, "", "  ")
	if err != nil {
		return fmt.Errorf("bundle: %w", err)
	}
	return os.WriteFile(filepath.Join(bundle, cluster.BundleRequest), req, 0o644)
}

func infraDown(ctx context.Context, o *infraOptions) error {
	dir := infraDir(o.provider)
	if _, err := os.Stat(filepath.Join(dir, "terraform", "terraform.tfstate")); errors.Is(err, os.ErrNotExist) {
		fmt.Printf("no %s cluster is up (no state in %s)\n", o.provider, dir)
		return nil
	}
	tc, err := o.prepare(ctx, dir)
	if err != nil {
		return err
	}
	if err := step("terraform", func() (string, error) {
		f, err := logFile(dir, "terraform-destroy.log")
		if err != nil {
			return "", err
		}
		defer f.Close()
		tc.Output = f
		if err := cluster.Destroy(ctx, tc); err != nil {
			return "", fmt.Errorf("%w (see %s)", err, f.Name())
		}
		return "destroyed every node and the network", nil
	}); err != nil {
		return err
	}
	for _, f := range []string{"inventory.yml", "cluster.yaml", "health.txt"} {
		_ = os.Remove(filepath.Join(dir, f))
	}
	fmt.Printf("cluster down: %s provider\n", o.provider)
	return nil
}

func infraStatus(ctx context.Context, o *infraOptions) error {
	dir := infraDir(o.provider)
	inventory := filepath.Join(dir, "inventory.yml")
	if _, err := os.Stat(inventory); errors.Is(err, os.ErrNotExist) {
		fmt.Printf("no %s cluster is up (no inventory in %s)\n", o.provider, dir)
		return nil
	}
	c, err := cluster.LoadConfig(filepath.Join(dir, "cluster.yaml"))
	if err != nil {
		return err
	}
	fmt.Printf("provider %s, gateway %s, kafka %s, couchdb %s\n", c.Provider, c.Gateway, c.Kafka, c.CouchDB)
	for _, n := range c.Nodes {
		fmt.Printf("  %-12s %-15s %s\n", n.Name, n.PrivateIP, strings.Join(n.Roles, ","))
	}
	return healthCheck(ctx, o, dir, inventory)
}

// cmdClusterCheck is `faasflow cluster check`: the health checks, run on a
// node of the cluster (ansible/check.yml runs it on the gateway node).
func cmdClusterCheck(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("cluster check", flag.ContinueOnError)
	config := fs.String("config", "/etc/faasflow/cluster.yaml", "cluster config naming every address")
	bundle := fs.String("bundle", "", "directory with a prebuilt workflow to deploy and invoke once (deploy.json, artifacts/)")
	pos, err := parse(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("unexpected argument %q", pos[0])
	}
	c, err := cluster.LoadConfig(*config)
	if err != nil {
		return err
	}
	if c.Token, err = apiToken(); err != nil {
		return err
	}
	if !cluster.PrintChecks(os.Stdout, cluster.Check(ctx, c, *bundle)) {
		return errors.New("some checks failed")
	}
	return nil
}
