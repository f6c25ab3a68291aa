package api

import (
	"errors"
	"fmt"

	"github.com/faasflow/faasflow-go/fn/protocol"
	"github.com/faasflow/faasflow-go/workflow"
)

// Frames of a message stream carry binary headers, not JSON: decoding a
// JSON message header cost a receiver about 28 µs under load, more than
// delivering the message. They use the layout of the instance protocol's
// headers (protocol.AppendU64 and the rest; docs/protocol.md).
//
// A message header is seq u64; invocation, workflow, from and kind str;
// deadline_ms, index, count and sent_ns i64; targets list<function str,
// input str>; then a u8, 1 when a data reference follows as tier str, key
// str and size i64. An ack header is seq u64, the HTTP status of a failed
// delivery u64 (0 for success) and its error str. Unlike the instance
// protocol's, these headers take no bytes after their last field: both ends
// are agents of one version.
const (
	// FrameMessage is a message frame: MessageHeader, then the value as body.
	FrameMessage byte = 3
	// FrameAck answers a message frame: AckHeader, no body.
	FrameAck byte = 4
)

// MessageHeader encodes the header of message frame number seq.
func MessageHeader(seq uint64, m *Message) []byte {
	b := protocol.AppendU64(make([]byte, 0, 192), seq)
	for _, s := range []string{m.Invocation, m.Workflow, m.From, string(m.Kind)} {
		b = protocol.AppendString(b, s)
	}
	for _, v := range []int64{m.DeadlineMS, int64(m.Index), int64(m.Count), m.SentNS} {
		b = protocol.AppendI64(b, v)
	}
	b = protocol.AppendCount(b, len(m.Targets))
	for _, t := range m.Targets {
		b = protocol.AppendString(protocol.AppendString(b, t.Function), t.Input)
	}
	if m.Ref == nil {
		return protocol.AppendBool(b, false)
	}
	b = protocol.AppendString(protocol.AppendString(protocol.AppendBool(b, true), m.Ref.Tier), m.Ref.Key)
	return protocol.AppendI64(b, m.Ref.Size)
}

// ParseMessageHeader decodes a message frame's header.
func ParseMessageHeader(h []byte) (uint64, *Message, error) {
	r := protocol.NewHeaderReader(h)
	seq := r.U64()
	m := &Message{Invocation: r.Str(), Workflow: r.Str(), From: r.Str(), Kind: Kind(r.Str())}
	m.DeadlineMS = r.I64()
	m.Index, m.Count = r.Int(), r.Int()
	m.SentNS = r.I64()
	if n := r.Count(); n > 0 {
		m.Targets = make([]workflow.Target, n)
		for i := range m.Targets {
			m.Targets[i] = workflow.Target{Function: r.Str(), Input: r.Str()}
		}
	}
	switch r.Byte() {
	case 0:
	case 1:
		m.Ref = &DataRef{Tier: r.Str(), Key: r.Str(), Size: r.I64()}
	default:
		r.Fail(errors.New("bad data reference flag"))
	}
	if err := finish(r, "message"); err != nil {
		return 0, nil, err
	}
	return seq, m, nil
}

// AckHeader encodes the ack of message seq: code 0 when it was delivered,
// else the HTTP status of the failure and its error.
func AckHeader(seq uint64, code int, msg string) []byte {
	b := protocol.AppendU64(make([]byte, 0, 24+len(msg)), seq)
	return protocol.AppendString(protocol.AppendU64(b, uint64(code)), msg)
}

// ParseAckHeader decodes an ack frame's header.
func ParseAckHeader(h []byte) (seq uint64, code int, msg string, err error) {
	r := protocol.NewHeaderReader(h)
	seq, c, msg := r.U64(), r.U64(), r.Str()
	if c > 999 {
		r.Fail(fmt.Errorf("bad status %d", c))
	}
	if err := finish(r, "ack"); err != nil {
		return 0, 0, "", err
	}
	return seq, int(c), msg, nil
}

// finish is the error of a what header read by r: a field's, or bytes
// left over.
func finish(r *protocol.HeaderReader, what string) error {
	if r.Err() != nil {
		return fmt.Errorf("%s header: %w", what, r.Err())
	}
	if r.Len() > 0 {
		return fmt.Errorf("%d bytes after the %s header", r.Len(), what)
	}
	return nil
}
