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
// instance protocol's format (fn/protocol). The sender writes message
// frames without waiting; the receiver delivers them in order and answers
// each with an ack frame carrying the message's sequence number and, when
// delivery failed, a status code and error. An HTTP round trip costs about
// five times the CPU of a frame each way, and a burst of messages shares
// the stream's writes.
const (
	// MessagesStreamPath is where workers accept message streams.
	MessagesStreamPath = "/v1/messages/stream"
	streamUpgrade      = "faasflow-messages"

	frameMessage byte = 1 // sender → receiver: streamMessage header, the value as body
	frameAck     byte = 2 // receiver → sender: streamAck header
)

type streamMessage struct {
	Seq     uint64   `json:"seq"`
	Message *Message `json:"message"`
}

type streamAck struct {
	Seq   uint64 `json:"seq"`
	Code  int    `json:"code,omitempty"` // HTTP status of a failed delivery
	Error string `json:"error,omitempty"`
}

// Sender delivers messages to workers over one stream per worker.
type Sender struct {
	// DialTimeout bounds opening a stream (default 5 s).
	DialTimeout time.Duration
	// Secret, when set, signs each stream's upgrade request (see Sign):
	// receivers check it before taking the connection over.
	Secret string

	mu    sync.Mutex
	peers map[string]*streamPeer
}

// NewSender returns a sender.
func NewSender() *Sender {
	return &Sender{DialTimeout: 5 * time.Second, peers: map[string]*streamPeer{}}
}

// Send delivers m with its value to the worker at baseURL and returns when
// the worker has taken it (or ctx ends). A worker that refuses the message
// gives a *StatusError.
func (s *Sender) Send(ctx context.Context, baseURL string, m *Message, data []byte) error {
	s.mu.Lock()
	p := s.peers[baseURL]
	if p == nil {
		p = &streamPeer{s: s, baseURL: baseURL}
		s.peers[baseURL] = p
	}
	s.mu.Unlock()
	done, err := p.send(ctx, m, data)
	if err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close closes every stream; messages waiting for an ack fail.
func (s *Sender) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.peers {
		p.mu.Lock()
		if p.st != nil {
			p.st.close(errors.New("sender closed"))
		}
		p.mu.Unlock()
	}
}

// streamPeer is the sending side of the stream to one worker.
type streamPeer struct {
	s       *Sender
	baseURL string

	mu  sync.Mutex
	st  *stream // nil until opened, and after it broke
	seq uint64
}

// stream is one open connection and the acks it still owes.
type stream struct {
	conn *protocol.Conn

	mu      sync.Mutex
	pending map[uint64]chan error
	err     error // set once broken
}

// send writes m on the peer's stream, opening it when needed. A write that
// fails on a stream opened earlier (the worker restarted, say) is tried
// once more on a new stream: receivers drop duplicate messages. Writers do
// not hold the peer's lock while writing, so a burst's frames can leave in
// one write (see protocol.Conn.Write).
func (p *streamPeer) send(ctx context.Context, m *Message, data []byte) (<-chan error, error) {
	lastErr := fmt.Errorf("send to %s: its message stream kept breaking", p.baseURL)
	for attempt := 0; attempt < 3; attempt++ {
		done := make(chan error, 1) // a broken stream fails the last one
		p.mu.Lock()
		fresh := false
		if p.st == nil {
			st, err := p.open(ctx)
			if err != nil {
				p.mu.Unlock()
				return nil, err
			}
			p.st, fresh = st, true
		}
		st := p.st
		p.seq++
		seq := p.seq
		if !st.expect(seq, done) { // it broke since: open another
			p.st = nil
			p.mu.Unlock()
			continue
		}
		p.mu.Unlock()
		err := st.conn.Write(frameMessage, streamMessage{Seq: seq, Message: m}, data)
		if err == nil {
			return done, nil
		}
		lastErr = fmt.Errorf("send to %s: %w", p.baseURL, err)
		st.close(lastErr)
		p.mu.Lock()
		if p.st == st {
			p.st = nil
		}
		p.mu.Unlock()
		if fresh {
			return nil, lastErr
		}
	}
	return nil, lastErr
}

// open dials the worker and upgrades the connection to a message stream.
func (p *streamPeer) open(ctx context.Context) (*stream, error) {
	u, err := url.Parse(p.baseURL)
	if err != nil || u.Scheme != "http" || u.Host == "" {
		return nil, fmt.Errorf("worker address %q is not an http://host:port URL", p.baseURL)
	}
	d := net.Dialer{Timeout: p.s.DialTimeout}
	nc, err := d.DialContext(ctx, "tcp", u.Host)
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
	st := &stream{conn: protocol.NewConn(bufferedConn{nc, br}, 0), pending: map[uint64]chan error{}}
	go st.readAcks(p.baseURL)
	return st, nil
}

// expect registers done for the ack of seq; false when the stream broke.
func (st *stream) expect(seq uint64, done chan error) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err != nil {
		return false
	}
	st.pending[seq] = done
	return true
}

// readAcks hands each ack to its waiting sender until the stream ends.
func (st *stream) readAcks(baseURL string) {
	for {
		f, err := st.conn.Read()
		if err != nil {
			st.close(fmt.Errorf("message stream to %s ended before the worker acknowledged: %w", baseURL, err))
			return
		}
		var a streamAck
		if f.Type != frameAck || f.Decode(&a) != nil {
			st.close(fmt.Errorf("message stream to %s: unexpected frame type %d", baseURL, f.Type))
			return
		}
		var ackErr error
		if a.Code != 0 {
			ackErr = &StatusError{Code: a.Code, Status: fmt.Sprintf("%d %s", a.Code, http.StatusText(a.Code)), Message: a.Error}
		}
		st.mu.Lock()
		done := st.pending[a.Seq]
		delete(st.pending, a.Seq)
		st.mu.Unlock()
		if done != nil {
			done <- ackErr
		}
	}
}

// close breaks the stream: every unacknowledged message fails with err.
func (st *stream) close(err error) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.err != nil {
		return
	}
	st.err = err
	st.conn.Close()
	for seq, done := range st.pending {
		done <- err
		delete(st.pending, seq)
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
	for {
		f, err := conn.Read()
		if err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				log.Warn("message stream ended", "from", r.RemoteAddr, "err", err)
			}
			return
		}
		var sm streamMessage
		if f.Type != frameMessage || f.Decode(&sm) != nil || sm.Message == nil {
			log.Warn("message stream sent a malformed frame; closing it", "from", r.RemoteAddr, "type", f.Type)
			return
		}
		a := streamAck{Seq: sm.Seq}
		if err := deliver(sm.Message, f.Body); err != nil {
			a.Code, a.Error = http.StatusInternalServerError, err.Error()
			if se := (*StatusError)(nil); errors.As(err, &se) {
				a.Code, a.Error = se.Code, se.Message
			}
		}
		if err := conn.Write(frameAck, a); err != nil {
			return
		}
	}
}
