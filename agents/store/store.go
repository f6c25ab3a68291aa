// Package store is the data plane's storage: values that functions exchange
// and that are too large to ride inline with a notification wait in a Store
// until their consumers read them.
//
// Every backend implements the same Store contract (checked by
// storetest.Run): a value is written once from a stream, read by a known
// number of readers, and deleted when the last one releases it or when its
// invocation is dropped. Values are streamed in and out, so a backend never
// needs to hold a large value whole in the agent's memory.
//
// Backends: Memory (the agent's memory, with a cap and spill to disk),
// Redis (the local tier of the full profile), Kafka and CouchDB (remote
// tiers), and Direct (remote reads served from the producer's own local
// store over HTTP).
package store

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
)

// ErrNotFound is returned by Open for a key that was never written, whose
// last reader released it, or whose invocation was dropped. Callers can test
// for it with errors.Is.
var ErrNotFound = errors.New("value not found (released by its last reader, or its invocation ended)")

// Store holds values for the functions of invocations.
type Store interface {
	// Put writes the value read from r for invocation inv, to be read by
	// refs readers, and returns its key. Put reads r to its end.
	Put(ctx context.Context, inv string, refs int, r io.Reader) (key string, err error)
	// Open returns a reader of the value under key, or an error wrapping
	// ErrNotFound. The caller closes the reader.
	Open(ctx context.Context, key string) (io.ReadCloser, error)
	// Release gives up one reader's reference; the value is deleted with the
	// last one. Releasing an unknown key is not an error.
	Release(ctx context.Context, key string) error
	// DropInvocation deletes every value of inv, whatever its references.
	DropInvocation(ctx context.Context, inv string) error
	// Close releases the store's connections and background work.
	Close() error
}

// Taker is implemented by stores that can read a whole value and give up
// one reference in a single step (Direct: one request instead of two).
type Taker interface {
	Take(ctx context.Context, key string) ([]byte, error)
}

// Take reads the value under key and releases one reference, in one step
// when st is a Taker. When only the release fails, Take returns the value
// and the error.
func Take(ctx context.Context, st Store, key string) ([]byte, error) {
	if t, ok := st.(Taker); ok {
		return t.Take(ctx, key)
	}
	data, err := ReadAll(ctx, st, key)
	if err != nil {
		return nil, err
	}
	return data, st.Release(ctx, key)
}

// Tiered is implemented by stores that report the tier name telemetry uses
// for them ("memory", "redis", "kafka", "couchdb", "direct").
type Tiered interface {
	Tier() string
}

// TierOf returns st's tier name, or "store" if it does not say.
func TierOf(st Store) string {
	if t, ok := st.(Tiered); ok {
		return t.Tier()
	}
	return "store"
}

// Bytes wraps a byte slice as a reader for Put. Stores that keep values in
// memory take the slice itself instead of copying it, so the caller must not
// change it afterwards.
func Bytes(b []byte) io.Reader { return &byteReader{b: b} }

// byteReader is the reader Bytes returns; stores that can use the slice
// itself call take.
type byteReader struct {
	b   []byte
	off int
}

func (r *byteReader) Read(p []byte) (int, error) {
	if r.off >= len(r.b) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += n
	return n, nil
}

// Len reports the bytes not read yet.
func (r *byteReader) Len() int { return len(r.b) - r.off }

// take returns the bytes not read yet and marks them read.
func (r *byteReader) take() []byte {
	rest := r.b[r.off:]
	r.off = len(r.b)
	return rest
}

// ReadAll reads the whole value under key. Readers that know how much is
// left (a Len method, as the memory and Redis readers have) get a buffer
// of the right size at once instead of a growing one.
func ReadAll(ctx context.Context, st Store, key string) ([]byte, error) {
	rc, err := st.Open(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return readAll(rc)
}

// readAll reads r to its end, allocating once when r knows its length.
func readAll(rc io.Reader) ([]byte, error) {
	sized, ok := rc.(interface{ Len() int })
	if !ok {
		return io.ReadAll(rc)
	}
	buf := make([]byte, sized.Len())
	if _, err := io.ReadFull(rc, buf); err != nil {
		return nil, err
	}
	// The value may be longer than announced: check, then read the rest.
	var one [1]byte
	if n, _ := rc.Read(one[:]); n == 0 {
		return buf, nil
	}
	rest, err := io.ReadAll(rc)
	return append(append(buf, one[0]), rest...), err
}

// memReader is a value read from memory; it knows its length. Closed
// readers are reused.
type memReader struct{ bytes.Reader }

var memReaders = sync.Pool{New: func() any { return new(memReader) }}

func newMemReader(data []byte) *memReader {
	r := memReaders.Get().(*memReader)
	r.Reset(data)
	return r
}

// Close lets the reader be reused; it must not be read afterwards.
func (r *memReader) Close() error {
	r.Reset(nil)
	memReaders.Put(r)
	return nil
}

// ChunkSize is the piece size of stores that move values in pieces
// (Redis, Kafka, Direct): 256 KiB.
const ChunkSize = 256 << 10
