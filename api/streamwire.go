package api

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/faasflow/faasflow-go/workflow"
)

// Frames of a message stream carry binary headers, not the JSON of the
// instance protocol's frames: decoding a JSON message header cost a
// receiver about 28 µs under load, more than delivering the message.
//
// A message header is the sequence number (uvarint) followed by the
// message's fields: strings (uvarint length, then the bytes) invocation,
// workflow, from and kind; varints deadline_ms, index, count and sent_ns;
// the number of targets (uvarint), then each target's function and input;
// and a byte, 1 when a data reference follows as strings tier and key and
// varint size. An ack header is the sequence number and the HTTP status of
// a failed delivery (uvarints, 0 for success) and its error (a string).
const (
	// FrameMessage is a message frame: MessageHeader, then the value as body.
	FrameMessage byte = 3
	// FrameAck answers a message frame: AckHeader, no body.
	FrameAck byte = 4
)

// maxHeaderCount bounds the number of targets a header may announce before
// they are read, so that a short bad header cannot reserve much.
const maxHeaderCount = 1 << 16

var errShortHeader = errors.New("header ends early")

// MessageHeader encodes the header of message frame number seq.
func MessageHeader(seq uint64, m *Message) []byte {
	b := make([]byte, 0, 128)
	b = binary.AppendUvarint(b, seq)
	for _, s := range []string{m.Invocation, m.Workflow, m.From, string(m.Kind)} {
		b = appendString(b, s)
	}
	for _, v := range []int64{m.DeadlineMS, int64(m.Index), int64(m.Count), m.SentNS} {
		b = binary.AppendVarint(b, v)
	}
	b = binary.AppendUvarint(b, uint64(len(m.Targets)))
	for _, t := range m.Targets {
		b = appendString(appendString(b, t.Function), t.Input)
	}
	if m.Ref == nil {
		return append(b, 0)
	}
	b = appendString(appendString(append(b, 1), m.Ref.Tier), m.Ref.Key)
	return binary.AppendVarint(b, m.Ref.Size)
}

// ParseMessageHeader decodes a message frame's header.
func ParseMessageHeader(h []byte) (uint64, *Message, error) {
	r := wireReader{b: h}
	seq := r.uvarint()
	m := &Message{Invocation: r.string(), Workflow: r.string(), From: r.string(), Kind: Kind(r.string())}
	m.DeadlineMS = r.varint()
	m.Index, m.Count = int(r.varint()), int(r.varint())
	m.SentNS = r.varint()
	n := r.uvarint()
	if n > maxHeaderCount {
		return 0, nil, fmt.Errorf("message header announces %d targets", n)
	}
	for i := uint64(0); i < n && r.err == nil; i++ {
		m.Targets = append(m.Targets, workflow.Target{Function: r.string(), Input: r.string()})
	}
	switch r.byte() {
	case 0:
	case 1:
		m.Ref = &DataRef{Tier: r.string(), Key: r.string(), Size: r.varint()}
	default:
		r.fail(errors.New("bad data reference flag"))
	}
	if r.err == nil && len(r.b) > 0 {
		r.fail(fmt.Errorf("%d bytes after the message header", len(r.b)))
	}
	if r.err != nil {
		return 0, nil, fmt.Errorf("message header: %w", r.err)
	}
	return seq, m, nil
}

// AckHeader encodes the ack of message seq: code 0 when it was delivered,
// else the HTTP status of the failure and its error.
func AckHeader(seq uint64, code int, msg string) []byte {
	b := binary.AppendUvarint(make([]byte, 0, 16+len(msg)), seq)
	b = binary.AppendUvarint(b, uint64(code))
	return appendString(b, msg)
}

// ParseAckHeader decodes an ack frame's header.
func ParseAckHeader(h []byte) (seq uint64, code int, msg string, err error) {
	r := wireReader{b: h}
	seq = r.uvarint()
	c := r.uvarint()
	msg = r.string()
	if r.err == nil && (c > 999 || len(r.b) > 0) {
		r.fail(errors.New("bad status or trailing bytes"))
	}
	if r.err != nil {
		return 0, 0, "", fmt.Errorf("ack header: %w", r.err)
	}
	return seq, int(c), msg, nil
}

func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// wireReader reads a header's fields; the first error sticks and later
// reads return zero values.
type wireReader struct {
	b   []byte
	err error
}

func (r *wireReader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
	r.b = nil
}

func (r *wireReader) uvarint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail(errShortHeader)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// varint reads a signed varint: binary.AppendVarint's zigzag form of a
// uvarint.
func (r *wireReader) varint() int64 {
	u := r.uvarint()
	return int64(u>>1) ^ -int64(u&1)
}

func (r *wireReader) string() string {
	n := r.uvarint()
	if n > uint64(len(r.b)) {
		r.fail(errShortHeader)
		return ""
	}
	s := string(r.b[:n])
	r.b = r.b[n:]
	return s
}

func (r *wireReader) byte() byte {
	if len(r.b) == 0 {
		r.fail(errShortHeader)
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}
