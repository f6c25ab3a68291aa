package gateway

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/api"
)

const (
	authToken  = "0123456789abcdef0123456789abcdef"
	authSecret = "fedcba9876543210fedcba9876543210"
)

// TestGatewayAuth: the public API takes the token only, /v1/internal/*
// and the message stream signed requests only, artifact downloads either; /healthz and /metrics
// are open.
func TestGatewayAuth(t *testing.T) {
	_, srv, _ := newTestGatewayConfig(t, 0, Config{Token: authToken, Secret: authSecret})
	now := time.Now()
	none := func(*http.Request) {}
	token := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	signed := func(secret string, at time.Time) func(*http.Request) {
		return func(r *http.Request) {
			r.Header.Set(api.HeaderSignature, api.SignatureValue(secret, r.Method, r.URL.RequestURI(), at))
		}
	}
	register := `{"id": "w9", "url": "http://127.0.0.1:1"}`
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		auth   func(*http.Request)
		want   int
	}{
		{"healthz open", "GET", "/healthz", "", none, 200},
		{"metrics open", "GET", "/metrics", "", none, 200},
		{"list workflows: no token", "GET", "/v1/workflows", "", none, 401},
		{"list workflows: wrong token", "GET", "/v1/workflows", "", token("wrong"), 401},
		{"list workflows: signed, no token", "GET", "/v1/workflows", "", signed(authSecret, now), 401},
		{"list workflows: token", "GET", "/v1/workflows", "", token(authToken), 200},
		{"deploy: no token", "POST", "/v1/workflows", "{}", none, 401},
		{"invoke: no token", "POST", "/v1/workflows/x/invocations", "{}", none, 401},
		{"invocations: no token", "GET", "/v1/invocations", "", none, 401},
		{"upload artifact: no token", "PUT", "/v1/artifacts/" + strings.Repeat("ab", 32), "x", none, 401},
		{"upload artifact: signed, no token", "PUT", "/v1/artifacts/" + strings.Repeat("ab", 32), "x", signed(authSecret, now), 401},
		{"compat /run: no token", "POST", "/run", "{}", none, 401},
		{"unknown route: no token", "GET", "/v1/nothing", "", none, 401},
		{"artifact download: none", "GET", "/v1/artifacts/abc", "", none, 401},
		{"artifact download: token", "GET", "/v1/artifacts/abc", "", token(authToken), 404},
		{"artifact download: signed", "GET", "/v1/artifacts/abc", "", signed(authSecret, now), 404},
		{"artifact download: badly signed", "GET", "/v1/artifacts/abc", "", signed("other", now), 401},
		{"register: unsigned", "POST", "/v1/internal/workers", register, none, 401},
		{"register: user token", "POST", "/v1/internal/workers", register, token(authToken), 401},
		{"register: badly signed", "POST", "/v1/internal/workers", register, signed("other", now), 401},
		{"register: stale", "POST", "/v1/internal/workers", register, signed(authSecret, now.Add(-2*api.MaxSkew)), 401},
		{"register: signed", "POST", "/v1/internal/workers", register, signed(authSecret, now), 204},
		{"report: unsigned", "POST", "/v1/internal/reports", "", none, 401},
		{"report: signed (then a bad header)", "POST", "/v1/internal/reports", "", signed(authSecret, now), 400},
		{"relay: unsigned", "POST", "/v1/internal/relay", "", none, 401},
		{"relay: user token", "POST", "/v1/internal/relay", "", token(authToken), 401},
		{"message stream: unsigned", "GET", api.MessagesStreamPath, "", none, 401},
		{"message stream: user token", "GET", api.MessagesStreamPath, "", token(authToken), 401},
		{"message stream: signed (then no upgrade)", "GET", api.MessagesStreamPath, "", signed(authSecret, now), 400},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			tt.auth(req)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tt.want, body)
			}
			if tt.want == http.StatusUnauthorized {
				var e api.Error
				if json.Unmarshal(body, &e) != nil || e.Error == "" {
					t.Errorf("401 without a JSON error saying what to do: %s", body)
				}
			}
		})
	}
}

// signedWorker is a worker's API that answers only requests signed with
// authSecret, as a real worker does.
type signedWorker struct {
	srv *httptest.Server

	mu       sync.Mutex
	deployed int
	messages int
	runs     int
}

func newSignedWorker(t *testing.T) *signedWorker {
	w := &signedWorker{}
	mux := http.NewServeMux()
	mux.HandleFunc("PUT /v1/workflows/{name}", func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.deployed++
		w.mu.Unlock()
	})
	mux.HandleFunc("GET "+api.MessagesStreamPath, func(rw http.ResponseWriter, r *http.Request) {
		api.ServeMessages(rw, r, 1<<20, slog.New(slog.DiscardHandler), func(*api.Message, []byte) error {
			w.mu.Lock()
			w.messages++
			w.mu.Unlock()
			return nil
		})
	})
	mux.HandleFunc("GET /v1/runs", func(rw http.ResponseWriter, r *http.Request) {
		w.mu.Lock()
		w.runs++
		w.mu.Unlock()
		api.WriteJSON(rw, http.StatusOK, []any{})
	})
	w.srv = httptest.NewServer(api.RequireSigned(authSecret, mux))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		w.srv.Config.Shutdown(ctx)
		w.srv.Close()
	})
	return w
}

// TestGatewaySignsWorkerCalls: deploys, message streams and run queries
// reach workers that take only signed requests.
func TestGatewaySignsWorkerCalls(t *testing.T) {
	g, srv, _ := newTestGatewayConfig(t, 0, Config{Token: authToken, Secret: authSecret})
	w := newSignedWorker(t)
	g.registerWorker(api.RegisterWorker{ID: "w0", URL: w.srv.URL})
	client := api.NewClient(srv.URL)
	client.Token = authToken
	ctx := context.Background()
	if _, err := client.Deploy(ctx, &api.DeployRequest{Workflow: parseWF(t, twoStep)}); err != nil {
		t.Fatalf("deploy to a worker that checks signatures: %v", err)
	}
	if _, err := client.Invoke(ctx, "two", &api.InvokeRequest{RequestID: "r1", Async: true, Input: map[string]json.RawMessage{"x": json.RawMessage(`1`)}}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { w.mu.Lock(); defer w.mu.Unlock(); return w.messages == 1 })
	if _, err := client.Logs(ctx, "r1"); err != nil {
		t.Fatalf("logs from a worker that checks signatures: %v", err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.deployed != 1 || w.runs != 1 {
		t.Fatalf("worker took %d deploys and %d run queries, want 1 and 1", w.deployed, w.runs)
	}
}
