// Package storetest is the contract every store.Store backend meets. A
// backend's test calls Run with a constructor; the same cases run against
// every backend, so the engine can use any of them the same way.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/agents/store"
)

// Options describes what a backend promises beyond the common contract.
type Options struct {
	// ReleaseKeepsValue is set for backends whose values outlive their last
	// reader until the invocation is dropped (Kafka: records cannot be
	// deleted one by one, the invocation's topic is deleted instead).
	ReleaseKeepsValue bool
	// BigValue is the size of the value streamed with bounded memory
	// (default 64 MiB).
	BigValue int64
	// MaxGrowth is the allowed peak RSS growth while the big value is written
	// and read back (default a quarter of BigValue).
	MaxGrowth int64
	// Unbounded is set for a store that holds values whole in memory (the
	// memory store without a cap): the big value must still round-trip,
	// but its memory is not checked.
	Unbounded bool
}

// Run checks the Store contract. newStore returns a fresh store; Run closes
// it when the case ends.
func Run(t *testing.T, newStore func(t *testing.T) store.Store, opts Options) {
	if opts.BigValue == 0 {
		opts.BigValue = 64 << 20
	}
	if opts.MaxGrowth == 0 {
		opts.MaxGrowth = opts.BigValue / 4
	}
	open := func(t *testing.T) store.Store {
		st := newStore(t)
		t.Cleanup(func() {
			if err := st.Close(); err != nil {
				t.Errorf("close: %v", err)
			}
		})
		return st
	}
	t.Run("PutGet", func(t *testing.T) { testPutGet(t, open(t)) })
	t.Run("MissingKey", func(t *testing.T) { testMissing(t, open(t)) })
	t.Run("Refcount", func(t *testing.T) { testRefcount(t, open(t), opts) })
	t.Run("DropInvocation", func(t *testing.T) { testDrop(t, open(t)) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, open(t)) })
	t.Run("BigValueBoundedMemory", func(t *testing.T) { testBig(t, open(t), opts) })
}

// Invocation returns an invocation ID unique to this test, so backends
// that share a server between tests do not see each other's values.
func Invocation(t *testing.T, name string) string {
	return fmt.Sprintf("%s-%s-%d", name, strings.ReplaceAll(t.Name(), "/", "."), time.Now().UnixNano())
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// Pattern returns n deterministic, not trivially compressible bytes.
func Pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	x := uint32(seed) + 1
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return b
}

func mustGet(t *testing.T, st store.Store, key string) []byte {
	t.Helper()
	got, err := store.ReadAll(ctx(t), st, key)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return got
}

func testPutGet(t *testing.T, st store.Store) {
	inv := Invocation(t, "putget")
	for _, n := range []int{0, 1, 1 << 10, store.ChunkSize, store.ChunkSize + 1, 3<<20 + 7} {
		want := Pattern(n, byte(n))
		key, err := st.Put(ctx(t), inv, 1, bytes.NewReader(want))
		if err != nil {
			t.Fatalf("put %d bytes: %v", n, err)
		}
		if got := mustGet(t, st, key); !bytes.Equal(got, want) {
			t.Fatalf("value of %d bytes read back as %d bytes that differ", n, len(got))
		}
		// A second read (before the release) sees the same value.
		if got := mustGet(t, st, key); !bytes.Equal(got, want) {
			t.Fatalf("second read of %d bytes differs", n)
		}
	}
	// store.Bytes is an ordinary reader to every store.
	key, err := st.Put(ctx(t), inv, 1, store.Bytes([]byte("hello")))
	if err != nil {
		t.Fatal(err)
	}
	if got := mustGet(t, st, key); string(got) != "hello" {
		t.Fatalf("got %q, want hello", got)
	}
}

func testMissing(t *testing.T, st store.Store) {
	inv := Invocation(t, "missing")
	key, err := st.Put(ctx(t), inv, 1, strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	// A key that was never written: an error wrapping ErrNotFound, not an
	// empty value.
	if _, err := st.Open(ctx(t), key+"0"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("open of an unknown key: err = %v, want ErrNotFound", err)
	}
	if err := st.Release(ctx(t), key+"0"); err != nil {
		t.Fatalf("release of an unknown key: %v, want nil", err)
	}
	if err := st.DropInvocation(ctx(t), Invocation(t, "never-used")); err != nil {
		t.Fatalf("drop of an invocation with no values: %v", err)
	}
}

func testRefcount(t *testing.T, st store.Store, opts Options) {
	inv := Invocation(t, "refs")
	want := Pattern(100<<10, 7)
	key, err := st.Put(ctx(t), inv, 3, bytes.NewReader(want))
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		if got := mustGet(t, st, key); !bytes.Equal(got, want) {
			t.Fatalf("reader %d got a different value", i)
		}
		if err := st.Release(ctx(t), key); err != nil {
			t.Fatalf("release %d: %v", i, err)
		}
		_, err := store.ReadAll(ctx(t), st, key)
		gone := errors.Is(err, store.ErrNotFound)
		wantGone := i == 3 && !opts.ReleaseKeepsValue
		if gone != wantGone {
			t.Fatalf("after %d of 3 releases: read err = %v, want gone = %v", i, err, wantGone)
		}
		if err != nil && !gone {
			t.Fatalf("after %d releases: %v", i, err)
		}
	}
	// More releases than references are harmless.
	if err := st.Release(ctx(t), key); err != nil {
		t.Fatalf("extra release: %v", err)
	}
}

