package store

import "testing"

func TestMemoryRefcount(t *testing.T) {
	tests := []struct {
		name     string
		refs     int
		releases int
		wantKept bool
	}{
		{name: "kept until the last reader", refs: 2, releases: 1, wantKept: true},
		{name: "freed after the last reader", refs: 2, releases: 2, wantKept: false},
		{name: "extra releases are harmless", refs: 1, releases: 3, wantKept: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := NewMemory()
			key := m.Put("inv1", []byte("hello"), tt.refs)
			for i := 0; i < tt.releases; i++ {
				m.Release(key)
			}
			_, got := m.Get(key)
			if got != tt.wantKept {
				t.Fatalf("value kept = %v, want %v", got, tt.wantKept)
			}
			if items, bytes := m.Stats(); (items == 1) != tt.wantKept || (bytes == 5) != tt.wantKept {
				t.Fatalf("stats = %d items, %d bytes; kept = %v", items, bytes, tt.wantKept)
			}
		})
	}
}

func TestMemoryDropInvocation(t *testing.T) {
	m := NewMemory()
	a := m.Put("inv1", []byte("aaa"), 5)
	b := m.Put("inv1", []byte("bb"), 1)
	c := m.Put("inv2", []byte("c"), 1)
	m.DropInvocation("inv1")
	for _, key := range []string{a, b} {
		if _, ok := m.Get(key); ok {
			t.Errorf("value %s of a dropped invocation is still there", key)
		}
	}
	if got, ok := m.Get(c); !ok || string(got) != "c" {
		t.Fatalf("other invocation's value = %q, %v; want \"c\", true", got, ok)
	}
	if items, bytes := m.Stats(); items != 1 || bytes != 1 {
		t.Fatalf("stats = %d items, %d bytes; want 1, 1", items, bytes)
	}
}

func TestMemoryPutWithoutReaders(t *testing.T) {
	m := NewMemory()
	if key := m.Put("inv", []byte("x"), 0); key != "" {
		t.Fatalf("Put with no readers returned key %q, want none", key)
	}
	if items, _ := m.Stats(); items != 0 {
		t.Fatalf("store holds %d items, want 0", items)
	}
}
