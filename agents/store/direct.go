package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Direct is the remote tier that needs no server of its own: a value stays
// in the producer's store and consumers on other workers stream it from the
// producer's agent over HTTP. Its keys are URLs, so a consumer's Direct
// knows where to read any key; keys under its own base are served locally.
type Direct struct {
	local  Store
	base   string // e.g. http://127.0.0.1:7101
	client *http.Client
}

var _ Store = (*Direct)(nil)

// DataPath is the HTTP path under which an agent serves its values.
const DataPath = "/v1/data/"

// NewDirect returns a Direct store keeping values in local and serving them
// at base (this agent's HTTP address, "http://host:port"); mount Handler on
// the agent's server. client may be nil for http.DefaultClient.
func NewDirect(local Store, base string, client *http.Client) *Direct {
	if client == nil {
		client = http.DefaultClient
	}
	return &Direct{local: local, base: strings.TrimSuffix(base, "/"), client: client}
}

// SetClient sets the client that reads values from other agents: one that
// signs its requests when agents check signatures (see api.SignClient).
// Call it before the store is used.
func (d *Direct) SetClient(client *http.Client) { d.client = client }

// Tier reports "direct".
func (d *Direct) Tier() string { return "direct" }

// Put stores the value in the local store; the key is its URL.
func (d *Direct) Put(ctx context.Context, inv string, refs int, r io.Reader) (string, error) {
	key, err := d.local.Put(ctx, inv, refs, r)
	if err != nil || key == "" {
		return key, err
	}
	return d.base + DataPath + url.PathEscape(key), nil
}

// localKey returns the local store's key when key is served by this agent.
func (d *Direct) localKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, d.base+DataPath)
	if !ok {
		return "", false
	}
	k, err := url.PathUnescape(rest)
	return k, err == nil
}

// Open reads the value from the local store, or streams it from the agent
// that holds it.
func (d *Direct) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	if k, ok := d.localKey(key); ok {
		return d.local.Open(ctx, k)
	}
	return d.get(ctx, key, false)
}

// Take reads the whole value and gives up one reference in the same
// request: what a consumer's agent does with a value it fetches, in one
// round trip instead of two.
func (d *Direct) Take(ctx context.Context, key string) ([]byte, error) {
	if k, ok := d.localKey(key); ok {
		data, err := ReadAll(ctx, d.local, k)
		if err != nil {
			return nil, err
		}
		return data, d.local.Release(ctx, k)
	}
	body, err := d.get(ctx, key, true)
	if err != nil {
		return nil, err
	}
	defer body.Close()
	return readAll(body)
}

// get streams a value from the agent that holds it; with release, that
// agent gives up a reference once it has sent the value.
func (d *Direct) get(ctx context.Context, key string, release bool) (io.ReadCloser, error) {
	if !strings.Contains(key, DataPath) {
		return nil, fmt.Errorf("direct store: %q is not a value URL: %w", key, ErrNotFound)
	}
	u := key
	if release {
		u += "?release=1"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, fmt.Errorf("direct store: %w", err)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("direct store: read %s: %w", key, err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		if resp.ContentLength >= 0 {
			return &sizedBody{ReadCloser: resp.Body, left: resp.ContentLength}, nil
		}
		return resp.Body, nil
	case http.StatusNotFound:
		resp.Body.Close()
		return nil, fmt.Errorf("direct store: %s: %w", key, ErrNotFound)
	default:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		resp.Body.Close()
		return nil, fmt.Errorf("direct store: read %s: %s: %s", key, resp.Status, strings.TrimSpace(string(msg)))
	}
}

// Release gives up a reference, at the agent that holds the value.
func (d *Direct) Release(ctx context.Context, key string) error {
	if k, ok := d.localKey(key); ok {
		return d.local.Release(ctx, k)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, key, nil)
	if err != nil {
		return fmt.Errorf("direct store: %w", err)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return fmt.Errorf("direct store: release %s: %w", key, err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("direct store: release %s: %s", key, resp.Status)
	}
	return nil
}

// DropInvocation deletes the invocation's values held here.
func (d *Direct) DropInvocation(ctx context.Context, inv string) error {
	return d.local.DropInvocation(ctx, inv)
}

// Close closes the local store.
func (d *Direct) Close() error { return d.local.Close() }

// Handler serves GET (stream a value) and DELETE (release a reference) of
// this agent's values under DataPath.
func (d *Direct) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+DataPath+"{key...}", func(w http.ResponseWriter, r *http.Request) {
		key := r.PathValue("key")
		rc, err := d.local.Open(r.Context(), key)
		if errors.Is(err, ErrNotFound) {
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer rc.Close()
		w.Header().Set("Content-Type", "application/octet-stream")
		if sized, ok := rc.(interface{ Len() int }); ok {
			w.Header().Set("Content-Length", strconv.Itoa(sized.Len()))
		}
		if _, err := io.Copy(w, rc); err != nil {
			// Cut the connection so the reader sees an error, not a short value.
			panic(http.ErrAbortHandler)
		}
		if r.URL.Query().Get("release") != "" {
			d.local.Release(r.Context(), key)
		}
	})
	mux.HandleFunc("DELETE "+DataPath+"{key...}", func(w http.ResponseWriter, r *http.Request) {
		if err := d.local.Release(r.Context(), r.PathValue("key")); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	return mux
}

// sizedBody is a response body of known length; ReadAll allocates it once.
type sizedBody struct {
	io.ReadCloser
	left int64
}

func (b *sizedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.left -= int64(n)
	return n, err
}

// Len reports the bytes not read yet.
func (b *sizedBody) Len() int { return int(b.left) }
