package protocol

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Headers are written in a fixed binary layout, field after field in the
// order docs/protocol.md lists them: integers as 8 bytes big endian
// (signed ones in two's complement), strings as a 4-byte big-endian length
// and their bytes, flags as one byte, lists as a 4-byte count and their
// elements. Bytes after the last field are ignored, so that a field can be
// added at the end. An instance reads a run frame's header this way in
// about a fifteenth of the time JSON took (BenchmarkRunHeader), on the path of
// every run.

// Header is a frame header Conn.Write can send: the header types of this
// package and RawHeader.
type Header interface {
	appendTo(b []byte) []byte
}

// Decodable is a header Frame.Decode can fill: a pointer to one of this
// package's header types.
type Decodable interface {
	readFrom(r *HeaderReader)
}

// Flag bits of an Input.
const (
	inputList     = 1 << 0
	inputHasValue = 1 << 1
)

// AppendU64, AppendI64, AppendCount, AppendString and AppendBool add a
// field to a header in this package's layout, and HeaderReader reads them
// back: the headers of this package's frames are built with them, and so
// are those of the agents' message streams (package api).
func AppendU64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }
func AppendI64(b []byte, v int64) []byte  { return AppendU64(b, uint64(v)) }
func AppendCount(b []byte, n int) []byte  { return binary.BigEndian.AppendUint32(b, uint32(n)) }

func AppendString(b []byte, s string) []byte {
	return append(AppendCount(b, len(s)), s...)
}

func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func (h RawHeader) appendTo(b []byte) []byte { return append(b, h...) }

func (h Hello) appendTo(b []byte) []byte {
	return AppendString(AppendString(AppendString(b, h.Instance), h.Token), h.Language)
}

func (h *Hello) readFrom(r *HeaderReader) {
	h.Instance, h.Token, h.Language = r.Str(), r.Str(), r.Str()
}

func (d Datum) appendTo(b []byte) []byte {
	return AppendI64(AppendI64(AppendString(b, d.Key), int64(d.Off)), int64(d.Len))
}

func (d *Datum) readFrom(r *HeaderReader) {
	d.Key, d.Off, d.Len = r.Str(), r.Int(), r.Int()
}

func (h Run) appendTo(b []byte) []byte {
	b = AppendU64(b, h.Run)
	b = AppendString(b, h.Invocation)
	b = AppendString(b, h.Function)
	b = AppendI64(b, int64(h.Index))
	b = AppendI64(b, h.DeadlineMS)
	b = AppendCount(b, len(h.Inputs))
	for _, in := range h.Inputs {
		b = AppendString(b, in.Name)
		var flags byte
		if in.List {
			flags |= inputList
		}
		if in.Value != nil {
			flags |= inputHasValue
		}
		b = append(b, flags)
		if in.Value != nil {
			b = in.Value.appendTo(b)
		}
		b = AppendCount(b, len(in.Items))
		for _, d := range in.Items {
			b = d.appendTo(b)
		}
	}
	b = AppendCount(b, len(h.Outputs))
	for _, o := range h.Outputs {
		b = AppendBool(AppendString(b, o.Name), o.Foreach)
	}
	return b
}

func (h *Run) readFrom(r *HeaderReader) {
	h.Run, h.Invocation, h.Function = r.U64(), r.Str(), r.Str()
	h.Index, h.DeadlineMS = r.Int(), r.I64()
	h.Inputs = make([]Input, r.Count())
	for i := range h.Inputs {
		in := &h.Inputs[i]
		in.Name = r.Str()
		flags := r.Byte()
		in.List = flags&inputList != 0
		if flags&inputHasValue != 0 {
			in.Value = new(Datum)
			in.Value.readFrom(r)
		}
		if n := r.Count(); n > 0 {
			in.Items = make([]Datum, n)
			for j := range in.Items {
				in.Items[j].readFrom(r)
			}
		}
	}
	h.Outputs = make([]OutSpec, r.Count())
	for i := range h.Outputs {
		h.Outputs[i] = OutSpec{Name: r.Str(), Foreach: r.Bool()}
	}
}

