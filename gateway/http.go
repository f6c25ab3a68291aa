package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/faasflow/faasflow-go/agents/engine"
	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/workflow"
)

// Handler returns the gateway's HTTP API.
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", g.handleHealth)
	mux.Handle("GET /metrics", g.metrics.Handler())
	mux.HandleFunc("GET /v1/workers", g.handleWorkers)
	mux.HandleFunc("POST /v1/workflows", g.handleDeploy)
	mux.HandleFunc("GET /v1/workflows", g.handleListWorkflows)
	mux.HandleFunc("GET /v1/workflows/{name}", g.handleGetWorkflow)
	mux.HandleFunc("POST /v1/workflows/{name}/invocations", g.handleInvoke)
	mux.HandleFunc("GET /v1/invocations", g.handleListInvocations)
	mux.HandleFunc("GET /v1/invocations/{id}", g.handleGetInvocation)
	mux.HandleFunc("GET /v1/invocations/{id}/logs", g.handleLogs)
	mux.HandleFunc("PUT /v1/artifacts/{sum}", g.handlePutArtifact)
	mux.HandleFunc("HEAD /v1/artifacts/{sum}", g.handleGetArtifact)
	mux.HandleFunc("GET /v1/artifacts/{sum}", g.handleGetArtifact)
	mux.HandleFunc("POST /v1/internal/workers", g.handleRegister)
	mux.HandleFunc("POST /v1/internal/reports", g.handleReport)
	mux.HandleFunc("POST /v1/internal/relay", g.handleRelay)
	mux.HandleFunc("GET "+api.MessagesStreamPath, g.handleMessageStream)
	mux.HandleFunc("POST /run", g.handleRun)
	return g.authorize(mux)
}

// authorize guards the API (docs/security.md): /healthz and /metrics are
// open (probes and scrapers; they hold no data), /v1/internal/* and the
// message stream take only requests signed with the cluster secret
// (workers), artifact downloads take either (workers fetch them, users
// check them), and everything else — routes added later included — needs
// the API token.
func (g *Gateway) authorize(mux http.Handler) http.Handler {
	user := api.RequireToken(g.cfg.Token, mux)
	peer := api.RequireSigned(g.cfg.Secret, mux)
	either := api.RequireTokenOrSigned(g.cfg.Token, g.cfg.Secret, mux)
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		switch {
		case r.Method == http.MethodGet && (p == "/healthz" || p == "/metrics"):
			mux.ServeHTTP(rw, r)
		case strings.HasPrefix(p, "/v1/internal/") || p == api.MessagesStreamPath:
			peer.ServeHTTP(rw, r)
		case strings.HasPrefix(p, "/v1/artifacts/") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
			either.ServeHTTP(rw, r)
		default:
			user.ServeHTTP(rw, r)
		}
	})
}

func (g *Gateway) handleHealth(rw http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	n := len(g.workers)
	g.mu.Unlock()
	api.WriteJSON(rw, http.StatusOK, map[string]any{"status": "ok", "workers": n})
}

func (g *Gateway) handleWorkers(rw http.ResponseWriter, r *http.Request) {
	api.WriteJSON(rw, http.StatusOK, g.workerList())
}

func (g *Gateway) handleRegister(rw http.ResponseWriter, r *http.Request) {
	var req api.RegisterWorker
	if err := g.decodeBody(rw, r, &req); err != nil {
		api.WriteError(rw, statusOf(err), err)
		return
	}
	if req.ID == "" || !strings.HasPrefix(req.URL, "http") {
		api.WriteError(rw, http.StatusBadRequest, errors.New("register needs an id and an http URL"))
		return
	}
	g.registerWorker(req)
	rw.WriteHeader(http.StatusNoContent)
}

func (g *Gateway) handleDeploy(rw http.ResponseWriter, r *http.Request) {
	var req api.DeployRequest
	if err := g.decodeBody(rw, r, &req); err != nil {
		api.WriteError(rw, statusOf(err), err)
		return
	}
	info, err := g.deploy(r.Context(), &req)
	if err != nil {
		api.WriteError(rw, statusOf(err), err)
		return
	}
	api.WriteJSON(rw, http.StatusOK, info)
}

func (g *Gateway) handleListWorkflows(rw http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	out := make([]api.WorkflowInfo, 0, len(g.workflows))
	for _, name := range slices.Sorted(maps.Keys(g.workflows)) {
		out = append(out, g.workflows[name].info)
	}
	g.mu.Unlock()
	api.WriteJSON(rw, http.StatusOK, out)
}

