package cluster

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoadState: any cluster.json either loads or gives an error naming
// the file; never a panic. What loads saves and loads back the same.
func FuzzLoadState(f *testing.F) {
	f.Add(`{"provider":"local","gateway":"http://127.0.0.1:7000","started":"2026-11-27T08:00:00Z","processes":[{"name":"gateway","pid":12,"bin":"/x","listen":"127.0.0.1:7000","log":"/l"}]}`)
	f.Add(`{}`)
	f.Add(`{"processes":null}`)
	f.Add(`{"processes":[{"pid":-1}]}`)
	f.Add(`{"started":"yesterday"}`)
	f.Add(`[`)
	f.Add(``)
	f.Fuzz(func(t *testing.T, data string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, stateFile), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
		s, err := LoadState(dir)
		if err != nil {
			if !strings.Contains(err.Error(), stateFile) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if err := saveState(dir, s); err != nil {
			t.Fatal(err)
		}
		again, err := LoadState(dir)
		if err != nil {
			t.Fatalf("a saved state does not load: %v", err)
		}
		a, _ := json.Marshal(s)
		b, _ := json.Marshal(again)
		if string(a) != string(b) {
			t.Fatalf("state changed on save and load:\n%s\n%s", a, b)
		}
	})
}

// FuzzParseRecap: any ansible-playbook output gives a recap of the hosts
// its PLAY RECAP lists, with no negative counts; never a panic.
func FuzzParseRecap(f *testing.F) {
	f.Add("PLAY RECAP *****\ngw : ok=12 changed=3 unreachable=0 failed=0 skipped=2 rescued=0 ignored=0\nw0 : ok=9 changed=0 unreachable=1 failed=0\n")
	f.Add("TASK [x]\nok: [gw]\n")
	f.Add("PLAY RECAP\n : ok=\n")
	f.Add("PLAY RECAP\nh : ok=99999999999999999999\n")
	f.Fuzz(func(t *testing.T, out string) {
		for host, h := range ParseRecap(out) {
			if host == "" || h.OK < 0 || h.Changed < 0 || h.Unreachable < 0 || h.Failed < 0 || h.Skipped < 0 {
				t.Fatalf("host %q: %+v", host, h)
			}
		}
	})
}

// FuzzParseOutputs: any terraform outputs either give a stack with a
// gateway, a storage and a worker node, each with a name and addresses,
// or an error naming the output; never a panic.
func FuzzParseOutputs(f *testing.F) {
	f.Add(`{"nodes":[{"name":"gw","role":"gateway","private_ip":"10.0.0.2","connect_to":"gw"},{"name":"st","role":"storage","private_ip":"10.0.0.3","connect_to":"st"},{"name":"w0","role":"worker","private_ip":"10.0.0.4","connect_to":"w0"}],"ansible_connection":"docker","ansible_user":"root"}`)
	f.Add(`{"nodes":[],"ansible_connection":"ssh","ansible_user":"debian"}`)
	f.Add(`{"nodes":"x"}`)
	f.Add(`{}`)
	f.Fuzz(func(t *testing.T, data string) {
		var values map[string]json.RawMessage
		if json.Unmarshal([]byte(data), &values) != nil {
			return
		}
		o, err := ParseOutputs(values)
		if err != nil {
			if !strings.Contains(err.Error(), "terraform output") {
				t.Fatalf("error %q does not name the output", err)
			}
			return
		}
		for _, role := range []string{"gateway", "storage", "worker"} {
			if len(o.NodesOf(role)) == 0 {
				t.Fatalf("accepted outputs without a %s node", role)
			}
		}
		for _, n := range o.Nodes {
			if n.Name == "" || n.PrivateIP == "" || n.ConnectTo == "" {
				t.Fatalf("accepted node %+v", n)
			}
		}
	})
}
