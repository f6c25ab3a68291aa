package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// retryAfter is what a refused invocation is told to wait, in seconds.
const retryAfter = 1

// tooManyError refuses an invocation over its workflow's cap: 429, with a
// Retry-After header.
type tooManyError struct {
	workflow string
	limit    int
}

func (e *tooManyError) Error() string {
	return fmt.Sprintf("workflow %s already has %d invocations running, its limit: retry after %ds, or raise the limit (deploy with max_inflight, or the gateway's --max-inflight)",
		e.workflow, e.limit, retryAfter)
}

// maxInflight is d's cap on invocations running at once (<= 0: none).
func (g *Gateway) maxInflight(d *deployed) int {
	if d.info.MaxInflight != 0 {
		return d.info.MaxInflight
	}
	return g.cfg.MaxInflight
}

// admitLocked refuses a new invocation of workflow name when it already
// has its cap of invocations running. The caller holds g.mu, and records
// the invocation in g.running if it goes ahead.
func (g *Gateway) admitLocked(name string, d *deployed) error {
	limit := g.maxInflight(d)
	running := g.running[name]
	if len(running) < limit || limit <= 0 {
		if limit <= 0 {
			delete(g.running, name) // nothing to count
		}
		return nil
	}
	// At the cap: forget those that have ended, then count again.
	keep := running[:0]
	for _, inv := range running {
		select {
		case <-inv.done:
		default:
			keep = append(keep, inv)
		}
	}
	clear(running[len(keep):])
	g.running[name] = keep
	if len(keep) < limit {
		return nil
	}
	return &httpError{status: http.StatusTooManyRequests, err: &tooManyError{workflow: name, limit: limit}}
}

// setRetryAfter adds Retry-After to the answer to err when the request may
// be tried again later; call it before writing the answer.
func setRetryAfter(rw http.ResponseWriter, err error) {
	if statusOf(err) == http.StatusTooManyRequests {
		rw.Header().Set("Retry-After", strconv.Itoa(retryAfter))
	}
}

// decodeBody decodes a JSON request body of at most the gateway's
// MaxBody bytes into v; unknown fields are refused. A body over the limit
// is a 413, other errors a 400.
func (g *Gateway) decodeBody(rw http.ResponseWriter, r *http.Request, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(rw, r.Body, int64(g.cfg.MaxBody)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			return tooLargeError("request body", tooLarge.Limit)
		}
		return badRequest(fmt.Errorf("decode request body: %w", err))
	}
	return nil
}