func (g *Gateway) handleGetWorkflow(rw http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	d := g.workflows[r.PathValue("name")]
	g.mu.Unlock()
	if d == nil {
		api.WriteError(rw, http.StatusNotFound, fmt.Errorf("workflow %q is not deployed", r.PathValue("name")))
		return
	}
	api.WriteJSON(rw, http.StatusOK, d.info)
}

// handleInvoke starts an invocation; without "async" it waits for the end
// and answers with the result.
func (g *Gateway) handleInvoke(rw http.ResponseWriter, r *http.Request) {
	var req api.InvokeRequest
	if err := g.decodeBody(rw, r, &req); err != nil {
		api.WriteError(rw, statusOf(err), err)
		return
	}
	inv, created, err := g.invoke(r.PathValue("name"), &req)
	if err != nil {
		setRetryAfter(rw, err)
		api.WriteError(rw, statusOf(err), err)
		return
	}
	if req.Async {
		info, err := g.snapshot(inv)
		if err != nil {
			api.WriteError(rw, http.StatusInternalServerError, err)
			return
		}
		status := http.StatusOK
		if created {
			status = http.StatusAccepted
		}
		api.WriteJSON(rw, status, info)
		return
	}
	g.waitAndWrite(rw, r.Context(), inv)
}

func (g *Gateway) waitAndWrite(rw http.ResponseWriter, ctx context.Context, inv *invocation) {
	select {
	case <-inv.done:
	case <-ctx.Done():
		return
	}
	info, err := g.snapshot(inv)
	if err != nil {
		api.WriteError(rw, http.StatusInternalServerError, err)
		return
	}
	api.WriteJSON(rw, http.StatusOK, info)
}

func (g *Gateway) lookup(id string) *invocation {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.invs[id]
}

// handleGetInvocation answers with an invocation's status; ?wait=30s waits
// up to that long for it to end.
func (g *Gateway) handleGetInvocation(rw http.ResponseWriter, r *http.Request) {
	inv := g.lookup(r.PathValue("id"))
	if inv == nil {
		api.WriteError(rw, http.StatusNotFound, fmt.Errorf("no invocation %q (unknown, or forgotten after the gateway's keep limit)", r.PathValue("id")))
		return
	}
	if w := r.URL.Query().Get("wait"); w != "" {
		d, err := time.ParseDuration(w)
		if err != nil {
			api.WriteError(rw, http.StatusBadRequest, fmt.Errorf("wait=%q: %w", w, err))
			return
		}
		select {
		case <-inv.done:
		case <-time.After(d):
		case <-r.Context().Done():
			return
		}
	}
	info, err := g.snapshot(inv)
	if err != nil {
		api.WriteError(rw, http.StatusInternalServerError, err)
		return
	}
	api.WriteJSON(rw, http.StatusOK, info)
}

func (g *Gateway) handleListInvocations(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := 100
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			api.WriteError(rw, http.StatusBadRequest, fmt.Errorf("limit=%q is not a count", s))
			return
		}
		limit = n
	}
	api.WriteJSON(rw, http.StatusOK, g.list(q.Get("workflow"), q.Get("status"), limit))
}

// handleLogs gathers the run records of an invocation, in all its
// attempts, from every worker.
func (g *Gateway) handleLogs(rw http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	ids := []string{id}
	if inv := g.lookup(id); inv != nil {
		inv.mu.Lock()
		for i := 1; i <= inv.attempt; i++ {
			ids = append(ids, id+attemptSep+strconv.Itoa(i))
		}
		inv.mu.Unlock()
	}
	workers := g.workerList()
	var (
		mu   sync.Mutex
		recs = []*engine.RunRecord{}
		errs []error
		wg   sync.WaitGroup
	)
	for _, w := range workers {
		for _, id := range ids {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var got []*engine.RunRecord
				err := getJSON(r.Context(), g.client, w.URL+"/v1/runs?invocation="+url.QueryEscape(id), &got)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, fmt.Errorf("worker %s: %w", w.ID, err))
					return
				}
				recs = append(recs, got...)
			}()
		}
	}
	wg.Wait()
	if len(errs) > 0 && len(recs) == 0 {
		api.WriteError(rw, http.StatusBadGateway, errors.Join(errs...))
		return
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].St < recs[j].St })
	api.WriteJSON(rw, http.StatusOK, recs)
}

func (g *Gateway) handlePutArtifact(rw http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(rw, r.Body, int64(g.cfg.MaxBody))
	if err := g.putArtifact(r.PathValue("sum"), body); err != nil {
		api.WriteError(rw, statusOf(err), err)
		return
	}
	rw.WriteHeader(http.StatusNoContent)
}

