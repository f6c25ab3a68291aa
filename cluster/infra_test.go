package cluster

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// dockerOutputs is `terraform output -json` of infra/docker, values only.
const dockerOutputs = `{
  "ansible_connection": "community.docker.docker",
  "ansible_user": "root",
  "apt_repo": "/srv/faasflow/debs",
  "gateway_private_ip": "10.213.7.10",
  "storage_private_ip": "10.213.7.11",
  "worker_private_ips": ["10.213.7.20", "10.213.7.21"],
  "nodes": [
    {"name": "gateway-0", "role": "gateway", "private_ip": "10.213.7.10", "connect_to": "faasflow-gateway-0"},
    {"name": "storage-0", "role": "storage", "private_ip": "10.213.7.11", "connect_to": "faasflow-storage-0"},
    {"name": "worker-0", "role": "worker", "private_ip": "10.213.7.20", "connect_to": "faasflow-worker-0"},
    {"name": "worker-1", "role": "worker", "private_ip": "10.213.7.21", "connect_to": "faasflow-worker-1"}
  ]
}`

func parseTestOutputs(t *testing.T, s string) (*Outputs, error) {
	t.Helper()
	var values map[string]json.RawMessage
	if err := json.Unmarshal([]byte(s), &values); err != nil {
		t.Fatal(err)
	}
	return ParseOutputs(values)
}

func TestParseOutputs(t *testing.T) {
	tests := []struct {
		name, edit, wantErr string
	}{
		{"complete", "", ""},
		{"no nodes", `"nodes"`, `output "nodes" is missing`},
		{"no connection", `"ansible_connection"`, `output "ansible_connection" is missing`},
		{"no storage node", `"role": "storage"`, "no storage node"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := dockerOutputs
			if tt.edit != "" {
				repl := `"renamed"`
				if strings.Contains(tt.edit, ":") {
					repl = `"role": "other"`
				}
				src = strings.Replace(src, tt.edit, repl, 1)
			}
			o, err := parseTestOutputs(t, src)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(o.Nodes) != 4 || len(o.NodesOf("worker")) != 2 || o.AptRepo != "/srv/faasflow/debs" {
				t.Fatalf("outputs %+v", o)
			}
		})
	}
}

func TestInventory(t *testing.T) {
	o, err := parseTestOutputs(t, dockerOutputs)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Inventory(o, map[string]any{"kafka_heap": "512m"})
	if err != nil {
		t.Fatal(err)
	}
	var inv struct {
		All struct {
			Vars     map[string]any `yaml:"vars"`
			Children map[string]struct {
				Hosts map[string]map[string]string `yaml:"hosts"`
			} `yaml:"children"`
		} `yaml:"all"`
	}
	if err := yaml.Unmarshal(b, &inv); err != nil {
		t.Fatalf("inventory is not YAML: %v\n%s", err, b)
	}
	vars := inv.All.Vars
	for k, want := range map[string]string{
		"ansible_connection": "community.docker.docker", "ansible_user": "root",
		"faasflow_apt_repo": "/srv/faasflow/debs", "kafka_heap": "512m",
	} {
		if vars[k] != want {
			t.Errorf("var %s = %v, want %s", k, vars[k], want)
		}
	}
	tests := []struct{ group, host, connect, ip string }{
		{"gateway", "gateway-0", "faasflow-gateway-0", "10.213.7.10"},
		{"storage", "storage-0", "faasflow-storage-0", "10.213.7.11"},
		{"workers", "worker-1", "faasflow-worker-1", "10.213.7.21"},
	}
	for _, tt := range tests {
		h := inv.All.Children[tt.group].Hosts[tt.host]
		if h["ansible_host"] != tt.connect || h["private_ip"] != tt.ip {
			t.Errorf("%s/%s = %v, want ansible_host %s, private_ip %s", tt.group, tt.host, h, tt.connect, tt.ip)
		}
	}
	if n := len(inv.All.Children["workers"].Hosts); n != 2 {
		t.Errorf("%d workers in the inventory, want 2", n)
	}
}

