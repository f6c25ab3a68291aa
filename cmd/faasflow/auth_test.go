package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/cluster"
)

// checkClusterAuth checks a cluster that `faasflow cluster up` started:
// its token and secret are private files, never on a command line; the
// gateway and workers refuse requests without credentials, saying what to
// do; the CLI finds the token by itself and fails clearly with a wrong one.
func checkClusterAuth(t *testing.T, c *cli, state *cluster.State) {
	t.Helper()
	creds := map[string]string{}
	for _, name := range []string{cluster.TokenFile, cluster.SecretFile} {
		path := filepath.Join(c.home, name)
		st, err := os.Stat(path)
		if err != nil {
			t.Fatalf("cluster up wrote no %s: %v", name, err)
		}
		if st.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want 0600", path, st.Mode().Perm())
		}
		if creds[name], err = api.ReadSecretFile(path); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range state.Processes {
		cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", p.PID))
		if err != nil {
			t.Fatal(err)
		}
		for name, v := range creds {
			if strings.Contains(string(cmdline), v) {
				t.Errorf("the %s is on %s's command line (ps shows it)", name, p.Name)
			}
		}
	}

	tests := []struct {
		name    string
		url     string
		token   string
		want    int
		wantMsg string
	}{
		{"gateway without token", state.Gateway + "/v1/workflows", "", 401, "FAASFLOW_TOKEN"},
		{"gateway with wrong token", state.Gateway + "/v1/workflows", "0000", 401, "wrong API token"},
		{"gateway with token", state.Gateway + "/v1/workflows", creds[cluster.TokenFile], 200, ""},
		{"gateway healthz", state.Gateway + "/healthz", "", 200, ""},
		{"worker without signature", "http://" + state.Processes[1].Listen + "/v1/runs?invocation=x", "", 401, "unsigned"},
		{"worker with the user token", "http://" + state.Processes[1].Listen + "/v1/runs?invocation=x", creds[cluster.TokenFile], 401, "unsigned"},
	}
	for _, tt := range tests {
		req, err := http.NewRequest(http.MethodGet, tt.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tt.token != "" {
			req.Header.Set("Authorization", "Bearer "+tt.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("%s: status %d, want %d: %s", tt.name, resp.StatusCode, tt.want, body)
			continue
		}
		var e api.Error
		if tt.wantMsg != "" && (json.Unmarshal(body, &e) != nil || !strings.Contains(e.Error, tt.wantMsg)) {
			t.Errorf("%s: answer %s does not say %q", tt.name, body, tt.wantMsg)
		}
	}

	wrong := &cli{t: t, bin: c.bin, home: c.home, env: []string{"FAASFLOW_TOKEN=0000"}}
	_, errOut, code := wrong.run("list", "workflows")
	if code == 0 || !strings.Contains(errOut, "401") || !strings.Contains(errOut, "FAASFLOW_TOKEN") {
		t.Errorf("list with a wrong FAASFLOW_TOKEN: exit %d, stderr %q; want a failure saying where the token is", code, errOut)
	}
	c.mustRun("list", "workers") // the token from $FAASFLOW_HOME/token
}
