package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

func TestBatchRoundTrip(t *testing.T) {
	entries := []BatchEntry{
		{Message: &Message{Invocation: "a", Kind: KindValue}, Len: 3},
		{Message: &Message{Invocation: "b", Kind: KindSkip}, Len: 0},
		{Message: &Message{Invocation: "c", Kind: KindItem, Index: 2}, Len: 5},
	}
	values := [][]byte{[]byte("one"), nil, []byte("three")}
	body, err := EncodeBatch(entries, func(i int) []byte { return values[i] }, 8)
	if err != nil {
		t.Fatal(err)
	}
	got, gotValues, err := DecodeBatch(body)
	if err != nil {
		t.Fatal(err)
	}
	for i := range entries {
		if got[i].Message.Invocation != entries[i].Message.Invocation || !bytes.Equal(gotValues[i], values[i]) {
			t.Errorf("entry %d = %+v %q, want %+v %q", i, got[i].Message, gotValues[i], entries[i].Message, values[i])
		}
	}
	bad := [][]byte{nil, {0, 0, 0, 9, '[', ']'}, append(append([]byte{}, body...), 'x'), body[:len(body)-1]}
	for i, b := range bad {
		if _, _, err := DecodeBatch(b); err == nil {
			t.Errorf("malformed batch %d decoded without error", i)
		}
	}
}

// TestSenderBatchesBursts sends many messages at once to a slow worker:
// all arrive, in fewer requests than messages.
func TestSenderBatchesBursts(t *testing.T) {
	var mu sync.Mutex
	got := map[string]string{}
	requests := 0
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		requests++
		if r.URL.Path == "/v1/messages/batch" {
			entries, values, err := DecodeBatch(body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			for i, e := range entries {
				got[e.Message.Invocation] = string(values[i])
			}
			return
		}
		var m Message
		if err := json.Unmarshal([]byte(r.Header.Get(HeaderMessage)), &m); err != nil {
			http.Error(w, err.Error(), 400)
			return
		}
		got[m.Invocation] = string(body)
	}))
	defer srv.Close()
	s := NewSender(srv.Client())
	s.MaxInFlight = 1
	const n = 50
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := s.Send(context.Background(), srv.URL, &Message{Invocation: fmt.Sprint(i)}, []byte(fmt.Sprint("v", i))); err != nil {
				t.Error(err)
			}
		}()
	}
	close(release)
	wg.Wait()
	if len(got) != n {
		t.Fatalf("worker got %d distinct messages, want %d", len(got), n)
	}
	if requests >= n {
		t.Fatalf("%d requests for %d messages: nothing was batched", requests, n)
	}
}

// FuzzDecodeBatch: any body a peer sends decodes or fails cleanly, and a
// decoded batch's values lie inside the body.
func FuzzDecodeBatch(f *testing.F) {
	good, _ := EncodeBatch([]BatchEntry{{Message: &Message{Invocation: "a"}, Len: 2}}, func(int) []byte { return []byte("hi") }, 2)
	f.Add(good)
	f.Add([]byte{0, 0, 0, 2, '[', ']'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, body []byte) {
		entries, values, err := DecodeBatch(body)
		if err != nil {
			return
		}
		total := 0
		for i, e := range entries {
			if len(values[i]) != e.Len {
				t.Fatalf("entry %d: value of %d bytes, index says %d", i, len(values[i]), e.Len)
			}
			total += e.Len
		}
		if total > len(body) {
			t.Fatalf("values total %d bytes in a body of %d", total, len(body))
		}
	})
}
