package gateway

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/faasflow/faasflow-go/api"
)

// The gateway's state on disk, so that a gateway restarted on the same
// data directory keeps its deployed workflows and the invocations it
// remembers:
//
//	<data dir>/workflows/<name>.json  one savedWorkflow per deployed workflow,
//	                                  replaced atomically on each deploy
//	<data dir>/journal.jsonl          one journalEntry when an invocation is
//	                                  accepted and one when it ends; the last
//	                                  line of a request ID wins
//	<data dir>/results/               results over memoryResultMax, one file each
//
// New reloads both. An invocation that was still running when the gateway
// stopped comes back failed: its workers reported to a gateway that was
// gone. The journal is rewritten with what is remembered (at most Keep
// invocations) at start and whenever it grows past twice that. It is not
// synced to disk on every line: a gateway crash loses nothing, a machine
// crash may lose the last lines.

// savedWorkflow is a deployed workflow as saved on disk.
type savedWorkflow struct {
	Deployment *api.Deployment  `json:"deployment"`
	Info       api.WorkflowInfo `json:"info"`
	// Request is the deploy request, without its workflow (the
	// deployment's): a resume places the workflow again with it.
	Request *api.DeployRequest `json:"request,omitempty"`
}

// journalEntry is one line of the journal.
type journalEntry struct {
	api.Invocation
	// ResultStored says the result is in the results directory rather
	// than on this line.
	ResultStored bool `json:"result_stored,omitempty"`
}

// journal is the append-only file of invocation entries.
type journal struct {
	mu    sync.Mutex
	path  string
	f     *os.File // nil once closed
	lines int      // lines in the file
}

// errRestarted is the error of an invocation that was running when the
// gateway stopped.
const errRestarted = "the gateway stopped while this invocation ran, so its outcome is unknown: invoke it again"

func (g *Gateway) workflowsDir() string { return filepath.Join(g.cfg.DataDir, "workflows") }

// workflowPath is where workflow name is saved: its name, escaped, or a
// hash of it when too long for a file name.
func (g *Gateway) workflowPath(name string) string {
	file := url.PathEscape(name)
	if len(file) > 200 || strings.HasPrefix(file, ".") {
		sum := sha256.Sum256([]byte(name))
		file = "wf-" + hex.EncodeToString(sum[:16])
	}
	return filepath.Join(g.workflowsDir(), file+".json")
}

// saveWorkflow writes d to disk if it is still the workflow's current
// deployment (a later deploy has saved, or will save, its own).
func (g *Gateway) saveWorkflow(d *deployed) error {
	g.saveMu.Lock()
	defer g.saveMu.Unlock()
	g.mu.Lock()
	current := g.workflows[d.info.Name] == d
	g.mu.Unlock()
	if !current {
		return nil
	}
	s := savedWorkflow{Deployment: d.dep, Info: d.info}
	if d.req != nil {
		req := *d.req
		req.Workflow = nil
		s.Request = &req
	}
	b, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("encode workflow %s: %w", d.info.Name, err)
	}
	if err := writeFileAtomic(g.workflowPath(d.info.Name), b); err != nil {
		return fmt.Errorf("save workflow %s: %w", d.info.Name, err)
	}
	return nil
}

// writeFileAtomic writes b to path through a temporary file in the same
// directory, synced then renamed: a reader sees the old file or the new
// one, never part of one.
func writeFileAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// loadWorkflows reads the saved workflows; the version counter continues
// from the highest.
func (g *Gateway) loadWorkflows() error {
	entries, err := os.ReadDir(g.workflowsDir())
	if err != nil {
		return fmt.Errorf("read saved workflows: %w", err)
	}
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".json") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(g.workflowsDir(), e.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return fmt.Errorf("read saved workflow: %w", err)
		}
		var s savedWorkflow
		if err := json.Unmarshal(b, &s); err != nil {
			return fmt.Errorf("saved workflow %s is corrupt (%w): move it away and deploy the workflow again", path, err)
		}
		if s.Deployment == nil || s.Deployment.Workflow == nil {
			return fmt.Errorf("saved workflow %s has no deployment: move it away and deploy the workflow again", path)
		}
		if err := s.Deployment.Workflow.Validate(); err != nil {
			return fmt.Errorf("saved workflow %s: %w", path, err)
		}
		if s.Request != nil {
			s.Request.Workflow = s.Deployment.Workflow
		}
		d := newDeployed(s.Deployment, s.Request)
		d.info = s.Info
		g.workflows[s.Info.Name] = d
		g.version = max(g.version, s.Deployment.Version, s.Info.Version)
	}
	return nil
}