func TestConfigRoundTrip(t *testing.T) {
	o, err := parseTestOutputs(t, dockerOutputs)
	if err != nil {
		t.Fatal(err)
	}
	c := NewConfig("docker", o)
	path := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := c.Write(path); err != nil {
		t.Fatal(err)
	}
	got, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if got.Gateway != "http://10.213.7.10:7000" || got.Kafka != "10.213.7.11:9092" || got.CouchDB != "http://10.213.7.11:5984" {
		t.Errorf("addresses %+v", got)
	}
	if len(got.Workers) != 2 || got.Workers[1] != (ConfigWorker{ID: "worker-1", URL: "http://10.213.7.21:8000", Redis: "10.213.7.21:6379"}) {
		t.Errorf("workers %+v", got.Workers)
	}
}

// The config the common role writes on every node must load as a Config.
func TestConfigFromAnsibleTemplate(t *testing.T) {
	rendered := `# Ansible managed
gateway: http://10.213.7.10:7000
kafka: 10.213.7.11:9092
couchdb: http://10.213.7.11:5984
nodes:
  - name: gateway-0
    private_ip: 10.213.7.10
    roles: [gateway]
workers:
  - id: worker-0
    url: http://10.213.7.20:8000
    redis: 10.213.7.20:6379
`
	path := filepath.Join(t.TempDir(), "cluster.yaml")
	if err := os.WriteFile(path, []byte(rendered), 0o644); err != nil {
		t.Fatal(err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Workers) != 1 || c.Workers[0].Redis != "10.213.7.20:6379" || c.Nodes[0].Roles[0] != "gateway" {
		t.Errorf("config %+v", c)
	}
	tmpl, err := os.ReadFile("../ansible/roles/common/templates/cluster.yaml.j2")
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"gateway:", "kafka:", "couchdb:", "nodes:", "workers:", "- id:", "url:", "redis:", "private_ip:"} {
		if !strings.Contains(string(tmpl), key) {
			t.Errorf("the Ansible template lacks %q", key)
		}
	}
}

func TestParseRecap(t *testing.T) {
	out := `TASK [x] ***
changed: [worker-0]

PLAY RECAP *********************************************************************
gateway-0                  : ok=8    changed=0    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
storage-0                  : ok=17   changed=3    unreachable=0    failed=1    skipped=2    rescued=0    ignored=0

Friday 27 November 2026  05:31:53 +0000 (0:00:01.045)       0:01:17.426 *******
`
	r := ParseRecap(out)
	tests := []struct {
		host string
		want HostRecap
	}{
		{"gateway-0", HostRecap{OK: 8}},
		{"storage-0", HostRecap{OK: 17, Changed: 3, Failed: 1, Skipped: 2}},
	}
	for _, tt := range tests {
		if r[tt.host] != tt.want {
			t.Errorf("%s: %+v, want %+v", tt.host, r[tt.host], tt.want)
		}
	}
	if len(r) != 2 || r.Changed() != 3 {
		t.Errorf("recap %+v, changed %d", r, r.Changed())
	}
}

func TestCopyStack(t *testing.T) {
	src, dst := t.TempDir(), t.TempDir()
	for name, body := range map[string]string{"main.tf": "# a", "outputs.tf": "# b"} {
		if err := os.WriteFile(filepath.Join(src, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dst, "stale.tf"), []byte("# old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dst, "terraform.tfstate"), []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := copyStack(src, dst); err != nil {
		t.Fatal(err)
	}
	got, _ := filepath.Glob(filepath.Join(dst, "*"))
	var names []string
	for _, g := range got {
		names = append(names, filepath.Base(g))
	}
	if strings.Join(names, ",") != "main.tf,outputs.tf,terraform.tfstate" {
		t.Errorf("work dir has %v", names)
	}
	if err := copyStack(t.TempDir(), dst); err == nil {
		t.Error("copying an empty stack succeeded")
	}
}
