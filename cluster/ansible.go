package cluster

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// groupOf maps a node role to its Ansible group (ansible/site.yml).
var groupOf = map[string]string{"gateway": "gateway", "storage": "storage", "worker": "workers"}

// Inventory builds the Ansible inventory of a provisioned cluster: the
// groups gateway, storage and workers, each host with private_ip and the
// address (or container) to connect to; vars go to the all group.
func Inventory(o *Outputs, vars map[string]any) ([]byte, error) {
	type host struct {
		AnsibleHost string `yaml:"ansible_host"`
		PrivateIP   string `yaml:"private_ip"`
	}
	type group struct {
		Hosts map[string]host `yaml:"hosts"`
	}
	all := map[string]any{}
	for k, v := range vars {
		all[k] = v
	}
	all["ansible_connection"] = o.AnsibleConnection
	all["ansible_user"] = o.AnsibleUser
	if o.AptRepo != "" {
		all["faasflow_apt_repo"] = o.AptRepo
	}
	children := map[string]group{}
	for _, n := range o.Nodes {
		g, ok := groupOf[n.Role]
		if !ok {
			return nil, fmt.Errorf("node %s has unknown role %q (want gateway, storage or worker)", n.Name, n.Role)
		}
		if children[g].Hosts == nil {
			children[g] = group{Hosts: map[string]host{}}
		}
		children[g].Hosts[n.Name] = host{AnsibleHost: n.ConnectTo, PrivateIP: n.PrivateIP}
	}
	doc := map[string]any{"all": map[string]any{"vars": all, "children": children}}
	var b bytes.Buffer
	b.WriteString("# Written by `faasflow cluster up` from Terraform's outputs; rewritten on every up.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(doc); err != nil {
		return nil, fmt.Errorf("encode inventory: %w", err)
	}
	return b.Bytes(), nil
}

// Ports are the services' ports on the nodes (as in ansible/group_vars/all.yml).
const (
	GatewayPort = 7000
	WorkerPort  = 8000
	KafkaPort   = 9092
	CouchDBPort = 5984
	RedisPort   = 6379
)

// Config is the one file that names every address of a cluster. `cluster
// up` writes it on the control host from Terraform's outputs, and Ansible
// writes the same fields to /etc/faasflow/cluster.yaml on every node.
type Config struct {
	Provider string         `yaml:"provider,omitempty"`
	Gateway  string         `yaml:"gateway"`
	Kafka    string         `yaml:"kafka"`
	CouchDB  string         `yaml:"couchdb"`
	Nodes    []ConfigNode   `yaml:"nodes"`
	Workers  []ConfigWorker `yaml:"workers"`
	// Token is the gateway's API token for Check; it stays out of the
	// file (the CLI reads it from its own file).
	Token string `yaml:"-"`
}

// ConfigNode is one node in a Config.
type ConfigNode struct {
	Name      string   `yaml:"name"`
	PrivateIP string   `yaml:"private_ip"`
	Roles     []string `yaml:"roles"`
}

// ConfigWorker is one worker agent in a Config.
type ConfigWorker struct {
	ID    string `yaml:"id"`
	URL   string `yaml:"url"`
	Redis string `yaml:"redis"`
}

// NewConfig derives the cluster config from Terraform's outputs.
func NewConfig(provider string, o *Outputs) *Config {
	hostPort := func(ip string, port int) string { return ip + ":" + strconv.Itoa(port) }
	c := &Config{Provider: provider}
	if gw := o.NodesOf("gateway"); len(gw) > 0 {
		c.Gateway = "http://" + hostPort(gw[0].PrivateIP, GatewayPort)
	}
	if st := o.NodesOf("storage"); len(st) > 0 {
		c.Kafka = hostPort(st[0].PrivateIP, KafkaPort)
		c.CouchDB = "http://" + hostPort(st[0].PrivateIP, CouchDBPort)
	}
	for _, n := range o.Nodes {
		c.Nodes = append(c.Nodes, ConfigNode{Name: n.Name, PrivateIP: n.PrivateIP, Roles: []string{groupOf[n.Role]}})
		if n.Role == "worker" {
			c.Workers = append(c.Workers, ConfigWorker{
				ID: n.Name, URL: "http://" + hostPort(n.PrivateIP, WorkerPort), Redis: hostPort(n.PrivateIP, RedisPort),
			})
		}
	}
	sort.Slice(c.Nodes, func(i, j int) bool { return c.Nodes[i].Name < c.Nodes[j].Name })
	return c
}

