package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/faasflow/faasflow-go/fn/protocol"
)

// Messages between the gateway and workers, and between workers, travel on
// one long-lived stream per destination instead of an HTTP request each:
// the sender opens GET /v1/messages/stream with Upgrade: faasflow-messages,
// and after "101 Switching Protocols" both sides exchange frames of the
// instance protocol's format (fn/protocol) with binary headers (see
// MessageHeader). The sender writes message frames without waiting; the
// receiver delivers them in order and answers each with an ack frame
// carrying the message's sequence number and, when delivery failed, a
// status code and error. An HTTP round trip costs about
// five times the CPU of a frame each way, and a burst of messages shares
// the stream's writes.
const (
	// MessagesStreamPath is where workers accept message streams.
	MessagesStreamPath = "/v1/messages/stream"
	streamUpgrade      = "faasflow-messages"
)

// Sender delivers messages to workers (and results to the gateway) over one
// stream per destination.
type Sender struct {
	// DialTimeout bounds opening a stream (default 5 s).
	DialTimeout time.Duration
	// WriteTimeout bounds writing one batch of messages (default 1 min): a
	// worker that has not taken the bytes in that time is treated as gone,
	// and its stream's messages fail.
	WriteTimeout time.Duration
	// Secret, when set, signs each stream's upgrade request (see Sign):
	// receivers check it before taking the connection over.
	Secret string

	mu     sync.Mutex
	peers  map[string]*streamPeer
	closed bool
}

// NewSender returns a sender.
func NewSender() *Sender {
	return &Sender{DialTimeout: 5 * time.Second, WriteTimeout: time.Minute, peers: map[string]*streamPeer{}}
}

// Send delivers m with its value to the worker at baseURL and returns when
// the worker has taken it (or ctx ends). A worker that refuses the message
// gives a *StatusError.
func (s *Sender) Send(ctx context.Context, baseURL string, m *Message, data []byte) error {
	done := make(chan error, 1)
	s.Post(baseURL, m, data, func(err error) { done <- err })
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Post hands m with its value to the stream to the worker at baseURL and
// returns at once; done is called once, with nil when the worker took the
// message, a *StatusError when it refused it, or the error that kept it
// from arriving. done runs on the sender's goroutine and must not block.
//
// Messages posted while the stream is busy leave together, in one write,
// and their acks come back together: a burst costs a few system calls and
// wake-ups instead of several per message. Messages to one worker leave in
// the order they were posted.
func (s *Sender) Post(baseURL string, m *Message, data []byte, done func(error)) {
	s.mu.Lock()
	p := s.peers[baseURL]
	if p == nil {
		p = &streamPeer{s: s, baseURL: baseURL}
		s.peers[baseURL] = p
	}
	s.mu.Unlock()
	p.mu.Lock()
	p.queue = append(p.queue, &outgoing{m: m, data: data, done: done})
	idle := !p.writing
	p.writing = true
	p.mu.Unlock()
	if idle {
		go p.drain()
	}
}

// Close closes every stream; messages waiting for an ack fail, and so do
// those posted later or still queued (no stream is opened again).
func (s *Sender) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for _, p := range s.peers {
		p.mu.Lock()
		if p.st != nil {
			p.st.close(errSenderClosed)
		}
		p.mu.Unlock()
	}
}

// outgoing is a posted message.
type outgoing struct {
	m    *Message
	data []byte
	done func(error)
}

// streamPeer is the sending side of the stream to one worker. One drain
// goroutine at a time writes its queue.
type streamPeer struct {
	s       *Sender
	baseURL string

	mu      sync.Mutex
	queue   []*outgoing // posted, not yet written
	writing bool        // a drain goroutine runs
	st      *stream     // nil until opened, and after it broke
	seq     uint64      // the drain goroutine's own
}

// stream is one open connection and the acks it still owes.
type stream struct {
	nc   net.Conn
	conn *protocol.Conn

	mu      sync.Mutex
	pending map[uint64]*outgoing
	err     error // set once broken
}

