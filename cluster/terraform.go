package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"

	"github.com/hashicorp/terraform-exec/tfexec"
)

// Node is one machine (or container) of a provisioned cluster, as the
// Terraform stacks' nodes output describes it.
type Node struct {
	Name      string `json:"name" yaml:"name"`
	Role      string `json:"role" yaml:"role"` // gateway, storage or worker
	PrivateIP string `json:"private_ip" yaml:"private_ip"`
	// ConnectTo is what Ansible connects to: an address for ssh, a
	// container name for docker exec.
	ConnectTo string `json:"connect_to" yaml:"connect_to"`
}

// Outputs are the Terraform outputs that describe a cluster; infra/aws and
// infra/docker both have them.
type Outputs struct {
	Nodes             []Node
	AnsibleConnection string
	AnsibleUser       string
	// AptRepo is the node-side directory of a local apt repository (docker
	// provider), empty when nodes use their own mirrors.
	AptRepo string
}

// NodesOf returns the nodes of a role, in the stack's order.
func (o *Outputs) NodesOf(role string) []Node {
	var out []Node
	for _, n := range o.Nodes {
		if n.Role == role {
			out = append(out, n)
		}
	}
	return out
}

// TerraformConfig says where a stack is and how to run Terraform on it.
type TerraformConfig struct {
	// StackDir holds the stack's .tf files (infra/aws, infra/docker). They
	// are copied into WorkDir on every run, so state never lands in the
	// source tree.
	StackDir string
	// WorkDir holds the working copy, .terraform and the state.
	WorkDir string
	// Binary is the terraform (or tofu) executable.
	Binary string
	// CLIConfigFile is TF_CLI_CONFIG_FILE (the provider mirror), if any.
	CLIConfigFile string
	// Vars are passed as -var name=value.
	Vars map[string]string
	// Output receives Terraform's own output (nil discards it).
	Output io.Writer
}

func (c TerraformConfig) terraform(ctx context.Context) (*tfexec.Terraform, error) {
	if c.Binary == "" {
		return nil, errors.New("no terraform binary: install terraform or run scripts/infra/providers.sh")
	}
	if err := os.MkdirAll(c.WorkDir, 0o755); err != nil {
		return nil, fmt.Errorf("terraform work directory: %w", err)
	}
	if err := copyStack(c.StackDir, c.WorkDir); err != nil {
		return nil, err
	}
	tf, err := tfexec.NewTerraform(c.WorkDir, c.Binary)
	if err != nil {
		return nil, fmt.Errorf("terraform %s: %w", c.Binary, err)
	}
	// The environment goes through as it is (TF_VAR_* included); tfexec
	// refuses to set TF_VAR_* itself, so the mirror's CLI config is set here.
	if c.CLIConfigFile != "" {
		if err := os.Setenv("TF_CLI_CONFIG_FILE", c.CLIConfigFile); err != nil {
			return nil, err
		}
	}
	if err := os.Setenv("CHECKPOINT_DISABLE", "1"); err != nil {
		return nil, err
	}
	if c.Output != nil {
		tf.SetStdout(c.Output)
		tf.SetStderr(c.Output)
	}
	if err := tf.Init(ctx, tfexec.Upgrade(false)); err != nil {
		return nil, fmt.Errorf("terraform init in %s: %w", c.WorkDir, err)
	}
	return tf, nil
}

func (c TerraformConfig) vars() []string {
	names := make([]string, 0, len(c.Vars))
	for k := range c.Vars {
		names = append(names, k)
	}
	sort.Strings(names)
	out := make([]string, 0, len(names))
	for _, k := range names {
		out = append(out, k+"="+c.Vars[k])
	}
	return out
}

// Apply creates or updates the stack's resources and returns its outputs.
func Apply(ctx context.Context, c TerraformConfig) (*Outputs, error) {
	tf, err := c.terraform(ctx)
	if err != nil {
		return nil, err
	}
	var opts []tfexec.ApplyOption
	for _, v := range c.vars() {
		opts = append(opts, tfexec.Var(v))
	}
	if err := tf.Apply(ctx, opts...); err != nil {
		return nil, fmt.Errorf("terraform apply in %s: %w", c.WorkDir, err)
	}
	return readOutputs(ctx, tf)
}

