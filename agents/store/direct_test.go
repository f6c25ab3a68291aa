package store_test

import (
	"context"
	"io"
	"net/http/httptest"
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

func newDirectPair(t *testing.T) *directPair {
	local, err := store.NewMemoryWith(store.MemoryConfig{Cap: 4 << 20, SpillDir: t.TempDir()})
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
	storetest.Run(t, func(t *testing.T) store.Store { return newDirectPair(t) }, storetest.Options{})
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
