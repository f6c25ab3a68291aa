// Package store holds data that functions exchange on a worker: values too
// large to ride inline with a notification wait here until their consumers
// read them.
package store

import (
	"strconv"
	"sync"
)

// Memory is the agent's in-memory store. Each value is reference-counted by
// its number of readers and deleted when the last one releases it; values
// are also indexed by invocation so that everything an invocation left
// behind can be dropped when it ends. It is safe for concurrent use.
type Memory struct {
	mu    sync.Mutex
	seq   uint64
	items map[string]*entry
	byInv map[string]map[string]struct{}
	bytes int64
}

type entry struct {
	data []byte
	refs int
	inv  string
}

// NewMemory returns an empty store.
func NewMemory() *Memory {
	return &Memory{items: map[string]*entry{}, byInv: map[string]map[string]struct{}{}}
}

// Put stores data for invocation inv with refs readers and returns its key.
// The store keeps data without copying it: the caller must not change it.
// With refs <= 0 nothing is stored and the key is "".
func (m *Memory) Put(inv string, data []byte, refs int) string {
	if refs <= 0 {
		return ""
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	key := inv + "/" + strconv.FormatUint(m.seq, 10)
	m.items[key] = &entry{data: data, refs: refs, inv: inv}
	keys := m.byInv[inv]
	if keys == nil {
		keys = map[string]struct{}{}
		m.byInv[inv] = keys
	}
	keys[key] = struct{}{}
	m.bytes += int64(len(data))
	return key
}

// Get returns the value under key; ok is false when the key is unknown or
// its value was already released by all readers or dropped.
func (m *Memory) Get(key string) (data []byte, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.items[key]
	if !ok {
		return nil, false
	}
	return e.data, true
}

// Release gives up one reader's reference; the value is deleted with the
// last one. Releasing an unknown key does nothing.
func (m *Memory) Release(key string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.items[key]
	if !ok {
		return
	}
	e.refs--
	if e.refs <= 0 {
		m.deleteLocked(key, e)
	}
}

// DropInvocation deletes every value of invocation inv, whatever its
// reference count.
func (m *Memory) DropInvocation(inv string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for key := range m.byInv[inv] {
		m.deleteLocked(key, m.items[key])
	}
	delete(m.byInv, inv)
}

func (m *Memory) deleteLocked(key string, e *entry) {
	delete(m.items, key)
	m.bytes -= int64(len(e.data))
	if keys := m.byInv[e.inv]; keys != nil {
		delete(keys, key)
		if len(keys) == 0 {
			delete(m.byInv, e.inv)
		}
	}
}

// Stats reports the number of values held and their total size in bytes.
func (m *Memory) Stats() (items int, bytes int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items), m.bytes
}
