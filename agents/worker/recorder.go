package worker

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/faasflow/faasflow-go/agents/engine"
)

// Recorder appends run records to a JSONL file, buffered and flushed
// periodically, and finds an invocation's records again on demand: through
// an index of where the records of the last indexKeep invocations are in
// the file, else by scanning it.
type Recorder struct {
	path  string
	mu    sync.Mutex
	f     *os.File
	w     *bufio.Writer
	size  int64             // bytes in the file, buffered ones included
	spans map[string][]span // request ID → where its records are
	order []string          // indexed request IDs, oldest first
	stop  chan struct{}
	done  chan struct{}
}

// span is one record's place in the file.
type span struct {
	off int64
	n   int
}

// indexKeep bounds the invocations whose records are indexed.
const indexKeep = 10000

var _ engine.Recorder = (*Recorder)(nil)

// NewRecorder opens (appends to) the file at path.
func NewRecorder(path string) (*Recorder, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open run records: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("open run records: %w", err)
	}
	r := &Recorder{path: path, f: f, w: bufio.NewWriterSize(f, 64<<10), size: st.Size(),
		spans: map[string][]span{}, stop: make(chan struct{}), done: make(chan struct{})}
	go r.flushLoop()
	return r, nil
}

// Record appends one record.
func (r *Recorder) Record(rec *engine.RunRecord) {
	b, err := json.Marshal(rec)
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.w.Write(b)
	r.w.WriteByte('\n')
	if _, ok := r.spans[rec.RequestID]; !ok {
		r.order = append(r.order, rec.RequestID)
		if len(r.order) > indexKeep {
			delete(r.spans, r.order[0])
			r.order = r.order[1:]
		}
	}
	r.spans[rec.RequestID] = append(r.spans[rec.RequestID], span{off: r.size, n: len(b)})
	r.size += int64(len(b)) + 1
}

func (r *Recorder) flushLoop() {
	defer close(r.done)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-r.stop:
			return
		case <-tick.C:
			r.mu.Lock()
			r.w.Flush()
			r.mu.Unlock()
		}
	}
}

// Find returns the records of one invocation, in the order written.
func (r *Recorder) Find(requestID string) ([]*engine.RunRecord, error) {
	r.mu.Lock()
	r.w.Flush()
	spans, indexed := r.spans[requestID]
	spans = append([]span(nil), spans...)
	r.mu.Unlock()
	f, err := os.Open(r.path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if !indexed {
		return scan(f, requestID)
	}
	recs := make([]*engine.RunRecord, 0, len(spans))
	for _, sp := range spans {
		buf := make([]byte, sp.n)
		if _, err := f.ReadAt(buf, sp.off); err != nil {
			return nil, fmt.Errorf("read run record at %d: %w", sp.off, err)
		}
		var rec engine.RunRecord
		if err := json.Unmarshal(buf, &rec); err != nil {
			return nil, fmt.Errorf("run record at %d: %w", sp.off, err)
		}
		recs = append(recs, &rec)
	}
	return recs, nil
}

// scan finds an invocation's records by reading the whole file: for
// invocations older than the index, or from before the agent started.
func scan(f *os.File, requestID string) ([]*engine.RunRecord, error) {
	needle := []byte(`"request_id":` + quote(requestID))
	recs := []*engine.RunRecord{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if !bytes.Contains(sc.Bytes(), needle) {
			continue
		}
		var rec engine.RunRecord
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.RequestID == requestID {
			recs = append(recs, &rec)
		}
	}
	return recs, sc.Err()
}

func quote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// Close flushes and closes the file.
func (r *Recorder) Close() error {
	close(r.stop)
	<-r.done
	r.mu.Lock()
	defer r.mu.Unlock()
	r.w.Flush()
	return r.f.Close()
}