// LoadConfig reads a cluster config file.
func LoadConfig(path string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read cluster config: %w", err)
	}
	var c Config
	if err := yaml.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("cluster config %s: %w", path, err)
	}
	if c.Gateway == "" {
		return nil, fmt.Errorf("cluster config %s: no gateway", path)
	}
	return &c, nil
}

// Write writes the config to path.
func (c *Config) Write(path string) error {
	var b bytes.Buffer
	b.WriteString("# Every address of this FaaSFlow cluster, from Terraform's outputs (written by `faasflow cluster up`).\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(c); err != nil {
		return fmt.Errorf("encode cluster config: %w", err)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write cluster config: %w", err)
	}
	return nil
}

// PlaybookRun is one ansible-playbook run.
type PlaybookRun struct {
	// Dir is the ansible/ directory (ansible.cfg, roles, playbooks).
	Dir       string
	Playbook  string // relative to Dir, e.g. site.yml
	Inventory string
	ExtraVars map[string]string
	// Env is added to this process's environment.
	Env []string
	// Output receives ansible-playbook's output (nil discards it).
	Output io.Writer
}

// HostRecap is one host's line of a PLAY RECAP.
type HostRecap struct {
	OK, Changed, Unreachable, Failed, Skipped int
}

// Recap is a playbook run's PLAY RECAP by host.
type Recap map[string]HostRecap

// Changed is the number of changed tasks over every host.
func (r Recap) Changed() int {
	n := 0
	for _, h := range r {
		n += h.Changed
	}
	return n
}

// RunPlaybook runs ansible-playbook and returns its recap; a failed run
// returns the recap it printed, if any, with the error.
func RunPlaybook(ctx context.Context, p PlaybookRun) (Recap, error) {
	bin, err := exec.LookPath("ansible-playbook")
	if err != nil {
		return nil, fmt.Errorf("ansible-playbook not found: apt-get install ansible (or pip install ansible-core): %w", err)
	}
	args := []string{"-i", p.Inventory}
	keys := make([]string, 0, len(p.ExtraVars))
	for k := range p.ExtraVars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "-e", k+"="+p.ExtraVars[k])
	}
	args = append(args, p.Playbook)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = p.Dir
	cmd.Env = append(os.Environ(), "ANSIBLE_CONFIG="+filepath.Join(p.Dir, "ansible.cfg"), "ANSIBLE_FORCE_COLOR=0", "ANSIBLE_NOCOLOR=1")
	cmd.Env = append(cmd.Env, p.Env...)
	var out bytes.Buffer
	w := io.Writer(&out)
	if p.Output != nil {
		w = io.MultiWriter(&out, p.Output)
	}
	cmd.Stdout = w
	cmd.Stderr = w
	runErr := cmd.Run()
	recap := ParseRecap(out.String())
	if runErr != nil {
		return recap, fmt.Errorf("ansible-playbook %s: %w", p.Playbook, runErr)
	}
	return recap, nil
}

var recapLine = regexp.MustCompile(`^(\S+)\s+:\s+((?:\w+=\d+\s*)+)$`)

// ParseRecap reads the PLAY RECAP section of ansible-playbook's output.
func ParseRecap(out string) Recap {
	r := Recap{}
	in := false
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "PLAY RECAP") {
			in = true
			continue
		}
		if !in {
			continue
		}
		m := recapLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		var h HostRecap
		for _, kv := range strings.Fields(m[2]) {
			k, v, _ := strings.Cut(kv, "=")
			n, _ := strconv.Atoi(v)
			switch k {
			case "ok":
				h.OK = n
			case "changed":
				h.Changed = n
			case "unreachable":
				h.Unreachable = n
			case "failed":
				h.Failed = n
			case "skipped":
				h.Skipped = n
			}
		}
		r[m[1]] = h
	}
	return r
}
