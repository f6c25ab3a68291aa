package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/go-kivik/kivik/v4"
	"github.com/go-kivik/kivik/v4/couchdb"

	"github.com/faasflow/faasflow-go/agents/store"
	"github.com/faasflow/faasflow-go/agents/store/storetest"
	"github.com/faasflow/faasflow-go/internal/services"
)

// couchURL returns the test server's URL, or skips the test.
func couchURL(tb testing.TB) string { return services.CouchDB(tb) }

// testCouchDB returns a store on a database of its own to tb, destroyed
// when tb ends.
func testCouchDB(tb testing.TB, u string) (*store.CouchDB, string) {
	tb.Helper()
	db := fmt.Sprintf("faasflow_test_%d", time.Now().UnixNano())
	c, err := store.NewCouchDB(store.CouchDBConfig{URL: u, DB: db})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		client, err := kivik.New("couch", u)
		if err != nil {
			return
		}
		defer client.Close()
		client.DestroyDB(context.Background(), db)
	})
	return c, db
}

func TestCouchDBContract(t *testing.T) {
	u := couchURL(t)
	storetest.Run(t, func(t *testing.T) store.Store {
		c, _ := testCouchDB(t, u)
		return c
	}, storetest.Options{MaxGrowth: 16 << 20})
}

func TestCouchDBTier(t *testing.T) {
	c, _ := testCouchDB(t, couchURL(t))
	defer c.Close()
	if got := store.TierOf(c); got != "couchdb" {
		t.Fatalf("tier %q, want couchdb", got)
	}
}

func TestCouchDBNeedsURL(t *testing.T) {
	if _, err := store.NewCouchDB(store.CouchDBConfig{}); err == nil {
		t.Fatal("a config without a URL was accepted")
	}
}

// The database is created when missing, and an existing one is used.
func TestCouchDBCreatesDatabase(t *testing.T) {
	u := couchURL(t)
	a, db := testCouchDB(t, u)
	defer a.Close()
	ctx := context.Background()
	key, err := a.Put(ctx, "inv", 1, strings.NewReader("kept"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := store.NewCouchDB(store.CouchDBConfig{URL: u, DB: db})
	if err != nil {
		t.Fatalf("open the existing database: %v", err)
	}
	defer b.Close()
	if got, err := store.ReadAll(ctx, b, key); err != nil || string(got) != "kept" {
		t.Fatalf("read through a second store: %q, %v", got, err)
	}
}

// A Put whose reader fails part way returns the reader's error, and
// leaves nothing once its invocation is dropped. (pouchdb-server may store
// an upload that broke off as an empty attachment, after Put deleted the
// document: see CouchDB.remove.)
func TestCouchDBFailedPut(t *testing.T) {
	u := couchURL(t)
	c, db := testCouchDB(t, u)
	defer c.Close()
	ctx := context.Background()
	inv := storetest.Invocation(t, "fail")
	for _, n := range []int{0, 100, 1 << 20} {
		_, err := c.Put(ctx, inv, 1, &failingReader{n: n})
		if !errors.Is(err, errWriterBroke) || !strings.Contains(err.Error(), "127.0.0.1") {
			t.Fatalf("put failing after %d bytes: err = %v, want the reader's error, naming the server", n, err)
		}
	}
	// Give the server a moment to store what it makes of the broken uploads.
	time.Sleep(200 * time.Millisecond)
	if err := c.DropInvocation(ctx, inv); err != nil {
		t.Fatal(err)
	}
	client, err := kivik.New("couch", u)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	rows := client.DB(db).AllDocs(ctx)
	defer rows.Close()
	for rows.Next() {
		id, _ := rows.ID()
		t.Errorf("document %s left after the drop", id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
}

// Concurrent releases of one value, with more references than a retry
// or two would absorb, each count.
func TestCouchDBConcurrentReleases(t *testing.T) {
	c, _ := testCouchDB(t, couchURL(t))
	defer c.Close()
	ctx := context.Background()
	const refs = 6
	key, err := c.Put(ctx, storetest.Invocation(t, "rel"), refs+1, strings.NewReader("shared"))
	if err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, refs)
	for range refs {
		go func() { errs <- c.Release(ctx, key) }()
	}
	for range refs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got, err := store.ReadAll(ctx, c, key); err != nil || string(got) != "shared" {
		t.Fatalf("after %d of %d releases: %q, %v", refs, refs+1, got, err)
	}
	if err := c.Release(ctx, key); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Open(ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after the last release: err = %v, want ErrNotFound", err)
	}
}

// Dropping an invocation leaves alone one whose ID extends it.
func TestCouchDBDropIsExact(t *testing.T) {
	c, _ := testCouchDB(t, couchURL(t))
	defer c.Close()
	ctx := context.Background()
	inv := storetest.Invocation(t, "drop")
	gone, err := c.Put(ctx, inv, 1, strings.NewReader("gone"))
	if err != nil {
		t.Fatal(err)
	}
	kept, err := c.Put(ctx, inv+"/child", 1, strings.NewReader("kept"))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.DropInvocation(ctx, inv); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Open(ctx, gone); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("dropped value: err = %v, want ErrNotFound", err)
	}
	if got, err := store.ReadAll(ctx, c, kept); err != nil || string(got) != "kept" {
		t.Fatalf("value of %s/child: %q, %v", inv, got, err)
	}
}

// BenchmarkCouchDB compares the store (Put, ReadAll, Release) with a bare
// kivik PutAttachment and GetAttachment of the same bytes on the same
// server.
func BenchmarkCouchDB(b *testing.B) {
	u := couchURL(b)
	ctx := context.Background()
	for _, size := range []struct {
		name string
		n    int
	}{{"1KiB", 1 << 10}, {"1MiB", 1 << 20}, {"16MiB", 16 << 20}} {
		data := storetest.Pattern(size.n, 9)
		b.Run(size.name+"/store", func(b *testing.B) {
			c, _ := testCouchDB(b, u)
			defer c.Close()
			benchPutGet(b, c, data, true)
		})
		b.Run(size.name+"/floor", func(b *testing.B) {
			c, dbName := testCouchDB(b, u)
			c.Close()
			client, err := kivik.New("couch", u, couchdb.OptionNoRequestCompression())
			if err != nil {
				b.Fatal(err)
			}
			defer client.Close()
			db := client.DB(dbName)
			b.SetBytes(int64(size.n))
			i := 0
			for b.Loop() {
				i++
				id := fmt.Sprintf("floor-%d", i)
				att := &kivik.Attachment{Filename: "value", ContentType: "application/octet-stream", Content: io.NopCloser(bytes.NewReader(data))}
				rev, err := db.PutAttachment(ctx, id, att)
				if err != nil {
					b.Fatal(err)
				}
				got, err := db.GetAttachment(ctx, id, "value")
				if err != nil {
					b.Fatal(err)
				}
				n, err := io.Copy(io.Discard, got.Content)
				got.Content.Close()
				if err != nil || n != int64(len(data)) {
					b.Fatalf("get %d bytes: %v", n, err)
				}
				// Deleted outside the timing, so the in-memory server does
				// not fill up.
				b.StopTimer()
				if _, err := db.Delete(ctx, id, rev); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}
