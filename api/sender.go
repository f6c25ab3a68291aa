package api

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
)

// Sender delivers messages to workers. Up to MaxInFlight requests run to
// one worker at a time; messages that arrive while they are all busy wait
// and leave together in one batch request, so bursts (a function's many
// outputs, a workflow's many inputs) cost few round trips without delaying
// a lone message.
type Sender struct {
	Client      *http.Client
	MaxInFlight int // per worker; default 4

	mu    sync.Mutex
	peers map[string]*peer
}

type peer struct {
	inFlight int
	queue    []*queued
}

type queued struct {
	m    *Message
	data []byte
	done chan error
}

// NewSender returns a sender using client.
func NewSender(client *http.Client) *Sender {
	return &Sender{Client: client, MaxInFlight: 4, peers: map[string]*peer{}}
}

// Send delivers m with its value to the worker at baseURL and returns when
// the worker has taken it (or ctx ends).
func (s *Sender) Send(ctx context.Context, baseURL string, m *Message, data []byte) error {
	q := &queued{m: m, data: data, done: make(chan error, 1)}
	s.mu.Lock()
	p := s.peers[baseURL]
	if p == nil {
		p = &peer{}
		s.peers[baseURL] = p
	}
	p.queue = append(p.queue, q)
	if p.inFlight < max(s.MaxInFlight, 1) {
		p.inFlight++
		go s.drain(baseURL, p)
	}
	s.mu.Unlock()
	select {
	case err := <-q.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// drain sends what is queued for p until the queue is empty.
func (s *Sender) drain(baseURL string, p *peer) {
	for {
		s.mu.Lock()
		batch := p.queue
		p.queue = nil
		if len(batch) == 0 {
			p.inFlight--
			s.mu.Unlock()
			return
		}
		s.mu.Unlock()
		var err error
		if len(batch) == 1 {
			err = PostRaw(context.Background(), s.Client, baseURL+"/v1/messages", HeaderMessage, batch[0].m, batch[0].data)
		} else {
			err = s.sendBatch(baseURL, batch)
		}
		for _, q := range batch {
			q.done <- err
		}
	}
}

// BatchEntry is one message of a batch, with the length of its value.
type BatchEntry struct {
	Message *Message `json:"message"`
	Len     int      `json:"len"`
}

// sendBatch posts several messages in one request to /v1/messages/batch.
func (s *Sender) sendBatch(baseURL string, batch []*queued) error {
	entries := make([]BatchEntry, len(batch))
	size := 0
	for i, q := range batch {
		entries[i] = BatchEntry{Message: q.m, Len: len(q.data)}
		size += len(q.data)
	}
	body, err := EncodeBatch(entries, func(i int) []byte { return batch[i].data }, size)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(http.MethodPost, baseURL+"/v1/messages/batch", bytes.NewReader(body))
	if err != nil {
		return err
	}
	MarkReplayable(req)
	req.Header.Set("Content-Type", "application/octet-stream")
	return Do(s.Client, req)
}

// EncodeBatch lays out a batch body: a 4-byte big-endian length, the JSON
// list of entries, then each entry's value in order.
func EncodeBatch(entries []BatchEntry, data func(i int) []byte, size int) ([]byte, error) {
	index, err := json.Marshal(entries)
	if err != nil {
		return nil, err
	}
	body := make([]byte, 4, 4+len(index)+size)
	binary.BigEndian.PutUint32(body, uint32(len(index)))
	body = append(body, index...)
	for i := range entries {
		body = append(body, data(i)...)
	}
	return body, nil
}

// DecodeBatch splits a batch body into its entries and their values (which
// alias body).
func DecodeBatch(body []byte) ([]BatchEntry, [][]byte, error) {
	if len(body) < 4 {
		return nil, nil, errors.New("batch is shorter than its header")
	}
	n := int(binary.BigEndian.Uint32(body))
	if n > len(body)-4 {
		return nil, nil, fmt.Errorf("batch index of %d bytes overruns a body of %d", n, len(body))
	}
	var entries []BatchEntry
	if err := json.Unmarshal(body[4:4+n], &entries); err != nil {
		return nil, nil, fmt.Errorf("decode batch index: %w", err)
	}
	values := make([][]byte, len(entries))
	off := 4 + n
	for i, e := range entries {
		if e.Message == nil || e.Len < 0 || e.Len > len(body)-off {
			return nil, nil, fmt.Errorf("batch entry %d is malformed or overruns the body", i)
		}
		values[i] = body[off : off+e.Len : off+e.Len]
		off += e.Len
	}
	if off != len(body) {
		return nil, nil, fmt.Errorf("batch has %d bytes after its last value", len(body)-off)
	}
	return entries, values, nil
}
