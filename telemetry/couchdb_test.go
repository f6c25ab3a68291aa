package telemetry

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/internal/services"
	"github.com/go-kivik/kivik/v4"
)

// couchURL returns the test server's URL, or skips the test.
func couchURL(tb testing.TB) string { return services.CouchDB(tb) }

// testDB returns a new database name on the server at u, and a handle to
// it; the database is destroyed when the test ends.
func testDB(t *testing.T, u string) (string, *kivik.DB) {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	name := "telemetry_test_" + hex.EncodeToString(b[:])
	client, err := kivik.New("couch", u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.DestroyDB(context.Background(), name)
		client.Close()
	})
	return name, client.DB(name)
}

// docCount is how many documents db holds.
func docCount(t *testing.T, db *kivik.DB) int64 {
	t.Helper()
	st, err := db.Stats(context.Background())
	if err != nil {
		t.Fatalf("stats of %s: %v", db.Name(), err)
	}
	return st.DocCount
}

// syncBuffer is a log destination safe for concurrent writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func testLogger(w *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testRecord(i int) Invocation {
	start := time.Unix(1700000000, 0).Add(time.Duration(i) * time.Millisecond)
	return NewInvocation(fmt.Sprintf("req-%04d", i), "wf", "dataflow", "succeeded", "", start, start.Add(250*time.Millisecond))
}