// drain writes what is queued until the queue is empty.
func (p *streamPeer) drain() {
	for {
		p.mu.Lock()
		batch := p.queue
		p.queue = nil
		if len(batch) == 0 {
			p.writing = false
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		p.write(batch)
	}
}

// write sends a batch on the peer's stream, opening it when needed. A
// write that fails on a stream opened earlier (the worker restarted, say)
// is tried once more on a new stream: receivers drop duplicate messages.
// Only this peer's drain goroutine sets p.st, so the second try is always
// on a stream it has just opened.
func (p *streamPeer) write(batch []*outgoing) {
	for {
		p.mu.Lock()
		st, fresh := p.st, false
		p.mu.Unlock()
		if st == nil {
			if p.s.isClosed() {
				fail(batch, errSenderClosed)
				return
			}
			var err error
			if st, err = p.open(); err != nil {
				fail(batch, err)
				return
			}
			fresh = true
			if !p.keep(st) {
				fail(batch, errSenderClosed)
				return
			}
		}
		first := p.seq + 1
		p.seq += uint64(len(batch))
		err := st.expect(first, batch)
		if err == nil {
			st.nc.SetWriteDeadline(time.Now().Add(p.s.WriteTimeout))
			for i, o := range batch {
				if err = st.conn.WriteLater(FrameMessage, protocol.RawHeader(MessageHeader(first+uint64(i), o.m)), o.data); err != nil {
					break
				}
			}
			if err == nil {
				if err = st.conn.Flush(); err == nil {
					return
				}
			}
			err = fmt.Errorf("send to %s: %w", p.baseURL, err)
			// Take back what the broken stream has not failed yet.
			batch = st.abandon(first, len(batch))
			st.close(err)
			if len(batch) == 0 {
				return
			}
		}
		p.mu.Lock()
		if p.st == st {
			p.st = nil
		}
		p.mu.Unlock()
		if fresh {
			fail(batch, err)
			return
		}
	}
}

var errSenderClosed = errors.New("sender closed")

func (s *Sender) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// keep makes st the peer's stream, unless the sender was closed while it
// opened: then st is closed too.
func (p *streamPeer) keep(st *stream) bool {
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	if p.s.closed {
		st.close(errSenderClosed)
		return false
	}
	p.mu.Lock()
	p.st = st
	p.mu.Unlock()
	return true
}

// fail tells each message of batch that it did not arrive.
func fail(batch []*outgoing, err error) {
	for _, o := range batch {
		o.done(err)
	}
}

// open dials the worker and upgrades the connection to a message stream.
func (p *streamPeer) open() (*stream, error) {
	u, err := url.Parse(p.baseURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("worker address %q is not an http://host:port URL", p.baseURL)
	}
	d := net.Dialer{Timeout: p.s.DialTimeout}
	nc, err := d.Dial("tcp", u.Host)
	if err != nil {
		return nil, fmt.Errorf("open message stream to %s: %w", p.baseURL, err)
	}
	nc.SetDeadline(time.Now().Add(p.s.DialTimeout))
	req := "GET " + MessagesStreamPath + " HTTP/1.1\r\nHost: " + u.Host +
		"\r\nConnection: Upgrade\r\nUpgrade: " + streamUpgrade + "\r\n"
	if p.s.Secret != "" {
		req += HeaderSignature + ": " + SignatureValue(p.s.Secret, http.MethodGet, MessagesStreamPath, time.Now()) + "\r\n"
	}
	req += "\r\n"
	br := bufio.NewReader(nc)
	var resp *http.Response
	if _, err = io.WriteString(nc, req); err == nil {
		resp, err = http.ReadResponse(br, nil)
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("open message stream to %s: %w", p.baseURL, err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		err := ResponseError(resp)
		nc.Close()
		return nil, fmt.Errorf("open message stream to %s: %w", p.baseURL, err)
	}
	nc.SetDeadline(time.Time{})
	st := &stream{nc: nc, conn: protocol.NewConn(bufferedConn{nc, br}, 0), pending: map[uint64]*outgoing{}}
	go st.readAcks(p.baseURL)
	return st, nil
}

// expect registers batch for the acks of seqs first, first+1, ...; it
// returns the stream's error when it broke.
func (st *stream) expect(first uint64, batch []*outgoing) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err != nil {
		return st.err
	}
	for i, o := range batch {
		st.pending[first+uint64(i)] = o
	}
	return nil
}

// abandon unregisters the n messages from seq first on and returns those
// still waiting for their ack.
func (st *stream) abandon(first uint64, n int) []*outgoing {
	st.mu.Lock()
	defer st.mu.Unlock()
	var left []*outgoing
	for seq := first; seq < first+uint64(n); seq++ {
		if o := st.pending[seq]; o != nil {
			left = append(left, o)
			delete(st.pending, seq)
		}
	}
	return left
}

// readAcks hands each ack to its waiting sender until the stream ends.
func (st *stream) readAcks(baseURL string) {
	for {
		f, err := st.conn.Read()
		if err != nil {
			st.close(fmt.Errorf("message stream to %s ended before the worker acknowledged: %w", baseURL, err))
			return
		}
		if f.Type != FrameAck {
			st.close(fmt.Errorf("message stream to %s: frame type %d is not an ack (is the worker running another version?)", baseURL, f.Type))
			return
		}
		seq, code, msg, err := ParseAckHeader(f.Header)
		if err != nil {
			st.close(fmt.Errorf("message stream to %s: %w", baseURL, err))
			return
		}
		var ackErr error
		if code != 0 {
			ackErr = &StatusError{Code: code, Status: fmt.Sprintf("%d %s", code, http.StatusText(code)), Message: msg}
		}
		st.mu.Lock()
		o := st.pending[seq]
		delete(st.pending, seq)
		st.mu.Unlock()
		if o != nil {
			o.done(ackErr)
		}
	}
}

// close breaks the stream: every unacknowledged message fails with err.
func (st *stream) close(err error) {
	st.mu.Lock()
	if st.err != nil {
		st.mu.Unlock()
		return
	}
	st.err = err
	st.conn.Close()
	pending := st.pending
	st.pending = map[uint64]*outgoing{}
	st.mu.Unlock()
	for _, o := range pending {
		o.done(err)
	}
}

// bufferedConn reads through the reader that parsed the upgrade response,
// which may already hold the first frames.
type bufferedConn struct {
	net.Conn
	r *bufio.Reader
}

func (c bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// ServeMessages is the receiving end of a message stream: it takes over the
// connection of an upgrade request to MessagesStreamPath and calls deliver
// for each message, in order, until the sender closes the stream or the
// server shuts down. deliver's
// error goes back to the sender; a *StatusError keeps its code, other
// errors become 500.
func ServeMessages(rw http.ResponseWriter, r *http.Request, maxBody int, log *slog.Logger, deliver func(*Message, []byte) error) {
	if r.Header.Get("Upgrade") != streamUpgrade {
		WriteError(rw, http.StatusBadRequest, fmt.Errorf("%s needs Upgrade: %s", MessagesStreamPath, streamUpgrade))
		return
	}
	hj, ok := rw.(http.Hijacker)
	if !ok {
		WriteError(rw, http.StatusInternalServerError, errors.New("this server cannot take over connections"))
		return
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		WriteError(rw, http.StatusInternalServerError, err)
		return
	}
	defer nc.Close()
	// The server's Shutdown does not know taken-over connections: have it
	// close this one, so a stopped agent stops taking messages.
	if srv, ok := r.Context().Value(http.ServerContextKey).(*http.Server); ok {
		srv.RegisterOnShutdown(func() { nc.Close() })
	}
	nc.SetDeadline(time.Time{})
	io.WriteString(nc, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: "+streamUpgrade+"\r\n\r\n")
	conn := protocol.NewConn(bufferedConn{nc, brw.Reader}, maxBody)
	defer conn.Flush() // acks held for a frame that turned out malformed
	for {
		f, err := conn.Read()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				log.Warn("message stream ended", "from", r.RemoteAddr, "err", err)
			}
			return
		}
		if f.Type != FrameMessage {
			log.Warn("message stream sent a frame that is not a message (is the sender running another version?); closing it", "from", r.RemoteAddr, "type", f.Type)
			return
		}
		seq, m, err := ParseMessageHeader(f.Header)
		if err != nil {
			log.Warn("message stream sent a malformed frame; closing it", "from", r.RemoteAddr, "err", err)
			return
		}
		code, msg := 0, ""
		if err := deliver(m, f.Body); err != nil {
			code, msg = http.StatusInternalServerError, err.Error()
			if se := (*StatusError)(nil); errors.As(err, &se) {
				code, msg = se.Code, se.Message
			}
		}
		// Acks of frames that arrived together leave together: the last
		// one flushes them all before the next Read waits.
		write := conn.Write
		if conn.Pending() {
			write = conn.WriteLater
		}
		if err := write(FrameAck, protocol.RawHeader(AckHeader(seq, code, msg))); err != nil {
			return
		}
	}
}
