// Package apitest has the checks the HTTP handlers' tests and fuzzers of
// the gateway and the worker share.
package apitest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/faasflow/faasflow-go/api"
)

// Serve sends r to h and returns the recorded answer.
func Serve(h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	return rec
}

// CheckAnswer fails on a 5xx, and on an error answer that is not a JSON
// api.Error naming the problem; what says which request it was.
func CheckAnswer(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	if rec.Code >= 500 {
		t.Fatalf("%s: %d %s, want no server error for a client's input", what, rec.Code, rec.Body)
	}
	if rec.Code < 400 {
		return
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
		t.Fatalf("%s: %d with Content-Type %q, want a JSON error", what, rec.Code, ct)
	}
	var e api.Error
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || strings.TrimSpace(e.Error) == "" {
		t.Fatalf("%s: %d with body %q, want {\"error\": \"...\"} naming the problem", what, rec.Code, rec.Body)
	}
}