func (g *Gateway) journalPath() string { return filepath.Join(g.cfg.DataDir, "journal.jsonl") }

// journalAccepted records a new invocation, then records its end when it
// ends.
func (g *Gateway) journalAccepted(inv *invocation) {
	inv.mu.Lock()
	e := journalEntry{Invocation: inv.info}
	inv.mu.Unlock()
	g.appendJournal(&e)
	go func() {
		<-inv.done
		g.appendJournal(entryOf(inv))
	}()
}

// entryOf is inv's journal entry; a large result is left to its file.
func entryOf(inv *invocation) *journalEntry {
	inv.mu.Lock()
	defer inv.mu.Unlock()
	e := &journalEntry{Invocation: inv.info}
	if inv.stored || resultSize(e.Result) > memoryResultMax {
		e.Result, e.ResultStored = nil, true
	}
	return e
}

// appendJournal adds a line to the journal, and rewrites it when it has
// grown past twice the invocations remembered.
func (g *Gateway) appendJournal(e *journalEntry) {
	b, err := json.Marshal(e)
	if err != nil {
		g.log.Error("encode journal entry", "request_id", e.RequestID, "err", err)
		return
	}
	j := g.journal
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return // closed
	}
	if _, err := j.f.Write(append(b, '\n')); err != nil {
		g.log.Error("write invocation journal: a restarted gateway will not know this invocation", "request_id", e.RequestID, "err", err)
		return
	}
	j.lines++
	if j.lines > 2*g.cfg.Keep+100 {
		if err := g.compactJournalLocked(); err != nil {
			g.log.Error("rewrite invocation journal", "path", j.path, "err", err)
		}
	}
}

