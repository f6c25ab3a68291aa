package api

import (
	"reflect"
	"strings"
	"testing"

	"github.com/faasflow/faasflow-go/workflow"
)

func TestMessageHeaderRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		seq  uint64
		m    Message
	}{
		{"start", 1, Message{Invocation: "0179abc", Workflow: "cycles", DeadlineMS: 1764240000000, From: workflow.InputFunction, Kind: KindStart, Index: -1}},
		{"value to two targets", 1 << 40, Message{Invocation: "i", Workflow: "wf", From: "split", Kind: KindItem, Index: 7, SentNS: 1764240000123456789,
			Targets: []workflow.Target{{Function: "count", Input: "text"}, {Function: "merge", Input: "ü → \x00"}}}},
		{"count with a negative index", 0, Message{Kind: KindCount, Index: -1, Count: 12}},
		{"value in a store", 9, Message{Invocation: "i", Kind: KindValue, Index: -1, Ref: &DataRef{Tier: "kafka", Key: "faasflow-i-3", Size: 1 << 33}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			seq, m, err := ParseMessageHeader(MessageHeader(tt.seq, &tt.m))
			if err != nil {
				t.Fatal(err)
			}
			if seq != tt.seq || !reflect.DeepEqual(*m, tt.m) {
				t.Fatalf("got seq %d %+v, want %d %+v", seq, *m, tt.seq, tt.m)
			}
		})
	}
}

func TestAckHeaderRoundTrip(t *testing.T) {
	for _, a := range []struct {
		seq  uint64
		code int
		msg  string
	}{{1, 0, ""}, {1 << 50, 404, "workflow wf is not deployed here"}, {3, 500, strings.Repeat("x", 300)}} {
		seq, code, msg, err := ParseAckHeader(AckHeader(a.seq, a.code, a.msg))
		if err != nil || seq != a.seq || code != a.code || msg != a.msg {
			t.Errorf("ack %v: got %d %d %q, %v", a, seq, code, msg, err)
		}
	}
}

// TestParseMalformedHeaders: a cut or padded header is an error, never a
// message built from garbage.
func TestParseMalformedHeaders(t *testing.T) {
	m := Message{Invocation: "i", Workflow: "wf", From: "a", Kind: KindValue, Index: -1,
		Targets: []workflow.Target{{Function: "b", Input: "x"}}, Ref: &DataRef{Tier: "redis", Key: "k", Size: 5}}
	h := MessageHeader(3, &m)
	for n := 0; n < len(h); n++ {
		if _, _, err := ParseMessageHeader(h[:n]); err == nil {
			t.Fatalf("header cut to %d of %d bytes parsed", n, len(h))
		}
	}
	if _, _, err := ParseMessageHeader(append(h, 0)); err == nil || !strings.Contains(err.Error(), "after the message header") {
		t.Errorf("padded header: %v", err)
	}
	// The fields before the targets of an empty message: seq, four empty
	// strings, four integers.
	fixed := func(rest ...byte) []byte {
		return append(MessageHeader(1, &Message{})[:8+4*4+4*8:8+4*4+4*8], rest...)
	}
	bad := []struct {
		name string
		hdr  []byte
		want string
	}{
		{"JSON of an older version", []byte(`{"seq":1,"message":{"invocation":"i"}}`), "ends inside a field"},
		{"huge target count", fixed(0xff, 0xff, 0xff, 0xff, 0), "list of 4294967295 elements"},
		{"bad reference flag", fixed(0, 0, 0, 0, 7), "bad data reference flag"},
	}
	for _, b := range bad {
		if _, _, err := ParseMessageHeader(b.hdr); err == nil || !strings.Contains(err.Error(), b.want) {
			t.Errorf("%s: %v, want an error saying %q", b.name, err, b.want)
		}
	}
	ack := AckHeader(1, 404, "no")
	for n := 0; n < len(ack); n++ {
		if _, _, _, err := ParseAckHeader(ack[:n]); err == nil {
			t.Fatalf("ack cut to %d of %d bytes parsed", n, len(ack))
		}
	}
}

// FuzzParseMessageHeader: any bytes parse to an error or to a message that
// encodes back to the same bytes.
func FuzzParseMessageHeader(f *testing.F) {
	f.Add(MessageHeader(1, &Message{Invocation: "i", Kind: KindValue, Index: -1, Targets: []workflow.Target{{Function: "f", Input: "x"}}}))
	f.Add(MessageHeader(2, &Message{Ref: &DataRef{Tier: "direct", Key: "k", Size: 1}}))
	f.Add([]byte(`{"seq":1}`))
	f.Fuzz(func(t *testing.T, h []byte) {
		seq, m, err := ParseMessageHeader(h)
		if err != nil {
			return
		}
		// Each field has one encoding, so what parses encodes back byte
		// for byte.
		if again := MessageHeader(seq, m); string(again) != string(h) {
			t.Fatalf("%q parsed to %d %+v, which encodes to %q", h, seq, *m, again)
		}
	})
}
