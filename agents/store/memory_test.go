package store_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/agents/store"
	"github.com/faasflow/faasflow-go/agents/store/storetest"
)

func TestMemoryContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return store.NewMemory() }, storetest.Options{
		// Without a cap the whole value is in memory: it cannot be bounded.
		BigValue: 8 << 20, Unbounded: true,
	})
}

func TestMemoryWithCapContract(t *testing.T) {
	// With a cap, a large value streams to a spill file.
	storetest.Run(t, func(t *testing.T) store.Store {
		m, err := store.NewMemoryWith(store.MemoryConfig{Cap: 4 << 20, SpillDir: t.TempDir()})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}, storetest.Options{})
}

func TestMemorySpillsPastCap(t *testing.T) {
	ctx := context.Background()
	m, err := store.NewMemoryWith(store.MemoryConfig{Cap: 1 << 20, SpillDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	small := storetest.Pattern(600<<10, 1)
	big := storetest.Pattern(700<<10, 2)
	k1, _ := m.Put(ctx, "inv", 1, store.Bytes(small))
	k2, err := m.Put(ctx, "inv", 1, bytes.NewReader(big))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Spilled(); got != int64(len(big)) {
		t.Fatalf("spilled %d bytes, want the second value's %d", got, len(big))
	}
	for key, want := range map[string][]byte{k1: small, k2: big} {
		got, err := store.ReadAll(ctx, m, key)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("read %s: %d bytes, err %v", key, len(got), err)
		}
	}
	m.Release(ctx, k2)
	if items, n := m.Stats(); items != 1 || n != int64(len(small)) || m.Spilled() != 0 {
		t.Fatalf("after releasing the spilled value: %d items, %d bytes, %d spilled", items, n, m.Spilled())
	}
}

func TestMemoryTTLMovesValuesToDisk(t *testing.T) {
	ctx := context.Background()
	m, err := store.NewMemoryWith(store.MemoryConfig{TTL: 20 * time.Millisecond, SpillDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	want := storetest.Pattern(50<<10, 3)
	key, _ := m.Put(ctx, "inv", 1, store.Bytes(want))
	deadline := time.Now().Add(5 * time.Second)
	for m.Spilled() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("value not moved to disk 5 s after a 20 ms TTL")
		}
		time.Sleep(5 * time.Millisecond)
	}
	got, err := store.ReadAll(ctx, m, key)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("read after spill: %d bytes, err %v", len(got), err)
	}
}

func TestMemoryNeedsSpillDir(t *testing.T) {
	if _, err := store.NewMemoryWith(store.MemoryConfig{Cap: 1}); err == nil {
		t.Fatal("a cap without a spill directory was accepted")
	}
}

// benchPutGet times putting data into st and reading it back whole, the
// "store" column of scripts/bench-stores.sh. With untimedRelease the
// release after each read is left out of the time, as the floors of
// networked stores delete nothing; otherwise it is timed too.
func benchPutGet(b *testing.B, st store.Store, data []byte, untimedRelease bool) {
	ctx := context.Background()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		key, err := st.Put(ctx, "bench", 1, store.Bytes(data))
		if err != nil {
			b.Fatal(err)
		}
		got, err := store.ReadAll(ctx, st, key)
		if err != nil || len(got) != len(data) {
			b.Fatalf("read %d bytes: %v", len(got), err)
		}
		if untimedRelease {
			b.StopTimer()
		}
		if err := st.Release(ctx, key); err != nil {
			b.Fatal(err)
		}
		if untimedRelease {
			b.StartTimer()
		}
	}
}

// benchSizes are the value sizes of the store benchmarks.
var benchSizes = []struct {
	name string
	n    int
}{{"1KiB", 1 << 10}, {"1MiB", 1 << 20}, {"16MiB", 16 << 20}}

// BenchmarkMemory puts, reads and releases a value in the memory store;
// its floor is copying the value into a fresh buffer, which ReadAll must
// do too.
func BenchmarkMemory(b *testing.B) {
	ctx := context.Background()
	for _, size := range benchSizes {
		data := storetest.Pattern(size.n, 9)
		b.Run(size.name+"/store", func(b *testing.B) {
			m := store.NewMemory()
			defer m.Close()
			benchPutGet(b, m, data, false)
		})
		// What the engine does: runs read a held value through Get, a view
		// of the stored slice (the "take" column of scripts/bench-stores.sh).
		b.Run(size.name+"/take", func(b *testing.B) {
			m := store.NewMemory()
			defer m.Close()
			b.SetBytes(int64(size.n))
			for b.Loop() {
				key, err := m.Put(ctx, "bench", 1, store.Bytes(data))
				if err != nil {
					b.Fatal(err)
				}
				got, ok := m.Get(key)
				if !ok || len(got) != len(data) {
					b.Fatalf("get %d bytes: %v", len(got), ok)
				}
				m.Release(ctx, key)
			}
		})
		b.Run(size.name+"/floor", func(b *testing.B) {
			b.SetBytes(int64(size.n))
			for b.Loop() {
				buf := make([]byte, len(data))
				copy(buf, data)
				if buf[len(buf)-1] != data[len(data)-1] {
					b.Fatal("copy differs")
				}
			}
		})
	}
}
