package store_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/faasflow/faasflow-go/agents/store"
	"github.com/faasflow/faasflow-go/agents/store/storetest"
)

// directPair writes through the producer's Direct store and reads through
// a consumer's, so every read and release crosses HTTP.
type directPair struct {
	producer, consumer *store.Direct
	srv                *httptest.Server
}

func (p *directPair) Put(ctx context.Context, inv string, refs int, r io.Reader) (string, error) {
	return p.producer.Put(ctx, inv, refs, r)
}
func (p *directPair) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	return p.consumer.Open(ctx, key)
}
func (p *directPair) Release(ctx context.Context, key string) error {
	return p.consumer.Release(ctx, key)
}
func (p *directPair) DropInvocation(ctx context.Context, inv string) error {
	return p.producer.DropInvocation(ctx, inv)
}
func (p *directPair) Close() error {
	p.srv.Close()
	p.consumer.Close()
	return p.producer.Close()
}

// newDirectPair keeps the producer's values in memory up to memCap bytes,
// in spill files past it.
func newDirectPair(t testing.TB, memCap int64) *directPair {
	local, err := store.NewMemoryWith(store.MemoryConfig{Cap: memCap, SpillDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	p := &directPair{}
	p.srv = httptest.NewUnstartedServer(nil)
	p.srv.Start()
	p.producer = store.NewDirect(local, p.srv.URL, nil)
	p.srv.Config.Handler = p.producer.Handler()
	p.consumer = store.NewDirect(store.NewMemory(), "http://127.0.0.1:1", nil)
	return p
}

func TestDirectContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return newDirectPair(t, 1<<20) }, storetest.Options{})
}

func TestDirectTakeReadsAndReleases(t *testing.T) {
	ctx := context.Background()
	p := newDirectPair(t, 1<<20)
	defer p.Close()
	want := storetest.Pattern(100<<10, 4)
	key, err := p.Put(ctx, "inv", 2, store.Bytes(want))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 2; i++ {
		got, err := store.Take(ctx, p.consumer, key)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("take %d: %d bytes, %v", i, len(got), err)
		}
	}
	if _, err := p.consumer.Open(ctx, key); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after two takes of a value with two readers: %v, want ErrNotFound", err)
	}
}

func TestDirectReadsItsOwnValuesLocally(t *testing.T) {
	ctx := context.Background()
	// No server at all: a key under the store's own base never goes to HTTP.
	d := store.NewDirect(store.NewMemory(), "http://127.0.0.1:1", nil)
	defer d.Close()
	key, err := d.Put(ctx, "inv", 1, store.Bytes([]byte("mine")))
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.ReadAll(ctx, d, key)
	if err != nil || string(got) != "mine" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// BenchmarkDirect puts a value on one agent and reads and releases it from
// another over HTTP; its floor is a bare HTTP GET of the same bytes.
func BenchmarkDirect(b *testing.B) {
	ctx := context.Background()
	for _, size := range benchSizes {
		data := storetest.Pattern(size.n, 9)
		b.Run(size.name+"/store", func(b *testing.B) {
			p := newDirectPair(b, 1<<30) // as on a worker: 16 MiB stays in memory
			defer p.Close()
			benchPutGet(b, p, data, true)
		})
		// What a consumer's agent does: read and release in one request.
		b.Run(size.name+"/take", func(b *testing.B) {
			p := newDirectPair(b, 1<<30)
			defer p.Close()
			b.SetBytes(int64(size.n))
			for b.Loop() {
				key, err := p.Put(ctx, "bench", 1, store.Bytes(data))
				if err != nil {
					b.Fatal(err)
				}
				got, err := store.Take(ctx, p.consumer, key)
				if err != nil || len(got) != len(data) {
					b.Fatalf("take %d bytes: %v", len(got), err)
				}
			}
		})
		b.Run(size.name+"/floor", func(b *testing.B) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Length", strconv.Itoa(len(data)))
				w.Write(data)
			}))
			defer srv.Close()
			b.SetBytes(int64(size.n))
			for b.Loop() {
				resp, err := http.Get(srv.URL)
				if err != nil {
					b.Fatal(err)
				}
				got := make([]byte, resp.ContentLength)
				_, err = io.ReadFull(resp.Body, got)
				resp.Body.Close()
				if err != nil || len(got) != len(data) {
					b.Fatalf("read %d bytes: %v", len(got), err)
				}
			}
		})
	}
}
