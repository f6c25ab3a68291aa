package telemetry

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-kivik/kivik/v4"
	_ "github.com/go-kivik/kivik/v4/couchdb" // the CouchDB driver
)

// Limits of a CouchDBSink.
const (
	// couchQueue is how many documents wait for the writer before Add drops.
	couchQueue = 10000
	// couchBatch is the most documents written in one _bulk_docs request.
	couchBatch = 500
	// couchFlushEvery is how long a partial batch waits before it is written.
	couchFlushEvery = 200 * time.Millisecond
	// couchRequestTimeout bounds one request to CouchDB.
	couchRequestTimeout = 5 * time.Second
	// couchRetryEvery is how often the writer tries again after a failure;
	// batches in between are dropped without a request.
	couchRetryEvery = time.Second
	// couchCloseTimeout bounds how long Close spends flushing the queue.
	couchCloseTimeout = 5 * time.Second
)

// CouchDBSink writes documents to one CouchDB database in batches, off the
// caller's path. Add never blocks: documents wait in a bounded queue and are
// dropped (and counted) when it is full or when CouchDB cannot be reached;
// writing resumes by itself when CouchDB is back.
type CouchDBSink struct {
	url    string // redacted, for logs
	dbName string
	log    *slog.Logger
	client *kivik.Client
	db     *kivik.DB

	queue  chan any
	stop   chan struct{} // closed by Close
	done   chan struct{} // closed when the writer has returned
	ctx    context.Context
	cancel context.CancelFunc

	mu     sync.RWMutex // Add holds it shared, Close exclusively
	closed bool

	written atomic.Int64
	dropped atomic.Int64
	full    atomic.Bool // the queue was found full; cleared when Add succeeds again

	// Used by the writer goroutine only (and by NewCouchDBSink before it starts).
	ready   bool      // the database is known to exist
	down    bool      // the last attempt failed and was logged
	retryAt time.Time // no request before this while down
}

// NewCouchDBSink returns a sink writing to database db of the CouchDB server
// at rawURL (credentials may be given in the URL), and creates the database
// if it is missing. An unreachable server is not an error: it is logged, and
// the sink keeps trying while it drops records. The caller must Close it.
func NewCouchDBSink(rawURL, db string, log *slog.Logger) (*CouchDBSink, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("CouchDB URL %q: want http://host:port (credentials may be given as http://user:password@host:port)", rawURL)
	}
	if db == "" {
		return nil, errors.New("CouchDB sink needs a database name")
	}
	client, err := kivik.New("couch", rawURL)
	if err != nil {
		return nil, fmt.Errorf("CouchDB client for %s: %w", u.Redacted(), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &CouchDBSink{
		url: u.Redacted(), dbName: db, log: log.With("component", "couchdb-sink"),
		client: client, db: client.DB(db),
		queue: make(chan any, couchQueue), stop: make(chan struct{}), done: make(chan struct{}),
		ctx: ctx, cancel: cancel,
	}
	if err := s.ensureDB(); err != nil {
		s.failed(err)
	}
	go s.run()
	return s, nil
}

// Add queues doc (any value that encodes to a JSON object) for writing. It
// never blocks: when the queue is full, or the sink is closed, doc is
// dropped and counted. doc must not be changed after Add.
func (s *CouchDBSink) Add(doc any) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		s.dropped.Add(1)
		return
	}
	select {
	case s.queue <- doc:
		if s.full.Load() {
			s.full.Store(false)
		}
	default:
		s.dropped.Add(1)
		if s.full.CompareAndSwap(false, true) {
			s.log.Warn("CouchDB sink queue full: dropping records until the writer catches up",
				"url", s.url, "db", s.dbName, "queue", couchQueue)
		}
	}
}

// Written is how many documents CouchDB has accepted.
func (s *CouchDBSink) Written() int64 { return s.written.Load() }

// Dropped is how many documents were dropped: queue full, CouchDB
// unreachable or refusing them, or added after Close.
func (s *CouchDBSink) Dropped() int64 { return s.dropped.Load() }

