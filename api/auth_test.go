package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const (
	testToken  = "0123456789abcdef0123456789abcdef"
	testSecret = "fedcba9876543210fedcba9876543210"
)

var okHandler = http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) { rw.WriteHeader(http.StatusNoContent) })

// signedAt returns a header setter signing a request with secret at t.
func signedAt(secret string, t time.Time) func(*http.Request) {
	return func(r *http.Request) {
		r.Header.Set(HeaderSignature, SignatureValue(secret, r.Method, r.URL.RequestURI(), t))
	}
}

func bearer(token string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }
}

// TestRequireAuth runs requests with every kind of good and bad credential
// through the three middlewares.
func TestRequireAuth(t *testing.T) {
	now := time.Now()
	tokenOnly := RequireToken(testToken, okHandler)
	signedOnly := RequireSigned(testSecret, okHandler)
	either := RequireTokenOrSigned(testToken, testSecret, okHandler)
	tests := []struct {
		name    string
		handler http.Handler
		method  string
		target  string
		set     func(*http.Request)
		want    int
		wantMsg string // in the 401's JSON error
	}{
		{"token: none", tokenOnly, "GET", "/v1/workflows", nil, 401, "missing API token"},
		{"token: wrong", tokenOnly, "GET", "/v1/workflows", bearer("nope"), 401, "wrong API token"},
		{"token: not bearer", tokenOnly, "GET", "/v1/workflows", func(r *http.Request) { r.Header.Set("Authorization", "Basic "+testToken) }, 401, "missing API token"},
		{"token: signature instead", tokenOnly, "GET", "/v1/workflows", signedAt(testSecret, now), 401, "FAASFLOW_TOKEN"},
		{"token: right", tokenOnly, "GET", "/v1/workflows", bearer(testToken), 204, ""},
		{"signed: none", signedOnly, "POST", "/v1/internal/reports", nil, 401, "unsigned request"},
		{"signed: token instead", signedOnly, "POST", "/v1/internal/reports", bearer(testToken), 401, "unsigned request"},
		{"signed: wrong secret", signedOnly, "POST", "/v1/internal/reports", signedAt("other", now), 401, "bad signature"},
		{"signed: malformed", signedOnly, "POST", "/v1/internal/reports", func(r *http.Request) { r.Header.Set(HeaderSignature, "garbage") }, 401, "malformed"},
		{"signed: stale", signedOnly, "POST", "/v1/internal/reports", signedAt(testSecret, now.Add(-2*MaxSkew)), 401, "off this node's clock"},
		{"signed: future", signedOnly, "POST", "/v1/internal/reports", signedAt(testSecret, now.Add(2*MaxSkew)), 401, "off this node's clock"},
		{"signed: for another path", signedOnly, "POST", "/v1/internal/reports", func(r *http.Request) {
			r.Header.Set(HeaderSignature, SignatureValue(testSecret, "POST", "/v1/internal/relay", now))
		}, 401, "bad signature"},
		{"signed: for another method", signedOnly, "DELETE", "/v1/data/k", func(r *http.Request) {
			r.Header.Set(HeaderSignature, SignatureValue(testSecret, "GET", "/v1/data/k", now))
		}, 401, "bad signature"},
		{"signed: query changed", signedOnly, "GET", "/v1/data/k?release=1", func(r *http.Request) {
			r.Header.Set(HeaderSignature, SignatureValue(testSecret, "GET", "/v1/data/k", now))
		}, 401, "bad signature"},
		{"signed: right", signedOnly, "POST", "/v1/internal/reports", signedAt(testSecret, now), 204, ""},
		{"signed: right, within skew", signedOnly, "POST", "/v1/internal/reports", signedAt(testSecret, now.Add(-MaxSkew/2)), 204, ""},
		{"signed: right, with query", signedOnly, "GET", "/v1/runs?invocation=a%2Fb", signedAt(testSecret, now), 204, ""},
		{"either: none", either, "GET", "/v1/artifacts/x", nil, 401, "missing API token"},
		{"either: bad signature", either, "GET", "/v1/artifacts/x", signedAt("other", now), 401, "bad signature"},
		{"either: token", either, "GET", "/v1/artifacts/x", bearer(testToken), 204, ""},
		{"either: signed", either, "GET", "/v1/artifacts/x", signedAt(testSecret, now), 204, ""},
		{"off: no token configured", RequireToken("", okHandler), "GET", "/", nil, 204, ""},
		{"off: no secret configured", RequireSigned("", okHandler), "GET", "/", nil, 204, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.target, nil)
			if tt.set != nil {
				tt.set(r)
			}
			rw := httptest.NewRecorder()
			tt.handler.ServeHTTP(rw, r)
			if got := rw.Code; got != tt.want {
				t.Fatalf("status %d, want %d (body %s)", got, tt.want, rw.Body)
			}
			if tt.want != http.StatusUnauthorized {
				return
			}
			var e Error
			if err := json.Unmarshal(rw.Body.Bytes(), &e); err != nil {
				t.Fatalf("401 body is not a JSON error: %v: %s", err, rw.Body)
			}
			if !strings.Contains(e.Error, tt.wantMsg) {
				t.Errorf("401 error %q does not say %q", e.Error, tt.wantMsg)
			}
		})
	}
}

