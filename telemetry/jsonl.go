package telemetry

import (
	"bufio"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// jsonlFlushEvery is how stale the file may get: Add flushes the buffer
// when the last flush is older than this.
const jsonlFlushEvery = time.Second

// JSONLSink appends documents to a file, one JSON object a line, through a
// buffer flushed by Flush, by Close, and by Add when the last flush is
// older than a second.
type JSONLSink struct {
	path string
	log  *slog.Logger

	mu        sync.Mutex
	f         *os.File
	w         *bufio.Writer
	lastFlush time.Time
	closed    bool
	failing   bool // a write error was logged (bufio's errors stick, so once is enough)
	written   int64
	dropped   int64
}

// NewJSONLSink opens (creating it if needed) the file at path for
// appending.
func NewJSONLSink(path string, log *slog.Logger) (*JSONLSink, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open JSONL sink: %w", err)
	}
	return &JSONLSink{path: path, log: log.With("component", "jsonl-sink"), f: f, w: bufio.NewWriterSize(f, 64<<10), lastFlush: time.Now()}, nil
}

// Add appends doc as one line. A document that cannot be encoded, or one
// added after Close, is dropped and counted.
func (s *JSONLSink) Add(doc any) {
	b, err := json.Marshal(doc)
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.dropped++
		s.log.Warn("JSONL sink: cannot encode record", "path", s.path, "err", err)
		return
	}
	if s.closed {
		s.dropped++
		return
	}
	b = append(b, '\n')
	if _, err := s.w.Write(b); err != nil {
		s.dropped++
		s.writeFailed(err)
		return
	}
	s.written++
	if time.Since(s.lastFlush) > jsonlFlushEvery {
		s.flushLocked()
	}
}

// Written is how many documents were added (some may still be buffered).
func (s *JSONLSink) Written() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.written
}

// Dropped is how many documents could not be written.
func (s *JSONLSink) Dropped() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Flush writes the buffered lines to the file.
func (s *JSONLSink) Flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	return s.flushLocked()
}

func (s *JSONLSink) flushLocked() error {
	s.lastFlush = time.Now()
	if err := s.w.Flush(); err != nil {
		s.writeFailed(err)
		return fmt.Errorf("flush %s: %w", s.path, err)
	}
	return nil
}

// writeFailed logs the first write error only (a full disk would otherwise
// log once per record).
func (s *JSONLSink) writeFailed(err error) {
	if !s.failing {
		s.failing = true
		s.log.Warn("JSONL sink: write failed; records are being lost", "path", s.path, "err", err)
	}
}

// Close flushes the buffer and closes the file; later Adds are dropped.
func (s *JSONLSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	ferr := s.w.Flush()
	cerr := s.f.Close()
	if ferr != nil {
		return fmt.Errorf("flush %s: %w", s.path, ferr)
	}
	if cerr != nil {
		return fmt.Errorf("close %s: %w", s.path, cerr)
	}
	return nil
}
