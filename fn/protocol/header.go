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
	readFrom(r *reader)
}

// Flag bits of an Input.
const (
	inputList     = 1 << 0
	inputHasValue = 1 << 1
)

func appendU64(b []byte, v uint64) []byte { return binary.BigEndian.AppendUint64(b, v) }
func appendI64(b []byte, v int64) []byte  { return appendU64(b, uint64(v)) }
func appendCount(b []byte, n int) []byte  { return binary.BigEndian.AppendUint32(b, uint32(n)) }

func appendString(b []byte, s string) []byte {
	return append(appendCount(b, len(s)), s...)
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func (h RawHeader) appendTo(b []byte) []byte { return append(b, h...) }

func (h Hello) appendTo(b []byte) []byte {
	return appendString(appendString(appendString(b, h.Instance), h.Token), h.Language)
}

func (h *Hello) readFrom(r *reader) {
	h.Instance, h.Token, h.Language = r.string(), r.string(), r.string()
}

func (d Datum) appendTo(b []byte) []byte {
	return appendI64(appendI64(appendString(b, d.Key), int64(d.Off)), int64(d.Len))
}

func (d *Datum) readFrom(r *reader) {
	d.Key, d.Off, d.Len = r.string(), r.int(), r.int()
}

func (h Run) appendTo(b []byte) []byte {
	b = appendU64(b, h.Run)
	b = appendString(b, h.Invocation)
	b = appendString(b, h.Function)
	b = appendI64(b, int64(h.Index))
	b = appendI64(b, h.DeadlineMS)
	b = appendCount(b, len(h.Inputs))
	for _, in := range h.Inputs {
		b = appendString(b, in.Name)
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
		b = appendCount(b, len(in.Items))
		for _, d := range in.Items {
			b = d.appendTo(b)
		}
	}
	b = appendCount(b, len(h.Outputs))
	for _, o := range h.Outputs {
		b = appendBool(appendString(b, o.Name), o.Foreach)
	}
	return b
}

func (h *Run) readFrom(r *reader) {
	h.Run, h.Invocation, h.Function = r.u64(), r.string(), r.string()
	h.Index, h.DeadlineMS = r.int(), r.i64()
	h.Inputs = make([]Input, r.count())
	for i := range h.Inputs {
		in := &h.Inputs[i]
		in.Name = r.string()
		flags := r.byte()
		in.List = flags&inputList != 0
		if flags&inputHasValue != 0 {
			in.Value = new(Datum)
			in.Value.readFrom(r)
		}
		if n := r.count(); n > 0 {
			in.Items = make([]Datum, n)
			for j := range in.Items {
				in.Items[j].readFrom(r)
			}
		}
	}
	h.Outputs = make([]OutSpec, r.count())
	for i := range h.Outputs {
		h.Outputs[i] = OutSpec{Name: r.string(), Foreach: r.bool()}
	}
}

func (h Output) appendTo(b []byte) []byte { return appendString(appendU64(b, h.Run), h.Name) }

func (h *Output) readFrom(r *reader) { h.Run, h.Name = r.u64(), r.string() }

func (h Done) appendTo(b []byte) []byte {
	b = appendU64(b, h.Run)
	b = appendI64(appendI64(appendI64(b, h.StartNS), h.EndNS), h.CPUNS)
	return appendString(appendBool(b, h.Panic), h.Error)
}

func (h *Done) readFrom(r *reader) {
	h.Run, h.StartNS, h.EndNS, h.CPUNS = r.u64(), r.i64(), r.i64(), r.i64()
	h.Panic, h.Error = r.bool(), r.string()
}

func (h Get) appendTo(b []byte) []byte {
	return appendString(appendU64(appendU64(b, h.Req), h.Run), h.Key)
}

func (h *Get) readFrom(r *reader) { h.Req, h.Run, h.Key = r.u64(), r.u64(), r.string() }

func (h Data) appendTo(b []byte) []byte { return appendString(appendU64(b, h.Req), h.Error) }

func (h *Data) readFrom(r *reader) { h.Req, h.Error = r.u64(), r.string() }

func (h Cancel) appendTo(b []byte) []byte { return appendU64(b, h.Run) }

func (h *Cancel) readFrom(r *reader) { h.Run = r.u64() }

// reader takes fields off a header. The first field that does not fit sets
// err; every read after it returns a zero value.
type reader struct {
	b   []byte
	err error
}

var errShort = errors.New("header ends inside a field")

func (r *reader) take(n int) []byte {
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

func (r *reader) u64() uint64 {
	if b := r.take(8); b != nil {
		return binary.BigEndian.Uint64(b)
	}
	return 0
}

func (r *reader) i64() int64 { return int64(r.u64()) }

// int reads an int64 that must fit an int.
func (r *reader) int() int {
	v := r.i64()
	if v < math.MinInt || v > math.MaxInt {
		r.fail(fmt.Errorf("value %d does not fit an int", v))
		return 0
	}
	return int(v)
}

func (r *reader) byte() byte {
	if b := r.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) bool() bool { return r.byte() != 0 }

// count reads a list's length, refused when the rest of the header could
// not hold that many elements (each takes at least one byte), so that a
// corrupt count cannot make the reader allocate much.
func (r *reader) count() int {
	b := r.take(4)
	if b == nil {
		return 0
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(n) > uint64(len(r.b)) {
		r.fail(fmt.Errorf("list of %d elements in %d bytes", n, len(r.b)))
		return 0
	}
	return int(n)
}

func (r *reader) string() string {
	b := r.take(4)
	if b == nil {
		return ""
	}
	return string(r.take(int(binary.BigEndian.Uint32(b))))
}

func (r *reader) fail(err error) {
	if r.err == nil {
		r.err = err
	}
}
