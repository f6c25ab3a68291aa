package api

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// Two credentials guard a cluster (docs/security.md):
//
//   - the API token, which users send to the gateway's public API as
//     "Authorization: Bearer TOKEN";
//   - the cluster secret, which only the gateway and the workers hold: they
//     sign every request they send each other with it (HMAC-SHA256 over the
//     method, the path with its query and a Unix timestamp, in the
//     HeaderSignature header), and refuse unsigned or badly signed ones.
//
// An empty token or secret turns its check off (unit tests with httptest
// servers); every way of running a cluster sets both.

// HeaderSignature carries a signed request's timestamp and HMAC:
// "t=UNIX_SECONDS,s=HEX_HMAC_SHA256".
const HeaderSignature = "X-Faasflow-Signature"

// MaxSkew is how far a signed request's timestamp may be from the
// receiver's clock, either way. It bounds how long a captured request can
// be replayed, and needs the nodes' clocks roughly in step (NTP).
const MaxSkew = 60 * time.Second

// TokenHint tells a client refused for its token where to find the right
// one; servers put it in their 401 answers.
const TokenHint = "the cluster's API token is in $FAASFLOW_HOME/token for a local cluster (/etc/faasflow/token on a provisioned gateway node); the faasflow CLI reads it from there, or set FAASFLOW_TOKEN or send \"Authorization: Bearer TOKEN\""

// NewSecret returns 32 random bytes, hex-encoded: a fresh API token or
// cluster secret.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate a secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// WriteSecretFile writes a fresh secret (NewSecret) to path, readable by
// its owner only, and returns it.
func WriteSecretFile(path string) (string, error) {
	s, err := NewSecret()
	if err != nil {
		return "", err
	}
	tmp := path + ".tmp"
	os.Remove(tmp)
	if err := os.WriteFile(tmp, []byte(s+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write secret file: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("write secret file: %w", err)
	}
	return s, nil
}

// ReadSecretFile reads a token or secret from path, without surrounding
// white space. It refuses an empty file, and a file that others than its
// owner may read: secrets are passed as files (never on the command line,
// where ps shows them) and must stay private.
func ReadSecretFile(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("secret file %s has mode %v: others than its owner can read it; run chmod 600 %s", path, st.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read secret file: %w", err)
	}
	s := string(bytes.TrimSpace(b))
	if s == "" {
		return "", fmt.Errorf("secret file %s is empty", path)
	}
	return s, nil
}

// signature computes the HMAC of a request: method, path and query as sent
// on the wire, timestamp.
func signature(secret, method, uri string, ts int64) string {
	m := hmac.New(sha256.New, []byte(secret))
	fmt.Fprintf(m, "faasflow-v1\n%s\n%s\n%d", method, uri, ts)
	return hex.EncodeToString(m.Sum(nil))
}

// SignatureValue is the HeaderSignature value for a request with method
// and uri (path and query, as on the wire) sent at now.
func SignatureValue(secret, method, uri string, now time.Time) string {
	ts := now.Unix()
	return "t=" + strconv.FormatInt(ts, 10) + ",s=" + signature(secret, method, uri, ts)
}

// Sign adds the HeaderSignature header to req; an empty secret adds
// nothing.
func Sign(req *http.Request, secret string) {
	if secret == "" {
		return
	}
	req.Header.Set(HeaderSignature, SignatureValue(secret, req.Method, req.URL.RequestURI(), time.Now()))
}

// VerifySignature checks a request's HeaderSignature against secret at
// time now. Its error says what is wrong, for the 401 answer.
func VerifySignature(r *http.Request, secret string, now time.Time) error {
	v := r.Header.Get(HeaderSignature)
	if v == "" {
		return errors.New("unsigned request: only the cluster's gateway and workers, which hold its secret, may call this endpoint")
	}
	var tsText, sig string
	for _, part := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			tsText = val
		case "s":
			sig = val
		}
	}
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || sig == "" {
		return fmt.Errorf("malformed %s header: want t=UNIX_SECONDS,s=HEX_HMAC", HeaderSignature)
	}
	if skew := now.Sub(time.Unix(ts, 0)); skew > MaxSkew || skew < -MaxSkew {
		return fmt.Errorf("signature timestamp is %v off this node's clock (limit %v): a replayed request, or clocks out of step (run NTP on every node)", skew.Round(time.Second), MaxSkew)
	}
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	want := signature(secret, r.Method, uri, ts)
	if subtle.ConstantTimeCompare([]byte(sig), []byte(want)) != 1 {
		return errors.New("bad signature: the sender does not hold this cluster's secret (are gateway and workers started with the same --secret-file?)")
	}
	return nil
}

// CheckToken checks a request's bearer token.
func CheckToken(r *http.Request, token string) error {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || got == "" {
		return errors.New("missing API token: " + TokenHint)
	}
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(got)), []byte(token)) != 1 {
		return errors.New("wrong API token: " + TokenHint)
	}
	return nil
}

// RequireToken serves h only to requests carrying token as a bearer token;
// others get 401. An empty token lets every request through.
func RequireToken(token string, h http.Handler) http.Handler {
	if token == "" {
		return h
	}
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if err := CheckToken(r, token); err != nil {
			unauthorized(rw, `Bearer realm="faasflow"`, err)
			return
		}
		h.ServeHTTP(rw, r)
	})
}

// RequireSigned serves h only to requests signed with secret; others get
// 401. An empty secret lets every request through.
func RequireSigned(secret string, h http.Handler) http.Handler {
	if secret == "" {
		return h
	}
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if err := VerifySignature(r, secret, time.Now()); err != nil {
			unauthorized(rw, "", err)
			return
		}
		h.ServeHTTP(rw, r)
	})
}

// RequireTokenOrSigned serves h to requests with the bearer token or
// signed with the secret (an endpoint that both users and peers call).
// When either is empty, every request gets through.
func RequireTokenOrSigned(token, secret string, h http.Handler) http.Handler {
	if token == "" || secret == "" {
		return h
	}
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		var err error
		if r.Header.Get(HeaderSignature) != "" {
			err = VerifySignature(r, secret, time.Now())
		} else {
			err = CheckToken(r, token)
		}
		if err != nil {
			unauthorized(rw, `Bearer realm="faasflow"`, err)
			return
		}
		h.ServeHTTP(rw, r)
	})
}

func unauthorized(rw http.ResponseWriter, challenge string, err error) {
	if challenge != "" {
		rw.Header().Set("WWW-Authenticate", challenge)
	}
	WriteError(rw, http.StatusUnauthorized, err)
}

// SigningTransport signs every request it sends with Secret (see Sign)
// and hands it to Base (http.DefaultTransport when nil).
type SigningTransport struct {
	Secret string
	Base   http.RoundTripper
}

// RoundTrip signs a copy of req and sends it.
func (t *SigningTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	if t.Secret == "" {
		return base.RoundTrip(req)
	}
	// A RoundTripper must not change the caller's request.
	signed := req.Clone(req.Context())
	Sign(signed, t.Secret)
	return base.RoundTrip(signed)
}

// SignClient makes c sign every request with secret and returns it; an
// empty secret leaves c as it is.
func SignClient(c *http.Client, secret string) *http.Client {
	if secret != "" {
		c.Transport = &SigningTransport{Secret: secret, Base: c.Transport}
	}
	return c
}