// TestCouchDBSinkWrites: the database is created, and documents added
// (more than one batch) arrive with FaaSFlow's field names.
func TestCouchDBSinkWrites(t *testing.T) {
	u := couchURL(t)
	name, db := testDB(t, u)
	var logs syncBuffer
	sink, err := NewCouchDBSink(u, name, testLogger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	if docCount(t, db) != 0 {
		t.Fatal("new database is not empty")
	}

	const n = 1234 // three batches
	for i := range n {
		sink.Add(testRecord(i))
	}
	waitUntil(t, 20*time.Second, "all documents written", func() bool { return sink.Written() == n })
	if sink.Dropped() != 0 {
		t.Fatalf("dropped %d documents; logs:\n%s", sink.Dropped(), logs.String())
	}
	if got := docCount(t, db); got != n {
		t.Fatalf("database holds %d documents, want %d", got, n)
	}

	rows := db.AllDocs(context.Background(), kivik.IncludeDocs())
	defer rows.Close()
	seen := map[string]bool{}
	for rows.Next() {
		var doc Invocation
		if err := rows.ScanDoc(&doc); err != nil {
			t.Fatal(err)
		}
		if doc.TemplateName != "wf" || doc.Workflow != "wf" || doc.Phase != "invocation" || doc.Status != "succeeded" ||
			doc.Mode != "dataflow" || doc.St < 1.7e9 || doc.Ed-doc.St < 0.249 || doc.Latency != 0.25 || doc.Time != 0.25 {
			t.Fatalf("document read back = %+v", doc)
		}
		seen[doc.RequestID] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(seen) != n || !seen["req-0000"] || !seen[fmt.Sprintf("req-%04d", n-1)] {
		t.Fatalf("read back %d distinct request IDs, want %d", len(seen), n)
	}
}

// TestCouchDBSinkCloseFlushes: documents still queued are written by Close.
func TestCouchDBSinkCloseFlushes(t *testing.T) {
	u := couchURL(t)
	name, db := testDB(t, u)
	sink, err := NewCouchDBSink(u, name, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 37 {
		sink.Add(testRecord(i))
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if sink.Written() != 37 || sink.Dropped() != 0 {
		t.Fatalf("after Close: written %d, dropped %d; want 37, 0", sink.Written(), sink.Dropped())
	}
	if got := docCount(t, db); got != 37 {
		t.Fatalf("database holds %d documents after Close, want 37", got)
	}
	sink.Add(testRecord(99)) // after Close: dropped, no panic
	if sink.Dropped() != 1 {
		t.Fatalf("an Add after Close was not counted as dropped")
	}
	if err := sink.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

// TestCouchDBSinkUnreachable: with nothing listening, Add neither blocks
// nor panics, records are dropped and counted, the warning names the URL,
// and Close returns promptly.
func TestCouchDBSinkUnreachable(t *testing.T) {
	const addr = "http://127.0.0.1:1" // a closed port
	var logs syncBuffer
	start := time.Now()
	sink, err := NewCouchDBSink(addr, "results", testLogger(&logs))
	if err != nil {
		t.Fatalf("an unreachable CouchDB must not fail the caller: %v", err)
	}
	const n = couchQueue + 5000 // more than the queue holds
	addStart := time.Now()
	for i := range n {
		sink.Add(testRecord(i))
	}
	if took := time.Since(addStart); took > 2*time.Second {
		t.Errorf("%d Adds took %s: Add blocks", n, took)
	}
	if err := sink.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if took := time.Since(start); took > 4*time.Second {
		t.Errorf("new, add and close against a closed port took %s", took)
	}
	if sink.Written() != 0 || sink.Dropped() != n {
		t.Fatalf("written %d, dropped %d; want 0, %d", sink.Written(), sink.Dropped(), n)
	}
	out := logs.String()
	if !strings.Contains(out, "127.0.0.1:1") || !strings.Contains(out, "dropping records") {
		t.Fatalf("logs do not warn about dropping records naming the URL:\n%s", out)
	}
	if c := strings.Count(out, "CouchDB unreachable"); c != 1 {
		t.Errorf("the outage was logged %d times, want once:\n%s", c, out)
	}
}

// TestCouchDBSinkResumes: CouchDB going away drops records; when it is
// back, writing resumes by itself. The outage is a proxy in front of the
// real server that closes connections while "down".
func TestCouchDBSinkResumes(t *testing.T) {
	u := couchURL(t)
	name, db := testDB(t, u)
	target, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	var down atomic.Bool
	proxy := httputil.NewSingleHostReverseProxy(target)
	srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if down.Load() {
			conn, _, err := rw.(http.Hijacker).Hijack()
			if err == nil {
				conn.Close()
			}
			return
		}
		proxy.ServeHTTP(rw, r)
	}))
	defer srv.Close()
	// The proxy's URL with the real server's credentials, if any.
	pu, _ := url.Parse(srv.URL)
	pu.User = target.User

	var logs syncBuffer
	sink, err := NewCouchDBSink(pu.String(), name, testLogger(&logs))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	sink.Add(testRecord(0))
	waitUntil(t, 10*time.Second, "first document written", func() bool { return sink.Written() == 1 })

	down.Store(true)
	for i := 1; i <= 10; i++ {
		sink.Add(testRecord(i))
	}
	waitUntil(t, 10*time.Second, "documents dropped while down", func() bool { return sink.Dropped() == 10 })
	if !strings.Contains(logs.String(), pu.Host) {
		t.Fatalf("no warning naming %s:\n%s", pu.Host, logs.String())
	}

	down.Store(false)
	// Keep adding until the writer tries again (at most a second after
	// the failure) and succeeds.
	i := 11
	waitUntil(t, 10*time.Second, "writing resumed", func() bool {
		sink.Add(testRecord(i))
		i++
		return sink.Written() > 1
	})
	if !strings.Contains(logs.String(), "writing resumes") {
		t.Errorf("the end of the outage was not logged:\n%s", logs.String())
	}
	if err := sink.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := docCount(t, db), sink.Written(); got != want {
		t.Fatalf("database holds %d documents, the sink counted %d written", got, want)
	}
	if sink.Written()+sink.Dropped() != int64(i) {
		t.Fatalf("written %d + dropped %d != added %d", sink.Written(), sink.Dropped(), i)
	}
}

// TestNewCouchDBSinkBadURL: a URL that is not http(s) is refused at once.
func TestNewCouchDBSinkBadURL(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:5984", "ftp://127.0.0.1:5984"} {
		if _, err := NewCouchDBSink(u, "results", nil); err == nil {
			t.Errorf("NewCouchDBSink(%q) did not fail", u)
		}
	}
}
