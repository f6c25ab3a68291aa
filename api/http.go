package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/faasflow/faasflow-go/fn/protocol"
)

// NewHTTPClient returns the client used between FaaSFlow processes: many
// kept-alive connections per peer, no compression.
func NewHTTPClient() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        256,
		MaxIdleConnsPerHost: 64,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}}
}

// Do sends req and turns a non-2xx answer into an error carrying the
// server's message. The response body is drained and closed.
func Do(client *http.Client, req *http.Request) error {
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 == 2 {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	return ResponseError(resp)
}

// StatusError is an error response from a server: its status code and
// the message it sent.
type StatusError struct {
	Code    int    // HTTP status code
	Status  string // e.g. "400 Bad Request"
	Message string
}

func (e *StatusError) Error() string { return e.Status + ": " + e.Message }

// Refused reports whether err is a server's error answer (a *StatusError):
// the server is up and said no, as opposed to a server that could not be
// reached.
func Refused(err error) bool {
	var se *StatusError
	return errors.As(err, &se)
}

// ResponseError reads an error response into a *StatusError.
func ResponseError(resp *http.Response) error {
	var e Error
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	msg := string(bytes.TrimSpace(b))
	if json.Unmarshal(b, &e) == nil && e.Error != "" {
		msg = e.Error
	}
	return &StatusError{Code: resp.StatusCode, Status: resp.Status, Message: msg}
}

// PostRaw posts body to url with meta, JSON-encoded, in the named header.
func PostRaw(ctx context.Context, client *http.Client, url, header string, meta any, body []byte) error {
	hdr, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set(header, string(hdr))
	req.Header.Set("Content-Type", "application/octet-stream")
	MarkReplayable(req)
	return Do(client, req)
}

// MarkReplayable tells net/http that req may be sent again when the
// connection it went out on turns out to have been closed by the server
// before any answer (the keep-alive race, seen as "EOF"). Only for
// requests whose effect is the same when repeated: messages, reports and
// relays are (receivers drop duplicates).
func MarkReplayable(req *http.Request) {
	req.Header.Set("Idempotency-Key", "faasflow")
}

// Post sends an empty POST to url.
func Post(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, nil)
	if err != nil {
		return err
	}
	return Do(client, req)
}

// WriteJSON writes v as a JSON response.
func WriteJSON(rw http.ResponseWriter, status int, v any) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	json.NewEncoder(rw).Encode(v)
}

// WriteError writes err as an Error response.
func WriteError(rw http.ResponseWriter, status int, err error) {
	WriteJSON(rw, status, Error{Error: err.Error()})
}

// ReadRaw reads a request made by PostRaw: it decodes the JSON in the
// named header into meta and returns the raw body (at most max bytes). On
// error it has already answered the request: 400 for a bad header or a
// body cut short, 413 for a body over max.
func ReadRaw(rw http.ResponseWriter, r *http.Request, header string, meta any, max int) ([]byte, bool) {
	if err := json.Unmarshal([]byte(r.Header.Get(header)), meta); err != nil {
		WriteError(rw, http.StatusBadRequest, fmt.Errorf("bad %s header: %w", header, err))
		return nil, false
	}
	body, err := ReadBody(rw, r, max)
	if err != nil {
		status := http.StatusBadRequest
		if errors.Is(err, ErrBodyTooLarge) {
			status = http.StatusRequestEntityTooLarge
		}
		WriteError(rw, status, err)
		return nil, false
	}
	return body, true
}

// ErrBodyTooLarge is ReadBody's error for a body over its limit.
var ErrBodyTooLarge = errors.New("body too large")

// ReadBody reads a request body of at most max bytes. Its buffer grows as
// the bytes arrive, so a client announcing a large body and sending little
// makes the server reserve little.
func ReadBody(rw http.ResponseWriter, r *http.Request, max int) ([]byte, error) {
	if r.ContentLength > int64(max) {
		return nil, fmt.Errorf("%w: %d bytes is over the limit of %d bytes (raise it with --max-body)", ErrBodyTooLarge, r.ContentLength, max)
	}
	body := http.MaxBytesReader(rw, r.Body, int64(max))
	if r.ContentLength >= 0 {
		buf, err := protocol.ReadN(body, int(r.ContentLength))
		if err != nil {
			return nil, fmt.Errorf("read body: %w", err)
		}
		return buf, nil
	}
	b, err := io.ReadAll(body)
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		return nil, fmt.Errorf("%w: over the limit of %d bytes (raise it with --max-body)", ErrBodyTooLarge, max)
	}
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return b, nil
}

// Serve serves h on ln until ctx ends or the server fails, then shuts the
// server down, giving requests in flight a few seconds to finish.
func Serve(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	srv.Shutdown(shutCtx)
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
