package worker

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/faasflow/faasflow-go/agents/engine"
	"github.com/faasflow/faasflow-go/agents/runtime"
	"github.com/faasflow/faasflow-go/agents/store"
	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/fn/synthetic"
	"github.com/faasflow/faasflow-go/workflow"
)

// Handler returns the worker's HTTP API.
func (w *Worker) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", w.handleHealth)
	mux.HandleFunc("PUT /v1/workflows/{name}", w.handleDeploy)
	mux.HandleFunc("DELETE /v1/workflows/{name}", w.handleRemove)
	mux.HandleFunc("GET "+api.MessagesStreamPath, w.handleMessageStream)
	mux.HandleFunc("POST /v1/invocations/{id}/end", w.handleEnd)
	mux.HandleFunc("GET /v1/runs", w.handleRuns)
	mux.Handle(store.DataPath, w.direct.Handler())
	mux.Handle("GET /metrics", w.metricsHandler())
	signed := api.RequireSigned(w.cfg.Secret, mux)
	// Only the gateway and peer workers call the rest; probes and scrapers
	// get /healthz and /metrics, which hold no data.
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && (r.URL.Path == "/healthz" || r.URL.Path == "/metrics") {
			mux.ServeHTTP(rw, r)
			return
		}
		signed.ServeHTTP(rw, r)
	})
}

func (w *Worker) handleHealth(rw http.ResponseWriter, r *http.Request) {
	api.WriteJSON(rw, http.StatusOK, map[string]any{"worker": w.cfg.ID, "active_invocations": w.engine.Active(), "pools": w.pool.Stats()})
}

// handleDeploy installs a deployment: it fetches the artifacts of the
// functions placed here, then hands the workflow to the engine.
func (w *Worker) handleDeploy(rw http.ResponseWriter, r *http.Request) {
	var d api.Deployment
	if err := json.NewDecoder(http.MaxBytesReader(rw, r.Body, 64<<20)).Decode(&d); err != nil {
		api.WriteError(rw, http.StatusBadRequest, fmt.Errorf("decode deployment: %w", err))
		return
	}
	if d.Workflow == nil || d.Workflow.Name != r.PathValue("name") {
		api.WriteError(rw, http.StatusBadRequest, errors.New("deployment's workflow name does not match the URL"))
		return
	}
	if err := d.Workflow.Validate(); err != nil {
		api.WriteError(rw, http.StatusBadRequest, err)
		return
	}
	specs := map[string]runtime.Spec{}
	for _, f := range d.Workflow.Functions {
		if d.Placement[f.Name] != w.cfg.ID {
			continue
		}
		spec, err := w.spec(r.Context(), d.Workflow, f)
		if err != nil {
			api.WriteError(rw, http.StatusBadRequest, err)
			return
		}
		specs[f.Name] = spec
	}
	if err := w.engine.Deploy(&d, specs); err != nil {
		api.WriteError(rw, http.StatusBadRequest, err)
		return
	}
	w.log.Info("workflow deployed", "workflow", d.Workflow.Name, "version", d.Version, "local_functions", len(specs))
	api.WriteJSON(rw, http.StatusOK, map[string]any{"worker": w.cfg.ID, "functions": len(specs)})
}