// TestSigningClient: a client made with SignClient passes RequireSigned,
// query and escaped paths included, and does not change the caller's
// request.
func TestSigningClient(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(RequireSigned(testSecret, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.RequestURI)
		rw.WriteHeader(http.StatusNoContent)
	})))
	defer srv.Close()
	tests := []struct {
		name   string
		client *http.Client
		want   int
	}{
		{"signed", SignClient(NewHTTPClient(), testSecret), http.StatusNoContent},
		{"other secret", SignClient(NewHTTPClient(), "other"), http.StatusUnauthorized},
		{"unsigned", NewHTTPClient(), http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/v1/data/inv%2Fkey", "/v1/runs?invocation=x%20y", "/v1/internal/reports"} {
				req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader("body"))
				resp, err := tt.client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tt.want {
					t.Errorf("%s: status %d, want %d", path, resp.StatusCode, tt.want)
				}
				if req.Header.Get(HeaderSignature) != "" {
					t.Errorf("the caller's request was changed: it has %s", HeaderSignature)
				}
			}
		})
	}
}

// TestSenderSignsStreams: a sender with the secret opens a message stream
// to a receiver that checks signatures; one without is refused with 401.
func TestSenderSignsStreams(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	srv := httptest.NewServer(RequireSigned(testSecret, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		ServeMessages(rw, r, 1<<20, log, func(*Message, []byte) error { return nil })
	})))
	defer func() {
		srv.Config.Shutdown(context.Background())
		srv.Close()
	}()
	tests := []struct {
		name    string
		secret  string
		wantErr bool
	}{
		{"signed", testSecret, false},
		{"unsigned", "", true},
		{"other secret", "other", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSender()
			s.Secret = tt.secret
			defer s.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			err := s.Send(ctx, srv.URL, &Message{Invocation: "i"}, []byte("v"))
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), "401") {
				t.Fatalf("Send: %v, want a 401 refusal", err)
			}
		})
	}
}

// TestClientSendsToken: api.Client's calls (JSON and artifact upload) carry
// its token; without it the gateway's 401 message reaches the caller.
func TestClientSendsToken(t *testing.T) {
	srv := httptest.NewServer(RequireToken(testToken, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodHead:
			rw.WriteHeader(http.StatusNotFound)
		case http.MethodPut:
			rw.WriteHeader(http.StatusNoContent)
		default:
			WriteJSON(rw, http.StatusOK, []WorkerInfo{})
		}
	})))
	defer srv.Close()
	art := filepath.Join(t.TempDir(), "a")
	os.WriteFile(art, []byte("x"), 0o644)
	sum := strings.Repeat("ab", 32)

	c := NewClient(srv.URL)
	c.Token = testToken
	if _, err := c.Workers(context.Background()); err != nil {
		t.Errorf("Workers with the token: %v", err)
	}
	if err := c.UploadArtifact(context.Background(), sum, art); err != nil {
		t.Errorf("UploadArtifact with the token: %v", err)
	}
	c.Token = ""
	if _, err := c.Workers(context.Background()); err == nil || !strings.Contains(err.Error(), "FAASFLOW_TOKEN") {
		t.Errorf("Workers without a token: %v, want a 401 saying where the token is", err)
	}
	if err := c.UploadArtifact(context.Background(), sum, art); err == nil || !strings.Contains(err.Error(), "FAASFLOW_TOKEN") {
		t.Errorf("UploadArtifact without a token: %v, want a 401 saying where the token is", err)
	}
}

func TestSecretFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	s, err := WriteSecretFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 64 {
		t.Errorf("secret %q: want 64 hex characters (32 random bytes)", s)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("secret file mode %v, want 0600", st.Mode().Perm())
	}
	if again, _ := WriteSecretFile(path); again == s {
		t.Errorf("two secrets are the same")
	}

	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
		wantErr string
	}{
		{"trimmed", "  abc\n", 0o600, "abc", ""},
		{"owner read-only", "abc", 0o400, "abc", ""},
		{"group readable", "abc", 0o640, "", "chmod 600"},
		{"world readable", "abc", 0o644, "", "chmod 600"},
		{"empty", "\n", 0o600, "", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			if err := os.WriteFile(p, []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(p, tt.mode)
			got, err := ReadSecretFile(p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ReadSecretFile: %q, %v; want an error saying %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ReadSecretFile: %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := ReadSecretFile(filepath.Join(dir, "missing")); err == nil {
		t.Error("ReadSecretFile of a missing file succeeded")
	}
}