// Close writes what is queued, giving up after a few seconds (what is left
// is dropped), and stops the writer. Later Adds are dropped.
func (s *CouchDBSink) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.stop)

	var err error
	timer := time.NewTimer(couchCloseTimeout)
	defer timer.Stop()
	select {
	case <-s.done:
	case <-timer.C:
		s.cancel() // requests fail at once; the rest is dropped
		<-s.done
		err = fmt.Errorf("close CouchDB sink %s/%s: gave up flushing after %s", s.url, s.dbName, couchCloseTimeout)
	}
	s.cancel()
	s.log.Debug("CouchDB sink closed", "url", s.url, "db", s.dbName, "written", s.Written(), "dropped", s.Dropped())
	if cerr := s.client.Close(); cerr != nil && err == nil {
		err = fmt.Errorf("close CouchDB client for %s: %w", s.url, cerr)
	}
	return err
}

// run is the writer: it gathers queued documents into batches and writes
// each when it is full or has waited couchFlushEvery; on stop it writes
// what is left.
func (s *CouchDBSink) run() {
	defer close(s.done)
	tick := time.NewTicker(couchFlushEvery)
	defer tick.Stop()
	batch := make([]any, 0, couchBatch)
	flush := func() {
		if len(batch) > 0 {
			s.write(batch)
			clear(batch) // let the documents be collected
			batch = batch[:0]
		}
	}
	for {
		select {
		case doc := <-s.queue:
			batch = append(batch, doc)
			if len(batch) == couchBatch {
				flush()
			}
		case <-tick.C:
			flush()
		case <-s.stop:
			for {
				select {
				case doc := <-s.queue:
					batch = append(batch, doc)
					if len(batch) == couchBatch {
						flush()
					}
				default:
					flush()
					return
				}
			}
		}
	}
}

// write sends one batch with _bulk_docs, or drops it while CouchDB is down.
func (s *CouchDBSink) write(batch []any) {
	n := int64(len(batch))
	if !s.ready {
		if time.Now().Before(s.retryAt) {
			s.dropped.Add(n)
			return
		}
		if err := s.ensureDB(); err != nil {
			s.failed(err)
			s.dropped.Add(n)
			return
		}
	}
	ctx, cancel := context.WithTimeout(s.ctx, couchRequestTimeout)
	defer cancel()
	results, err := s.db.BulkDocs(ctx, batch)
	if err != nil {
		s.failed(fmt.Errorf("write %d documents: %w", n, err))
		s.dropped.Add(n)
		return
	}
	s.recovered()
	var refused int64
	var first error
	for _, r := range results {
		if r.Error != nil {
			refused++
			if first == nil {
				first = r.Error
			}
		}
	}
	s.written.Add(n - refused)
	if refused > 0 {
		s.dropped.Add(refused)
		s.log.Warn("CouchDB refused documents", "url", s.url, "db", s.dbName, "refused", refused, "of", n, "err", first)
	}
}

// ensureDB creates the database unless it exists.
func (s *CouchDBSink) ensureDB() error {
	ctx, cancel := context.WithTimeout(s.ctx, couchRequestTimeout)
	defer cancel()
	exists, err := s.client.DBExists(ctx, s.dbName)
	if err != nil {
		return fmt.Errorf("check database %s: %w", s.dbName, err)
	}
	if !exists {
		err := s.client.CreateDB(ctx, s.dbName)
		if err != nil && kivik.HTTPStatus(err) != http.StatusPreconditionFailed { // 412: created meanwhile
			return fmt.Errorf("create database %s: %w", s.dbName, err)
		}
	}
	s.ready = true
	return nil
}

// failed notes a failed request: the database is checked again, no sooner
// than couchRetryEvery from now, and the first failure of an outage is
// logged.
func (s *CouchDBSink) failed(err error) {
	s.ready = false
	s.retryAt = time.Now().Add(couchRetryEvery)
	if !s.down {
		s.down = true
		s.log.Warn("CouchDB unreachable or failing: dropping records until it works again",
			"url", s.url, "db", s.dbName, "err", err)
	}
}

// recovered notes a successful write, logging the end of an outage.
func (s *CouchDBSink) recovered() {
	if s.down {
		s.down = false
		s.log.Info("CouchDB reachable again: writing resumes", "url", s.url, "db", s.dbName, "dropped_so_far", s.Dropped())
	}
}
