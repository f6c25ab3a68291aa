package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"
)

// Client calls the gateway's public API.
type Client struct {
	// Base is the gateway's base URL ("http://127.0.0.1:7000").
	Base string
	HTTP *http.Client
	// Token is the cluster's API token, sent as "Authorization: Bearer
	// TOKEN" (none when empty).
	Token string
}

// NewClient returns a client for the gateway at base.
func NewClient(base string) *Client {
	return &Client{Base: base, HTTP: NewHTTPClient()}
}

func (c *Client) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.Base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	c.authorize(req)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("gateway at %s: %w (is the cluster up? try `faasflow cluster up`)", c.Base, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return ResponseError(resp)
	}
	if out == nil {
		io.Copy(io.Discard, resp.Body)
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("decode gateway answer to %s %s: %w", method, path, err)
	}
	return nil
}

// authorize adds the API token to req.
func (c *Client) authorize(req *http.Request) {
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
}

// Health checks that the gateway answers and returns its worker count.
func (c *Client) Health(ctx context.Context) (workers int, err error) {
	var h struct {
		Workers int `json:"workers"`
	}
	err = c.call(ctx, http.MethodGet, "/healthz", nil, &h)
	return h.Workers, err
}

// Workers lists the registered workers.
func (c *Client) Workers(ctx context.Context) ([]WorkerInfo, error) {
	var out []WorkerInfo
	return out, c.call(ctx, http.MethodGet, "/v1/workers", nil, &out)
}

// Deploy deploys a workflow.
func (c *Client) Deploy(ctx context.Context, req *DeployRequest) (*WorkflowInfo, error) {
	var out WorkflowInfo
	return &out, c.call(ctx, http.MethodPost, "/v1/workflows", req, &out)
}

// Workflows lists deployed workflows.
func (c *Client) Workflows(ctx context.Context) ([]WorkflowInfo, error) {
	var out []WorkflowInfo
	return out, c.call(ctx, http.MethodGet, "/v1/workflows", nil, &out)
}

// Invoke starts an invocation of the named workflow. Unless req.Async, it
// waits for the end and returns the result.
func (c *Client) Invoke(ctx context.Context, name string, req *InvokeRequest) (*Invocation, error) {
	var out Invocation
	return &out, c.call(ctx, http.MethodPost, "/v1/workflows/"+url.PathEscape(name)+"/invocations", req, &out)
}

// Invocation returns an invocation's status; wait > 0 waits up to that
// long for it to end.
func (c *Client) Invocation(ctx context.Context, id string, wait time.Duration) (*Invocation, error) {
	path := "/v1/invocations/" + url.PathEscape(id)
	if wait > 0 {
		path += "?wait=" + wait.String()
	}
	var out Invocation
	return &out, c.call(ctx, http.MethodGet, path, nil, &out)
}

// Invocations lists invocations, newest first; empty filters match all.
func (c *Client) Invocations(ctx context.Context, workflow, status string, limit int) ([]Invocation, error) {
	q := url.Values{}
	if workflow != "" {
		q.Set("workflow", workflow)
	}
	if status != "" {
		q.Set("status", status)
	}
	q.Set("limit", fmt.Sprint(limit))
	var out []Invocation
	return out, c.call(ctx, http.MethodGet, "/v1/invocations?"+q.Encode(), nil, &out)
}

// Logs returns the per-function run records of an invocation as JSON objects.
func (c *Client) Logs(ctx context.Context, id string) ([]json.RawMessage, error) {
	var out []json.RawMessage
	return out, c.call(ctx, http.MethodGet, "/v1/invocations/"+url.PathEscape(id)+"/logs", nil, &out)
}

// UploadArtifact uploads the file at path under its sha256, unless the
// gateway has it already.
func (c *Client) UploadArtifact(ctx context.Context, sum, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, c.Base+"/v1/artifacts/"+sum, nil)
	if err != nil {
		return err
	}
	c.authorize(req)
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("gateway at %s: %w", c.Base, err)
	}
	resp.Body.Close()
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return &StatusError{Code: resp.StatusCode, Status: resp.Status, Message: "missing or wrong API token: " + TokenHint}
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	req, err = http.NewRequestWithContext(ctx, http.MethodPut, c.Base+"/v1/artifacts/"+sum, f)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/octet-stream")
	c.authorize(req)
	if err := Do(c.HTTP, req); err != nil {
		return fmt.Errorf("upload artifact %s: %w", sum[:12], err)
	}
	return nil
}