// compactJournalLocked rewrites the journal with one line per remembered
// invocation, oldest first. The caller holds the journal's lock.
func (g *Gateway) compactJournalLocked() error {
	j := g.journal
	g.mu.Lock()
	invs := make([]*invocation, 0, len(g.order))
	for _, id := range g.order {
		invs = append(invs, g.invs[id])
	}
	g.mu.Unlock()
	var buf bytes.Buffer
	for _, inv := range invs {
		b, err := json.Marshal(entryOf(inv))
		if err != nil {
			return err
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	if err := writeFileAtomic(j.path, buf.Bytes()); err != nil {
		return err
	}
	f, err := os.OpenFile(j.path, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	if j.f != nil {
		j.f.Close()
	}
	j.f, j.lines = f, len(invs)
	return nil
}

// openJournal reloads the invocations of the journal, the last Keep of
// them, rewrites it with those and opens it for appending.
func (g *Gateway) openJournal() error {
	g.journal = &journal{path: g.journalPath()}
	if err := g.loadInvocations(); err != nil {
		return err
	}
	g.journal.mu.Lock()
	defer g.journal.mu.Unlock()
	return g.compactJournalLocked()
}

// loadInvocations reads the journal into g.invs and g.order.
func (g *Gateway) loadInvocations() error {
	f, err := os.Open(g.journalPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read invocation journal: %w", err)
	}
	defer f.Close()
	last := map[string]*journalEntry{}
	var order []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), g.cfg.MaxBody+1<<20)
	for n := 1; sc.Scan(); n++ {
		e := &journalEntry{}
		if err := json.Unmarshal(sc.Bytes(), e); err != nil || e.RequestID == "" {
			// A line cut short by a crash: the rest still counts.
			g.log.Warn("skipping a bad line of the invocation journal", "path", f.Name(), "line", n, "err", err)
			continue
		}
		if last[e.RequestID] == nil {
			order = append(order, e.RequestID)
		}
		last[e.RequestID] = e
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read invocation journal %s: %w", f.Name(), err)
	}
	if drop := len(order) - g.cfg.Keep; drop > 0 {
		for _, id := range order[:drop] {
			os.Remove(g.resultPath(id))
		}
		order = order[drop:]
	}
	for _, id := range order {
		e := last[id]
		if !e.Ended() {
			e.Status, e.Error = api.StatusFailed, errRestarted
		}
		stored := false
		if e.ResultStored {
			if _, err := os.Stat(g.resultPath(id)); err == nil {
				stored = true
			} else {
				g.log.Warn("result of a reloaded invocation is missing", "request_id", id, "err", err)
			}
		}
		d := g.workflows[e.Workflow]
		if d == nil { // no longer deployed: a stand-in for the name
			d = newDeployed(&api.Deployment{}, nil)
			d.info.Name = e.Workflow
		}
		end := e.Submitted.Add(time.Duration(e.Latency * float64(time.Second)))
		inv := &invocation{d: d, wid: id, done: make(chan struct{}), info: e.Invocation, start: e.Submitted, end: end, stored: stored}
		close(inv.done)
		g.invs[id] = inv
		g.order = append(g.order, id)
	}
	if len(order) > 0 {
		g.log.Info("invocations reloaded", "count", len(order), "journal", f.Name())
	}
	return nil
}

// closeJournal closes the journal; later entries are dropped.
func (g *Gateway) closeJournal() error {
	j := g.journal
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}

// rejoinLocked installs again, in the background, the deployments that
// place functions on worker r, which may have restarted without them. When
// the worker's URL changed, the deployment is updated to the new URL (same
// version) and installed on every worker it uses, so that peers reach it
// there. The caller holds g.mu.
func (g *Gateway) rejoinLocked(r api.RegisterWorker) {
	type push struct {
		d       *deployed
		to      []string // worker IDs
		changed bool
	}
	var pushes []push
	for _, name := range slices.Sorted(maps.Keys(g.workflows)) {
		d := g.workflows[name]
		if !d.uses[r.ID] || d.dep.Workflow == nil {
			continue
		}
		if d.dep.Workers[r.ID] == r.URL {
			pushes = append(pushes, push{d: d, to: []string{r.ID}})
			continue
		}
		dep := *d.dep
		dep.Workers = maps.Clone(d.dep.Workers)
		dep.Workers[r.ID] = r.URL
		nd := newDeployed(&dep, d.req)
		nd.info = d.info
		g.workflows[name] = nd
		pushes = append(pushes, push{d: nd, to: slices.Sorted(maps.Keys(nd.uses)), changed: true})
	}
	if len(pushes) == 0 {
		return
	}
	g.log.Info("installing deployments on a worker that (re)joined", "worker", r.ID, "url", r.URL, "workflows", len(pushes))
	go func() {
		for _, p := range pushes {
			if p.changed {
				if err := g.saveWorkflow(p.d); err != nil {
					g.log.Error("save workflow with a worker's new URL", "workflow", p.d.info.Name, "err", err)
				}
			}
			body, err := json.Marshal(p.d.dep)
			if err != nil {
				g.log.Error("encode deployment", "workflow", p.d.info.Name, "err", err)
				continue
			}
			for _, id := range p.to {
				g.installRetrying(id, p.d.dep.Workers[id], p.d.info.Name, body)
			}
		}
	}()
}

// installRetrying installs a deployment on a worker, trying three times.
func (g *Gateway) installRetrying(id, base, name string, body []byte) {
	var err error
	for try := range 3 {
		if try > 0 {
			time.Sleep(time.Second)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		err = g.install(ctx, id, base, name, body)
		cancel()
		if err == nil {
			return
		}
	}
	g.log.Error("could not install a workflow on a worker that (re)joined: deploy the workflow again", "workflow", name, "worker", id, "err", err)
}