// Destroy removes every resource of the stack.
func Destroy(ctx context.Context, c TerraformConfig) error {
	tf, err := c.terraform(ctx)
	if err != nil {
		return err
	}
	var opts []tfexec.DestroyOption
	for _, v := range c.vars() {
		opts = append(opts, tfexec.Var(v))
	}
	if err := tf.Destroy(ctx, opts...); err != nil {
		return fmt.Errorf("terraform destroy in %s: %w", c.WorkDir, err)
	}
	return nil
}

// ReadOutputs returns the outputs of the stack's current state.
func ReadOutputs(ctx context.Context, c TerraformConfig) (*Outputs, error) {
	tf, err := c.terraform(ctx)
	if err != nil {
		return nil, err
	}
	return readOutputs(ctx, tf)
}

func readOutputs(ctx context.Context, tf *tfexec.Terraform) (*Outputs, error) {
	raw, err := tf.Output(ctx)
	if err != nil {
		return nil, fmt.Errorf("terraform output: %w", err)
	}
	values := map[string]json.RawMessage{}
	for k, v := range raw {
		values[k] = v.Value
	}
	return ParseOutputs(values)
}

// ParseOutputs reads the stack outputs from their JSON values (as in
// `terraform output -json`, one value per name).
func ParseOutputs(values map[string]json.RawMessage) (*Outputs, error) {
	var o Outputs
	get := func(name string, dst any, required bool) error {
		v, ok := values[name]
		if !ok {
			if required {
				return fmt.Errorf("terraform output %q is missing: is the stack applied?", name)
			}
			return nil
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return fmt.Errorf("terraform output %q: %w", name, err)
		}
		return nil
	}
	for _, f := range []struct {
		name     string
		dst      any
		required bool
	}{
		{"nodes", &o.Nodes, true},
		{"ansible_connection", &o.AnsibleConnection, true},
		{"ansible_user", &o.AnsibleUser, true},
		{"apt_repo", &o.AptRepo, false},
	} {
		if err := get(f.name, f.dst, f.required); err != nil {
			return nil, err
		}
	}
	counts := map[string]int{}
	for _, n := range o.Nodes {
		if n.Name == "" || n.PrivateIP == "" || n.ConnectTo == "" {
			return nil, fmt.Errorf("terraform output nodes: node %+v lacks a name, private_ip or connect_to", n)
		}
		counts[n.Role]++
	}
	for _, role := range []string{"gateway", "storage", "worker"} {
		if counts[role] == 0 {
			return nil, fmt.Errorf("terraform output nodes: no %s node", role)
		}
	}
	return &o, nil
}

// copyStack copies the .tf files of src into dst, replacing older copies
// and removing copies of files src no longer has.
func copyStack(src, dst string) error {
	files, err := filepath.Glob(filepath.Join(src, "*.tf"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no Terraform stack (*.tf) in %s", src)
	}
	old, _ := filepath.Glob(filepath.Join(dst, "*.tf"))
	keep := map[string]bool{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return fmt.Errorf("read stack: %w", err)
		}
		name := filepath.Base(f)
		keep[name] = true
		if err := os.WriteFile(filepath.Join(dst, name), b, 0o644); err != nil {
			return fmt.Errorf("copy stack: %w", err)
		}
	}
	for _, f := range old {
		if !keep[filepath.Base(f)] {
			if err := os.Remove(f); err != nil {
				return fmt.Errorf("remove stale stack file: %w", err)
			}
		}
	}
	return nil
}

// FindTerraform returns the terraform executable: $FAASFLOW_TERRAFORM, then
// terraform or tofu on PATH.
func FindTerraform() (string, error) {
	if p := os.Getenv("FAASFLOW_TERRAFORM"); p != "" {
		return p, nil
	}
	for _, name := range []string{"terraform", "tofu"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("terraform not found: install it, or run scripts/infra/providers.sh (builds it into the cache) and set FAASFLOW_TERRAFORM")
}