func (h Output) appendTo(b []byte) []byte { return AppendString(AppendU64(b, h.Run), h.Name) }

func (h *Output) readFrom(r *HeaderReader) { h.Run, h.Name = r.U64(), r.Str() }

func (h Done) appendTo(b []byte) []byte {
	b = AppendU64(b, h.Run)
	b = AppendI64(AppendI64(AppendI64(b, h.StartNS), h.EndNS), h.CPUNS)
	return AppendString(AppendBool(b, h.Panic), h.Error)
}

func (h *Done) readFrom(r *HeaderReader) {
	h.Run, h.StartNS, h.EndNS, h.CPUNS = r.U64(), r.I64(), r.I64(), r.I64()
	h.Panic, h.Error = r.Bool(), r.Str()
}

func (h Get) appendTo(b []byte) []byte {
	return AppendString(AppendU64(AppendU64(b, h.Req), h.Run), h.Key)
}

func (h *Get) readFrom(r *HeaderReader) { h.Req, h.Run, h.Key = r.U64(), r.U64(), r.Str() }

func (h Data) appendTo(b []byte) []byte { return AppendString(AppendU64(b, h.Req), h.Error) }

func (h *Data) readFrom(r *HeaderReader) { h.Req, h.Error = r.U64(), r.Str() }

func (h Cancel) appendTo(b []byte) []byte { return AppendU64(b, h.Run) }

func (h *Cancel) readFrom(r *HeaderReader) { h.Run = r.U64() }

// HeaderReader takes fields off a header in this package's layout. The
// first field that does not fit sets Err; every read after it returns a
// zero value.
type HeaderReader struct {
	b   []byte
	err error
}

// NewHeaderReader reads the header h.
func NewHeaderReader(h []byte) *HeaderReader { return &HeaderReader{b: h} }

// Err is the first field's error, nil when every field read fit.
func (r *HeaderReader) Err() error { return r.err }

// Len is the number of bytes not read yet.
func (r *HeaderReader) Len() int { return len(r.b) }

var errShort = errors.New("header ends inside a field")

func (r *HeaderReader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b) {
		r.err = errShort
		return nil
	}
	v := r.b[:n:n]
	r.b = r.b[n:]
	return v
}

// U64 reads an unsigned integer.
func (r *HeaderReader) U64() uint64 {
	if b := r.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

// I64 reads a signed integer.
func (r *HeaderReader) I64() int64 { return int64(r.U64()) }

// Int reads a signed integer that must fit an int.
func (r *HeaderReader) Int() int {
	v := r.I64()
	if v < math.MinInt || v > math.MaxInt {
		r.Fail(fmt.Errorf("value %d does not fit an int", v))
		return 0
	}
	return int(v)
}

// Byte reads one byte.
func (r *HeaderReader) Byte() byte {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

// Bool reads a flag byte: any but 0 is true.
func (r *HeaderReader) Bool() bool { return r.Byte() != 0 }

// Count reads a list's length, refused when the rest of the header could
// not hold that many elements (each takes at least one byte), so that a
// corrupt count cannot make the reader allocate much.
func (r *HeaderReader) Count() int {
	b := r.take(4)
	if b == nil {
		return 0
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(r.b)) {
		r.Fail(fmt.Errorf("list of %d elements in %d bytes", n, len(r.b)))
		return 0
	}
	return int(n)
}

// Str reads a string.
func (r *HeaderReader) Str() string {
	b := r.take(4)
	if b == nil {
		return ""
	}
	return string(r.take(int(binary.BigEndian.Uint32(b))))
}

// Fail sets Err to err unless a field failed already (for checks of the
// header's values a reader of the fields makes).
func (r *HeaderReader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
}