// spec says how this worker runs f, fetching its artifact if needed.
func (w *Worker) spec(ctx context.Context, wf *workflow.Workflow, f *workflow.Function) (runtime.Spec, error) {
	spec := runtime.Spec{
		Key:          wf.Name + "/" + f.Name + "@" + f.Artifact,
		Function:     f.Name,
		MaxInstances: f.MaxInstances,
		LogPath:      filepath.Join(w.cfg.DataDir, "logs", wf.Name+"."+f.Name+".log"),
		Runtime:      f.Runtime,
		CPU:          f.CPU,
		MemoryMB:     f.MemoryMB,
	}
	if spec.MaxInstances <= 0 {
		spec.MaxInstances = workflow.DefaultMaxInstances
	}
	switch {
	case f.Runtime == "synthetic":
		if w.cfg.SyntheticBinary == "" {
			return spec, fmt.Errorf("function %s is synthetic, but this worker has no faasflow-synthetic program: build it (make build) beside faasflow-worker or set --synthetic", f.Name)
		}
		desc, err := json.Marshal(synthetic.SpecOf(f))
		if err != nil {
			return spec, err
		}
		spec.Executable = w.cfg.SyntheticBinary
		spec.Env = []string{synthetic.EnvSpec + "=" + string(desc)}
		spec.Key = wf.Name + "/" + f.Name + "@synthetic:" + string(desc)
	case f.Artifact != "":
		path, err := w.arts.fetch(ctx, f.Artifact)
		if err != nil {
			return spec, fmt.Errorf("function %s: %w", f.Name, err)
		}
		spec.Executable = path
		if f.Runtime == "python" {
			if w.cfg.Python == "" {
				return spec, fmt.Errorf("function %s is written in Python, but this worker found no python3: install it or set --python", f.Name)
			}
			if _, err := os.Stat(w.cfg.Python); err != nil {
				return spec, fmt.Errorf("function %s is written in Python, but the interpreter %s is missing (run `make deps` to create the project's virtual environment, or set --python / FAASFLOW_PYTHON): %w", f.Name, w.cfg.Python, err)
			}
			spec.Executable, spec.Args = w.cfg.Python, []string{path}
		}
	case f.Runtime == "exec" && f.Code != "":
		spec.Executable = f.Code
		spec.Key = wf.Name + "/" + f.Name + "@" + f.Code
	default:
		return spec, fmt.Errorf("function %s has no code to run: give it `code:` in the workflow file (runtime %q)", f.Name, f.Runtime)
	}
	return spec, nil
}

func (w *Worker) handleRemove(rw http.ResponseWriter, r *http.Request) {
	w.engine.Remove(r.PathValue("name"))
	rw.WriteHeader(http.StatusNoContent)
}

// handleMessageStream takes the message stream of a peer worker or the
// gateway (see api.Sender).
func (w *Worker) handleMessageStream(rw http.ResponseWriter, r *http.Request) {
	api.ServeMessages(rw, r, w.cfg.MaxBody, w.log, func(m *api.Message, data []byte) error {
		err := w.engine.Deliver(m, data)
		if errors.Is(err, engine.ErrUnknownWorkflow) {
			return &api.StatusError{Code: http.StatusNotFound, Message: err.Error()}
		}
		return err
	})
}

func (w *Worker) handleEnd(rw http.ResponseWriter, r *http.Request) {
	w.engine.End(r.PathValue("id"))
	rw.WriteHeader(http.StatusNoContent)
}

func (w *Worker) handleRuns(rw http.ResponseWriter, r *http.Request) {
	id := r.URL.Query().Get("invocation")
	if id == "" {
		api.WriteError(rw, http.StatusBadRequest, errors.New("give ?invocation=REQUEST_ID"))
		return
	}
	recs, err := w.rec.Find(id)
	if err != nil {
		api.WriteError(rw, http.StatusInternalServerError, err)
		return
	}
	api.WriteJSON(rw, http.StatusOK, recs)
}

// register announces this worker to the gateway.
func (w *Worker) register(ctx context.Context) error {
	body, _ := json.Marshal(api.RegisterWorker{ID: w.cfg.ID, URL: w.cfg.URL, Slots: w.cfg.Slots, MemoryMB: w.cfg.MemoryMB, Started: w.started})
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.Gateway+"/v1/internal/workers", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	return api.Do(w.client, req)
}

// httpTransport sends engine messages over HTTP.
type httpTransport struct {
	client  *http.Client
	sender  *api.Sender
	gateway string
}

var _ engine.Transport = (*httpTransport)(nil)

func (t *httpTransport) Post(addr string, m *api.Message, data []byte, done func(error)) {
	t.sender.Post(addr, m, data, done)
}

func (t *httpTransport) PostResult(m *api.Message, data []byte, done func(error)) {
	t.sender.Post(t.gateway, m, data, done)
}

func (t *httpTransport) Relay(ctx context.Context, m *api.Message, data []byte) error {
	return api.PostRaw(ctx, t.client, t.gateway+"/v1/internal/relay", api.HeaderMessage, m, data)
}

func (t *httpTransport) Report(ctx context.Context, r *api.Report, data []byte) error {
	return api.PostRaw(ctx, t.client, t.gateway+"/v1/internal/reports", api.HeaderReport, r, data)
}
