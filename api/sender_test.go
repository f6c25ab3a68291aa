package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// streamServer is a worker's message endpoint: it records what it is
// given and answers with deliver's error.
type streamServer struct {
	srv     *httptest.Server
	streams atomic.Int32

	mu    sync.Mutex
	got   map[string]string // invocation → value
	order []string          // invocations in the order they arrived
	n     int
}

func newStreamServer(t *testing.T, fail func(*Message) error) *streamServer {
	s := &streamServer{got: map[string]string{}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	s.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if r.URL.Path != MessagesStreamPath {
			http.NotFound(rw, r)
			return
		}
		s.streams.Add(1)
		ServeMessages(rw, r, 1<<20, log, func(m *Message, data []byte) error {
			if fail != nil {
				if err := fail(m); err != nil {
					return err
				}
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			s.got[m.Invocation] = string(data)
			s.order = append(s.order, m.Invocation)
			s.n++
			return nil
		})
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *streamServer) delivered() (map[string]string, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]string{}
	for k, v := range s.got {
		out[k] = v
	}
	return out, s.n
}

// TestSenderDeliversOverOneStream sends many messages at once: each
// arrives exactly once with its value, all on one stream.
func TestSenderDeliversOverOneStream(t *testing.T) {
	srv := newStreamServer(t, nil)
	s := NewSender()
	defer s.Close()
	const n = 200
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Send(context.Background(), srv.srv.URL, &Message{Invocation: fmt.Sprint(i)}, []byte(fmt.Sprint("v", i))); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	got, count := srv.delivered()
	if count != n || len(got) != n {
		t.Fatalf("worker took %d messages (%d distinct), want %d", count, len(got), n)
	}
	for i := 0; i < n; i++ {
		if v := got[fmt.Sprint(i)]; v != fmt.Sprint("v", i) {
			t.Fatalf("message %d has value %q", i, v)
		}
	}
	if k := srv.streams.Load(); k != 1 {
		t.Fatalf("%d streams opened for %d messages, want 1", k, n)
	}
}

// TestSenderPostBurst posts a burst from one goroutine, one message
// refused in the middle: every message's done runs once with its own
// verdict, and the worker takes the others in the order they were posted.
func TestSenderPostBurst(t *testing.T) {
	srv := newStreamServer(t, func(m *Message) error {
		if m.Invocation == "7" {
			return &StatusError{Code: http.StatusNotFound, Message: "no such workflow"}
		}
		return nil
	})
	s := NewSender()
	defer s.Close()
	const n = 50
	var wg sync.WaitGroup
	verdicts := make([]error, n)
	calls := make([]atomic.Int32, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		s.Post(srv.srv.URL, &Message{Invocation: fmt.Sprint(i)}, []byte(fmt.Sprint("v", i)), func(err error) {
			verdicts[i] = err
			calls[i].Add(1)
			wg.Done()
		})
	}
	wg.Wait()
	var want []string
	for i := 0; i < n; i++ {
		if c := calls[i].Load(); c != 1 {
			t.Fatalf("done of message %d ran %d times", i, c)
		}
		var se *StatusError
		if i == 7 {
			if !errors.As(verdicts[i], &se) || se.Code != http.StatusNotFound {
				t.Errorf("message 7: %v, want the worker's 404", verdicts[i])
			}
			continue
		}
		if verdicts[i] != nil {
			t.Errorf("message %d: %v", i, verdicts[i])
		}
		want = append(want, fmt.Sprint(i))
	}
	srv.mu.Lock()
	defer srv.mu.Unlock()
	if strings.Join(srv.order, ",") != strings.Join(want, ",") {
		t.Fatalf("worker took %v, want %v", srv.order, want)
	}
}

// TestSenderReturnsDeliveryErrors: the receiver's refusal comes back to
// the sender with its status code; the stream stays usable.
func TestSenderReturnsDeliveryErrors(t *testing.T) {
	srv := newStreamServer(t, func(m *Message) error {
		switch m.Invocation {
		case "unknown":
			return &StatusError{Code: http.StatusNotFound, Message: "workflow wf is not deployed here"}
		case "broken":
			return errors.New("disk full")
		}
		return nil
	})
	s := NewSender()
	defer s.Close()
	tests := []struct {
		inv      string
		wantCode int
		wantText string
	}{
		{"unknown", http.StatusNotFound, "404 Not Found: workflow wf is not deployed here"},
		{"broken", http.StatusInternalServerError, "500 Internal Server Error: disk full"},
		{"fine", 0, ""},
	}
	for _, tt := range tests {
		err := s.Send(context.Background(), srv.srv.URL, &Message{Invocation: tt.inv}, nil)
		if tt.wantCode == 0 {
			if err != nil {
				t.Errorf("%s: %v", tt.inv, err)
			}
			continue
		}
		var se *StatusError
		if !errors.As(err, &se) || se.Code != tt.wantCode || err.Error() != tt.wantText {
			t.Errorf("%s: error %v, want %q", tt.inv, err, tt.wantText)
		}
	}
	if got, _ := srv.delivered(); got["fine"] != "" || len(got) != 1 {
		t.Errorf("delivered %v, want only fine", got)
	}
}

// TestSenderReopensAfterRestart: a worker that restarts on the same
// address gets the next message on a new stream.
func TestSenderReopensAfterRestart(t *testing.T) {
	first := newStreamServer(t, nil)
	s := NewSender()
	defer s.Close()
	ctx := context.Background()
	url := first.srv.URL
	if err := s.Send(ctx, url, &Message{Invocation: "a"}, []byte("1")); err != nil {
		t.Fatal(err)
	}
	shut, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	first.srv.Config.Shutdown(shut)
	first.srv.Close()

	second := newStreamServer(t, nil)
	second.srv.Close()
	ln, err := net.Listen("tcp", first.srv.Listener.Addr().String())
	if err != nil {
		t.Fatalf("listen again on the first server's address: %v", err)
	}
	second.srv = httptest.NewUnstartedServer(second.srv.Config.Handler)
	second.srv.Listener.Close()
	second.srv.Listener = ln
	second.srv.Start()
	defer second.srv.Close()

	deadline := time.Now().Add(10 * time.Second)
	for {
		err := s.Send(ctx, url, &Message{Invocation: "b"}, []byte("2"))
		if err == nil {
			break
		}
		// A message sent while the old stream was going down may fail;
		// the sender's caller sees that, and the next one goes through.
		if time.Now().After(deadline) {
			t.Fatalf("no message got through after the restart: %v", err)
		}
	}
	if got, _ := second.delivered(); got["b"] != "2" || len(got) != 1 {
		t.Fatalf("restarted worker got %v", got)
	}
}

// TestSenderUnreachable: a worker that is not listening fails the send
// with an error naming it, promptly.
func TestSenderUnreachable(t *testing.T) {
	srv := newStreamServer(t, nil)
	url := srv.srv.URL
	srv.srv.Close()
	s := NewSender()
	defer s.Close()
	err := s.Send(context.Background(), url, &Message{Invocation: "a"}, nil)
	if err == nil || !strings.Contains(err.Error(), "open message stream to "+url) {
		t.Fatalf("error %v, want one naming %s", err, url)
	}
}

// TestServeMessagesShutsDown: shutting the server down closes its streams,
// so a stopped worker takes no more messages.
func TestServeMessagesShutsDown(t *testing.T) {
	srv := newStreamServer(t, nil)
	s := NewSender()
	defer s.Close()
	ctx := context.Background()
	if err := s.Send(ctx, srv.srv.URL, &Message{Invocation: "a"}, nil); err != nil {
		t.Fatal(err)
	}
	shut, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := srv.srv.Config.Shutdown(shut); err != nil {
		t.Fatal(err)
	}
	// The server closes its streams from a shutdown hook, which runs in
	// its own goroutine: a send right after Shutdown may still get through,
	// but sends fail from the moment the stream is closed.
	deadline := time.Now().Add(2 * time.Second)
	for i := 0; ; i++ {
		err := s.Send(ctx, srv.srv.URL, &Message{Invocation: fmt.Sprint("b", i)}, nil)
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("messages still taken 2s after the server shut down (%d sent)", i+1)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServeMessagesNeedsUpgrade: a plain request to the stream path gets a
// 400 that says what is expected.
func TestServeMessagesNeedsUpgrade(t *testing.T) {
	srv := newStreamServer(t, nil)
	resp, err := http.Get(srv.srv.URL + MessagesStreamPath)
	if err != nil {
		t.Fatal(err)
	}
	err = ResponseError(resp)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(err.Error(), "Upgrade: faasflow-messages") {
		t.Fatalf("got %v", err)
	}
}

// TestSenderWriteTimeout: a worker that takes the stream but stops reading
// fails the messages once a write has waited WriteTimeout, instead of
// holding them forever.
func TestSenderWriteTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.WriteString(c, "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: "+streamUpgrade+"\r\n\r\n")
		<-stop // never reads
	}()
	s := NewSender()
	s.WriteTimeout = 300 * time.Millisecond
	defer s.Close()
	value := make([]byte, 1<<20)
	failed := make(chan error, 64)
	t0 := time.Now()
	for i := 0; i < 64; i++ { // far more than the socket buffers hold
		s.Post("http://"+ln.Addr().String(), &Message{Invocation: fmt.Sprint(i)}, value, func(err error) {
			if err != nil {
				failed <- err
			}
		})
	}
	select {
	case err := <-failed:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("message failed with %v, want a write deadline error", err)
		}
		if d := time.Since(t0); d > 5*time.Second {
			t.Fatalf("first failure after %v", d)
		}
	case <-time.After(8 * time.Second):
		t.Fatal("no message failed though the worker never read")
	}
}

// TestSenderClosed: once the sender is closed, a message posted to a worker
// fails instead of opening a stream again.
func TestSenderClosed(t *testing.T) {
	srv := newStreamServer(t, nil)
	s := NewSender()
	if err := s.Send(context.Background(), srv.srv.URL, &Message{Invocation: "a"}, nil); err != nil {
		t.Fatal(err)
	}
	s.Close()
	err := s.Send(context.Background(), srv.srv.URL, &Message{Invocation: "b"}, nil)
	if err == nil || !strings.Contains(err.Error(), "sender closed") {
		t.Fatalf("send after Close: %v, want sender closed", err)
	}
	if got, _ := srv.delivered(); len(got) != 1 || srv.streams.Load() != 1 {
		t.Fatalf("worker took %v over %d streams, want only a over one", got, srv.streams.Load())
	}
}
