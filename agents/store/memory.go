package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// MemoryConfig configures a Memory store.
type MemoryConfig struct {
	// Cap is the most bytes held in memory; a value that does not fit goes
	// to a file in SpillDir instead. 0 means no cap.
	Cap int64
	// TTL moves values held in memory longer than this to SpillDir, so a
	// slow consumer does not pin memory. 0 means never.
	TTL time.Duration
	// SpillDir is where spilled values are written. It is needed when Cap
	// or TTL is set; New creates it.
	SpillDir string
}

// Memory is the agent's local store: values live in its memory, or in
// files once past the cap or the TTL. It is safe for concurrent use.
type Memory struct {
	cfg MemoryConfig

	mu    sync.Mutex
	seq   uint64
	items map[string]*entry
	mem   int64 // bytes held in memory
	disk  int64 // bytes held in spill files

	stop chan struct{}
	done chan struct{}
}

type entry struct {
	key  string
	data []byte // nil when the value is in file
	file string
	size int64
	refs int
	inv  string
	at   time.Time
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty store with no cap and no TTL.
func NewMemory() *Memory {
	m, _ := NewMemoryWith(MemoryConfig{})
	return m
}

// NewMemoryWith returns an empty store configured by cfg.
func NewMemoryWith(cfg MemoryConfig) (*Memory, error) {
	if (cfg.Cap > 0 || cfg.TTL > 0) && cfg.SpillDir == "" {
		return nil, errors.New("memory store: a cap or TTL needs a spill directory")
	}
	if cfg.SpillDir != "" {
		if err := os.MkdirAll(cfg.SpillDir, 0o700); err != nil {
			return nil, fmt.Errorf("memory store: create spill directory: %w", err)
		}
	}
	m := &Memory{cfg: cfg, items: map[string]*entry{}}
	if cfg.TTL > 0 {
		m.stop, m.done = make(chan struct{}), make(chan struct{})
		go m.expire()
	}
	return m, nil
}

// Tier reports "memory".
func (m *Memory) Tier() string { return "memory" }

// Put stores the value for inv with refs readers. A value given with Bytes
// is kept without copying. With refs <= 0 nothing is stored and the key is "".
func (m *Memory) Put(ctx context.Context, inv string, refs int, r io.Reader) (string, error) {
	if refs <= 0 {
		return "", nil
	}
	e := &entry{refs: refs, inv: inv}
	if m.cfg.TTL > 0 {
		e.at = time.Now()
	}
	if br, ok := r.(*byteReader); ok && m.fits(int64(br.Len())) {
		e.data = br.take()
	} else if err := m.read(e, r); err != nil {
		return "", err
	}
	e.size = int64(len(e.data))
	if e.file != "" {
		st, err := os.Stat(e.file)
		if err != nil {
			return "", fmt.Errorf("memory store: %w", err)
		}
		e.size = st.Size()
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.seq++
	var kb strings.Builder // one allocation for the key
	kb.Grow(len(inv) + 21)
	kb.WriteString(inv)
	kb.WriteByte('/')
	kb.Write(strconv.AppendUint(make([]byte, 0, 20), m.seq, 10))
	key := kb.String()
	e.key = key
	m.items[key] = e
	if e.file != "" {
		m.disk += e.size
	} else {
		m.mem += e.size
	}
	return key, nil
}

// fits reports whether n more bytes fit under the cap now.
func (m *Memory) fits(n int64) bool {
	if m.cfg.Cap <= 0 {
		return true
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.mem+n <= m.cfg.Cap
}

// read fills e from r: in memory while it fits under the cap, then in a
// spill file holding everything read so far and the rest. It reads in
// pieces, so a value that spills never had a growing buffer.
func (m *Memory) read(e *entry, r io.Reader) error {
	if m.cfg.Cap <= 0 {
		data, err := io.ReadAll(r)
		e.data = data
		return err
	}
	var pieces [][]byte
	var size int64
	for {
		piece := make([]byte, 64<<10)
		n, err := io.ReadFull(r, piece)
		pieces = append(pieces, piece[:n])
		size += int64(n)
		done := err == io.EOF || err == io.ErrUnexpectedEOF
		if err != nil && !done {
			return err
		}
		if !m.fits(size) {
			break
		}
		if done {
			e.data = bytes.Join(pieces, nil)
			return nil
		}
	}
	f, err := os.CreateTemp(m.cfg.SpillDir, "value-*")
	if err != nil {
		return fmt.Errorf("memory store: spill: %w", err)
	}
	e.file = f.Name()
	for _, p := range pieces {
		if _, err = f.Write(p); err != nil {
			break
		}
	}
	pieces = nil
	if err == nil {
		_, err = io.Copy(f, r)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(e.file)
		return fmt.Errorf("memory store: spill: %w", err)
	}
	return nil
}

// Open returns a reader of the value under key.
func (m *Memory) Open(ctx context.Context, key string) (io.ReadCloser, error) {
	m.mu.Lock()
	e, ok := m.items[key]
	if !ok {
		m.mu.Unlock()
		return nil, fmt.Errorf("memory store: %s: %w", key, ErrNotFound)
	}
	data, file := e.data, e.file
	m.mu.Unlock()
	if file == "" {
		return newMemReader(data), nil
	}
	// An open file stays readable even if the value is released meanwhile.
	f, err := os.Open(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("memory store: %s: %w", key, ErrNotFound)
	}
	return f, err
}

// Get returns the value under key as a slice, without copying when it is in
// memory; the caller must not change it. ok is false when it is not held.
func (m *Memory) Get(key string) (data []byte, ok bool) {
	m.mu.Lock()
	e, ok := m.items[key]
	if ok && e.file == "" {
		m.mu.Unlock()
		return e.data, true
	}
	m.mu.Unlock()
	if !ok {
		return nil, false
	}
	data, err := ReadAll(context.Background(), m, key)
	return data, err == nil
}

// Release gives up one reader's reference; the value is deleted with the
// last one.
func (m *Memory) Release(ctx context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.items[key]
	if !ok {
		return nil
	}
	e.refs--
	if e.refs <= 0 {
		m.deleteLocked(key, e)
	}
	return nil
}

// DropInvocation deletes every value of inv, whatever its reference count.
func (m *Memory) DropInvocation(ctx context.Context, inv string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	// A scan: the store holds only values waiting for their readers, few
	// at a time, and Put and Release stay one map operation each.
	for key, e := range m.items {
		if e.inv == inv {
			m.deleteLocked(key, e)
		}
	}
	return nil
}

func (m *Memory) deleteLocked(key string, e *entry) {
	delete(m.items, key)
	if e.file != "" {
		m.disk -= e.size
		os.Remove(e.file)
	} else {
		m.mem -= e.size
	}
}

// expire moves values older than the TTL to disk until Close.
func (m *Memory) expire() {
	defer close(m.done)
	tick := time.NewTicker(max(m.cfg.TTL/4, 10*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case <-m.stop:
			return
		case now := <-tick.C:
			m.spillOlder(now.Add(-m.cfg.TTL))
		}
	}
}

// spillOlder writes values put before t to files.
func (m *Memory) spillOlder(t time.Time) {
	m.mu.Lock()
	var old []*entry
	for _, e := range m.items {
		if e.file == "" && e.at.Before(t) && e.size > 0 {
			old = append(old, e)
		}
	}
	m.mu.Unlock()
	for _, e := range old {
		f, err := os.CreateTemp(m.cfg.SpillDir, "value-*")
		if err != nil {
			return
		}
		_, err = f.Write(e.data)
		if cerr := f.Close(); err != nil || cerr != nil {
			os.Remove(f.Name())
			return
		}
		m.mu.Lock()
		if m.items[e.key] != e { // released meanwhile
			m.mu.Unlock()
			os.Remove(f.Name())
			continue
		}
		e.data, e.file = nil, f.Name()
		m.mem -= e.size
		m.disk += e.size
		m.mu.Unlock()
	}
}

// Stats reports the number of values held and their total size in bytes,
// in memory and in spill files.
func (m *Memory) Stats() (items int, bytes int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.items), m.mem + m.disk
}

// Spilled reports the bytes held in spill files.
func (m *Memory) Spilled() int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.disk
}

// Close stops the TTL sweep and deletes every value.
func (m *Memory) Close() error {
	if m.stop != nil {
		close(m.stop)
		<-m.done
		m.stop = nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for key, e := range m.items {
		m.deleteLocked(key, e)
	}
	return nil
}
