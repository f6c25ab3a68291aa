package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/placement"
)

// deployed is a workflow as the gateway keeps it.
type deployed struct {
	dep  *api.Deployment
	info api.WorkflowInfo
	// req is the request it was deployed by: a resume places it again.
	req *api.DeployRequest
	// starters are workers running functions without inputs.
	starters []string
	// uses holds the workers that run at least one of its functions.
	uses map[string]bool
}

// deploy validates a deploy request, places the workflow and installs it
// on every worker.
func (g *Gateway) deploy(ctx context.Context, req *api.DeployRequest) (*api.WorkflowInfo, error) {
	wf := req.Workflow
	if wf == nil {
		return nil, badRequest(errors.New("deploy request has no workflow"))
	}
	if err := wf.Validate(); err != nil {
		return nil, badRequest(err)
	}
	if len(wf.Results) == 0 {
		return nil, badRequest(fmt.Errorf("workflow %s sends nothing to $result, so an invocation could never be seen to end: send at least one output to $result", wf.Name))
	}
	mode := req.Mode
	if mode == "" {
		mode = api.ModeDataflow
	}
	if !slices.Contains(api.Modes, mode) {
		return nil, badRequest(fmt.Errorf("unknown mode %q: use one of %s", mode, strings.Join(api.Modes, ", ")))
	}
	for _, f := range wf.Functions {
		if f.Artifact == "" {
			continue
		}
		if _, err := os.Stat(g.artifactPath(f.Artifact)); err != nil {
			return nil, badRequest(fmt.Errorf("function %s: artifact %s was not uploaded: PUT it to /v1/artifacts/{sha256} first", f.Name, f.Artifact))
		}
	}
	workers := g.liveWorkers()
	pws := make([]placement.Worker, len(workers))
	urls := make(map[string]string, len(workers))
	for i, w := range workers {
		pws[i] = placement.Worker{ID: w.ID, Slots: w.Slots, MemoryMB: w.MemoryMB}
		urls[w.ID] = w.URL
	}
	table, err := placement.Place(wf, pws, req.Placement, req.Table)
	if err != nil {
		return nil, badRequest(err)
	}
	g.mu.Lock()
	g.version++
	version := g.version
	g.mu.Unlock()

	dep := &api.Deployment{Workflow: wf, Placement: table, Workers: urls, Mode: mode, Version: version, Checkpoint: req.Checkpoint}
	body, err := json.Marshal(dep)
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(workers))
	for i, w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.install(ctx, w.ID, w.URL, wf.Name, body)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("deploy %s: %w", wf.Name, err)
	}

	d := newDeployed(dep, req)
	strategy := req.Placement
	if strategy == "" {
		strategy = placement.RoundRobin
	}
	d.info = api.WorkflowInfo{Name: wf.Name, Mode: mode, Placement: table, Strategy: strategy,
		Functions: len(wf.Functions), Version: version, Deployed: time.Now(), Checkpoint: req.Checkpoint,
		MaxInflight: req.MaxInflight, Explain: placement.Explain(wf, table)}
	g.mu.Lock()
	g.workflows[wf.Name] = d
	g.mu.Unlock()
	if err := g.saveWorkflow(d); err != nil {
		// Deployed all the same; only a restarted gateway would not know it.
		g.log.Error("workflow deployed but not saved: a restarted gateway will not know it", "workflow", wf.Name, "err", err)
	}
	g.log.Info("workflow deployed", "workflow", wf.Name, "version", version, "placement", strategy, "workers", len(workers))
	return &d.info, nil
}

// newDeployed returns dep as the gateway keeps it, with the workers it uses
// and those that start it; the caller fills in info.
func newDeployed(dep *api.Deployment, req *api.DeployRequest) *deployed {
	d := &deployed{dep: dep, req: req, uses: map[string]bool{}}
	for _, w := range dep.Placement {
		d.uses[w] = true
	}
	if dep.Workflow == nil {
		return d
	}
	starters := map[string]bool{}
	for _, f := range dep.Workflow.Functions {
		if len(f.Inputs) == 0 {
			starters[dep.Placement[f.Name]] = true
		}
	}
	for w := range starters {
		d.starters = append(d.starters, w)
	}
	sort.Strings(d.starters)
	return d
}

// install puts a deployment (body) of workflow name on worker id at base.
func (g *Gateway) install(ctx context.Context, id, base, name string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, base+"/v1/workflows/"+url.PathEscape(name), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if err := api.Do(g.client, req); err != nil {
		err = fmt.Errorf("worker %s (%s): %w", id, base, err)
		// A worker refusing the workflow is the caller's problem to fix.
		if se := (*api.StatusError)(nil); errors.As(err, &se) && se.Code/100 == 4 {
			err = badRequest(err)
		}
		return err
	}
	return nil
}

func (g *Gateway) artifactPath(sum string) string {
	return filepath.Join(g.cfg.DataDir, "artifacts", sum)
}

// putArtifact stores an uploaded executable under its sha256.
func (g *Gateway) putArtifact(sum string, body io.Reader) error {
	if b, err := hex.DecodeString(sum); err != nil || len(b) != sha256.Size {
		return badRequest(fmt.Errorf("artifact name %q is not a sha256 in hex", sum))
	}
	tmp, err := os.CreateTemp(filepath.Join(g.cfg.DataDir, "artifacts"), "upload-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), body); err != nil {
		tmp.Close()
		if tooLarge := (*http.MaxBytesError)(nil); errors.As(err, &tooLarge) {
			return tooLargeError("artifact", tooLarge.Limit)
		}
		return badRequest(fmt.Errorf("read artifact: %w", err))
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum {
		return badRequest(fmt.Errorf("artifact's sha256 is %s, not %s as named", got, sum))
	}
	return os.Rename(tmp.Name(), g.artifactPath(sum))
}

// httpError is an error with the HTTP status to answer it with.
type httpError struct {
	status int
	err    error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

func badRequest(err error) error { return &httpError{status: http.StatusBadRequest, err: err} }
func notFound(err error) error   { return &httpError{status: http.StatusNotFound, err: err} }

// tooLargeError is the 413 error for a body (what) over the gateway's limit.
func tooLargeError(what string, limit int64) error {
	return &httpError{status: http.StatusRequestEntityTooLarge,
		err: fmt.Errorf("%s is over the gateway's limit of %d bytes: raise it with the gateway's --max-body", what, limit)}
}

func statusOf(err error) int {
	var he *httpError
	if errors.As(err, &he) {
		return he.status
	}
	return http.StatusInternalServerError
}
