package worker

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/internal/services"
)

const testSecret = "fedcba9876543210fedcba9876543210"

// startWorker runs a worker with cfg until the test ends. Its data
// directory is short: Unix socket paths have a 108-byte limit.
func startWorker(t *testing.T, cfg Config) *Worker {
	t.Helper()
	dir, err := os.MkdirTemp("", "wk")
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir, cfg.Listen = dir, "127.0.0.1:0"
	w, err := New(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.Run(ctx)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
		os.RemoveAll(dir)
	})
	return w
}

// TestWorkerAuth: a worker with the cluster secret answers only signed
// requests (but /healthz and /metrics), and signs its own requests to the
// gateway.
func TestWorkerAuth(t *testing.T) {
	var registered atomic.Int32
	gw := httptest.NewServer(api.RequireSigned(testSecret, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/internal/workers" {
			registered.Add(1)
		}
		rw.WriteHeader(http.StatusNoContent)
	})))
	defer gw.Close()
	w := startWorker(t, Config{Gateway: gw.URL, Secret: testSecret})

	deadline := time.Now().Add(5 * time.Second)
	for registered.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the worker's signed registration never reached a gateway that checks signatures")
		}
		time.Sleep(20 * time.Millisecond)
	}

	now := time.Now()
	none := func(*http.Request) {}
	signed := func(secret string, at time.Time) func(*http.Request) {
		return func(r *http.Request) {
			r.Header.Set(api.HeaderSignature, api.SignatureValue(secret, r.Method, r.URL.RequestURI(), at))
		}
	}
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+testSecret) }
	tests := []struct {
		name   string
		method string
		path   string
		auth   func(*http.Request)
		want   int
	}{
		{"healthz open", "GET", "/healthz", none, 200},
		{"metrics open", "GET", "/metrics", none, 200},
		{"deploy: unsigned", "PUT", "/v1/workflows/x", none, 401},
		{"deploy: bearer secret", "PUT", "/v1/workflows/x", bearer, 401},
		{"deploy: badly signed", "PUT", "/v1/workflows/x", signed("other", now), 401},
		{"deploy: stale", "PUT", "/v1/workflows/x", signed(testSecret, now.Add(-2*api.MaxSkew)), 401},
		{"deploy: signed (then a bad body)", "PUT", "/v1/workflows/x", signed(testSecret, now), 400},
		{"remove: unsigned", "DELETE", "/v1/workflows/x", none, 401},
		{"end: unsigned", "POST", "/v1/invocations/r1/end", none, 401},
		{"end: signed", "POST", "/v1/invocations/r1/end", signed(testSecret, now), 204},
		{"runs: unsigned", "GET", "/v1/runs?invocation=r1", none, 401},
		{"runs: signed", "GET", "/v1/runs?invocation=r1", signed(testSecret, now), 200},
		{"message stream: unsigned", "GET", api.MessagesStreamPath, none, 401},
		{"data: unsigned", "GET", "/v1/data/r1%2Fk", none, 401},
		{"data: signed", "GET", "/v1/data/r1%2Fk", signed(testSecret, now), 404},
		{"data release: unsigned", "DELETE", "/v1/data/r1%2Fk", none, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, w.URL()+tt.path, strings.NewReader("not json"))
			if err != nil {
				t.Fatal(err)
			}
			tt.auth(req)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

// TestInstanceSocketIsPrivate: with either runtime, the socket function
// instances reach the agent on is its owner's alone.
func TestInstanceSocketIsPrivate(t *testing.T) {
	tests := []struct {
		name string
		cfg  func(t *testing.T) Config
	}{
		{"process", func(*testing.T) Config { return Config{Runtime: RuntimeProcess} }},
		{"docker", func(t *testing.T) Config { return Config{Runtime: RuntimeDocker, DockerHost: services.Docker(t)} }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg(t)
			cfg.Gateway = "http://127.0.0.1:1" // nobody: registration keeps failing quietly
			w := startWorker(t, cfg)
			st, err := os.Stat(filepath.Join(w.cfg.DataDir, "agent.sock"))
			if err != nil {
				t.Fatal(err)
			}
			if st.Mode()&os.ModeSocket == 0 || st.Mode().Perm() != 0o600 {
				t.Fatalf("agent.sock mode %v, want a socket with mode 0600", st.Mode())
			}
		})
	}
}