func (g *Gateway) handleGetArtifact(rw http.ResponseWriter, r *http.Request) {
	sum := r.PathValue("sum")
	if strings.ContainsAny(sum, `/\.`) {
		api.WriteError(rw, http.StatusBadRequest, errors.New("bad artifact name"))
		return
	}
	http.ServeFile(rw, r, g.artifactPath(sum))
}

// handleReport takes a worker's report; a result value is the body.
func (g *Gateway) handleReport(rw http.ResponseWriter, r *http.Request) {
	var rep api.Report
	data, ok := api.ReadRaw(rw, r, api.HeaderReport, &rep, g.cfg.MaxBody)
	if !ok {
		return
	}
	if err := g.report(&rep, data); err != nil {
		api.WriteError(rw, statusOf(err), err)
		return
	}
	rw.WriteHeader(http.StatusNoContent)
}

// handleMessageStream takes a worker's stream of result messages (see
// api.Sender): values, or skips, for keys of an invocation's result, which
// a worker hands over this way instead of a request each.
func (g *Gateway) handleMessageStream(rw http.ResponseWriter, r *http.Request) {
	api.ServeMessages(rw, r, g.cfg.MaxBody, g.log, func(m *api.Message, data []byte) error {
		err := g.takeResult(m, data)
		if err != nil {
			return &api.StatusError{Code: statusOf(err), Message: err.Error()}
		}
		return nil
	})
}

// takeResult resolves the result keys a message from a worker carries.
func (g *Gateway) takeResult(m *api.Message, data []byte) error {
	for _, t := range m.Targets {
		if t.Function != workflow.ResultFunction {
			return badRequest(fmt.Errorf("message from %s targets %s: the gateway's stream takes only results (other messages go to workers)", m.From, t.Function))
		}
	}
	return g.relay(m, data)
}

// handleRelay takes a message a worker hands over in master-side mode; the
// value is the body.
func (g *Gateway) handleRelay(rw http.ResponseWriter, r *http.Request) {
	var m api.Message
	data, ok := api.ReadRaw(rw, r, api.HeaderMessage, &m, g.cfg.MaxBody)
	if !ok {
		return
	}
	if err := g.relay(&m, data); err != nil {
		api.WriteError(rw, statusOf(err), err)
		return
	}
	rw.WriteHeader(http.StatusNoContent)
}

// runRequest is the body the original FaaSFlow/DataFlower gateway took on
// POST /run: the workflow under "workflow" (v1) or "workflow_name", and
// inputs as {"$USER.name": {"datatype": "entity", "val": VALUE}}.
type runRequest struct {
	Workflow     string                     `json:"workflow"`
	WorkflowName string                     `json:"workflow_name"`
	RequestID    string                     `json:"request_id"`
	InputDatas   map[string]json.RawMessage `json:"input_datas"`
}

// handleRun is the compatibility endpoint: it runs a workflow synchronously
// and answers {"status": "ok", "latency": seconds, "result": ...}.
func (g *Gateway) handleRun(rw http.ResponseWriter, r *http.Request) {
	var req runRequest
	if err := g.decodeBody(rw, r, &req); err != nil {
		api.WriteError(rw, statusOf(err), err)
		return
	}
	name := req.WorkflowName
	if name == "" {
		name = req.Workflow
	}
	input := map[string]json.RawMessage{}
	for key, raw := range req.InputDatas {
		var wrapped struct {
			Val json.RawMessage `json:"val"`
		}
		if json.Unmarshal(raw, &wrapped) == nil && wrapped.Val != nil {
			raw = wrapped.Val
		}
		input[strings.TrimPrefix(key, "$USER.")] = raw
	}
	inv, _, err := g.invoke(name, &api.InvokeRequest{RequestID: req.RequestID, Input: input})
	if err != nil {
		setRetryAfter(rw, err)
		api.WriteJSON(rw, statusOf(err), map[string]string{"status": "error", "error": err.Error()})
		return
	}
	select {
	case <-inv.done:
	case <-r.Context().Done():
		return
	}
	info, err := g.snapshot(inv)
	if err != nil {
		api.WriteError(rw, http.StatusInternalServerError, err)
		return
	}
	if info.Status != api.StatusSucceeded {
		api.WriteJSON(rw, http.StatusInternalServerError, map[string]any{"status": "error", "error": info.Error, "latency": info.Latency})
		return
	}
	api.WriteJSON(rw, http.StatusOK, map[string]any{"status": "ok", "latency": info.Latency, "result": info.Result})
}

func getJSON(ctx context.Context, client *http.Client, u string, v any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return api.ResponseError(resp)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