func testDrop(t *testing.T, st store.Store) {
	inv, other := Invocation(t, "drop"), Invocation(t, "keep")
	var keys []string
	for i := 0; i < 3; i++ {
		k, err := st.Put(ctx(t), inv, 5, bytes.NewReader(Pattern(20<<10, byte(i))))
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	kept, err := st.Put(ctx(t), other, 1, strings.NewReader("still here"))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DropInvocation(ctx(t), inv); err != nil {
		t.Fatalf("drop: %v", err)
	}
	for _, k := range keys {
		if _, err := store.ReadAll(ctx(t), st, k); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("value %s of a dropped invocation: err = %v, want ErrNotFound", k, err)
		}
	}
	if got := mustGet(t, st, kept); string(got) != "still here" {
		t.Fatalf("another invocation's value changed to %q", got)
	}
	// Dropping twice is harmless.
	if err := st.DropInvocation(ctx(t), inv); err != nil {
		t.Fatalf("second drop: %v", err)
	}
}

func testConcurrent(t *testing.T, st store.Store) {
	inv := Invocation(t, "conc")
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			want := Pattern(40<<10+i, byte(i))
			key, err := st.Put(ctx(t), inv, 1, bytes.NewReader(want))
			if err != nil {
				errs <- err
				return
			}
			got, err := store.ReadAll(ctx(t), st, key)
			if err != nil {
				errs <- err
				return
			}
			if !bytes.Equal(got, want) {
				errs <- fmt.Errorf("writer %d read back another value", i)
			}
			if err := st.Release(ctx(t), key); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// testBig streams a large value in and out and checks that the process's
// peak resident memory grew by much less than the value.
func testBig(t *testing.T, st store.Store, opts Options) {
	if testing.Short() {
		t.Skip("streams a 64 MiB value; run without -short")
	}
	inv := Invocation(t, "big")
	peak := StartPeakRSS(t)
	src := &patternReader{left: opts.BigValue}
	h := sha256.New()
	key, err := st.Put(ctx(t), inv, 1, io.TeeReader(src, h))
	if err != nil {
		t.Fatalf("put %d bytes: %v", opts.BigValue, err)
	}
	want := h.Sum(nil)
	rc, err := st.Open(ctx(t), key)
	if err != nil {
		t.Fatal(err)
	}
	h.Reset()
	n, err := io.Copy(h, rc)
	rc.Close()
	if err != nil {
		t.Fatalf("read back: %v", err)
	}
	if n != opts.BigValue || !bytes.Equal(h.Sum(nil), want) {
		t.Fatalf("read back %d bytes, want %d with the same hash", n, opts.BigValue)
	}
	growth := peak()
	t.Logf("streamed %d MiB in and out; peak RSS growth %.1f MiB", opts.BigValue>>20, float64(growth)/(1<<20))
	if growth > opts.MaxGrowth && !opts.Unbounded {
		t.Fatalf("peak RSS grew by %d MiB streaming a %d MiB value; want under %d MiB",
			growth>>20, opts.BigValue>>20, opts.MaxGrowth>>20)
	}
	if err := st.Release(ctx(t), key); err != nil {
		t.Fatal(err)
	}
	if err := st.DropInvocation(ctx(t), inv); err != nil {
		t.Fatal(err)
	}
}

// patternReader yields left bytes of a cheap pattern without allocating.
type patternReader struct {
	left int64
	x    byte
}

func (p *patternReader) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	for i := range b {
		p.x = p.x*31 + 7
		b[i] = p.x
	}
	p.left -= int64(len(b))
	return len(b), nil
}

// StartPeakRSS resets the kernel's peak-RSS mark of this process and returns
// a function that reports how far the peak rose above the resident size at
// the start. Tests in a package run one at a time here, so the growth is
// this test's.
func StartPeakRSS(t *testing.T) func() int64 {
	t.Helper()
	// Writing 5 to clear_refs resets VmHWM to the current RSS (Linux).
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		t.Fatalf("reset peak RSS: %v (needs Linux /proc)", err)
	}
	base := procStatus(t, "VmRSS")
	return func() int64 { return procStatus(t, "VmHWM") - base }
}

// procStatus returns a /proc/self/status field in bytes.
func procStatus(t *testing.T, field string) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("parse %s: %v", line, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no %s in /proc/self/status", field)
	return 0
}
