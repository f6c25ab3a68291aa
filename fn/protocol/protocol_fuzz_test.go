package protocol_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/faasflow/faasflow-go/fn/protocol"
)

// FuzzWriteRead writes frames with any type, header fields (as the SDKs
// send them: names and error texts that may hold any bytes) and bodies
// split anywhere, and reads them back: Read must return what Write sent,
// in order, and a body over the reader's limit must be refused with
// ErrTooLarge instead of being read. FuzzRead covers bytes that Write
// would never produce.
func FuzzWriteRead(f *testing.F) {
	const maxBody = 256
	f.Add(protocol.TypeOutput, uint64(1), "out", []byte("value"), 2, uint8(2))
	f.Add(protocol.TypeDone, uint64(0), "", []byte(nil), 0, uint8(1))
	f.Add(protocol.TypeDone, uint64(1<<63), "panic: \x00\xff\"\\</script>", []byte{0, 1, 2}, 1, uint8(3))
	f.Add(protocol.TypeData, uint64(7), "\u2028é", bytes.Repeat([]byte("x"), maxBody), 100, uint8(1))
	f.Add(protocol.TypeOutput, uint64(7), "big", bytes.Repeat([]byte("x"), maxBody+1), 0, uint8(1))
	f.Add(byte(255), uint64(7), "odd type", []byte("b"), 1, uint8(0))

	f.Fuzz(func(t *testing.T, typ byte, run uint64, name string, body []byte, split int, frames uint8) {
		if split < 0 || split > len(body) {
			split = len(body) / 2
		}
		n := int(frames%4) + 1
		s := &stream{}
		w := protocol.NewConn(s, 0)
		for i := range n {
			if err := w.Write(typ, protocol.Output{Run: run + uint64(i), Name: name}, body[:split], body[split:]); err != nil {
				t.Fatalf("Write: %v", err)
			}
		}
		r := protocol.NewConn(s, maxBody)
		for i := range n {
			fr, err := r.Read()
			if len(body) > maxBody {
				if !errors.Is(err, protocol.ErrTooLarge) {
					t.Fatalf("Read of a %d-byte body with a limit of %d: %v, want ErrTooLarge", len(body), maxBody, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Read of frame %d: %v", i, err)
			}
			var o protocol.Output
			if err := fr.Decode(&o); err != nil {
				t.Fatalf("Decode of frame %d: %v", i, err)
			}
			if fr.Type != typ || o.Run != run+uint64(i) || !bytes.Equal(fr.Body, body) && len(body) > 0 {
				t.Fatalf("frame %d: got type %d run %d body %q, want %d %d %q", i, fr.Type, o.Run, fr.Body, typ, run+uint64(i), body)
			}
			if o.Name != name {
				t.Fatalf("frame %d: name %q came back as %q", i, name, o.Name)
			}
		}
		if fr, err := r.Read(); err == nil {
			t.Fatalf("Read after the last frame returned %+v", fr)
		}
	})
}

// FuzzDecodeRun reads any bytes as a run header: Decode must refuse them or
// return a Run that Write encodes and Decode reads back the same, and must
// not allocate more than the header could describe.
func FuzzDecodeRun(f *testing.F) {
	s := &stream{}
	run := protocol.Run{Run: 1, Invocation: "inv", Function: "f", Index: -1, DeadlineMS: 5,
		Inputs:  []protocol.Input{{Name: "a", Value: &protocol.Datum{Off: 1, Len: 2}}, {Name: "l", List: true, Items: []protocol.Datum{{Key: "k"}}}},
		Outputs: []protocol.OutSpec{{Name: "o", Foreach: true}}}
	if err := protocol.NewConn(s, 0).Write(protocol.TypeRun, run); err != nil {
		f.Fatal(err)
	}
	f.Add(s.Bytes()[9:])
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 40))

	f.Fuzz(func(t *testing.T, header []byte) {
		var got protocol.Run
		if (&protocol.Frame{Type: protocol.TypeRun, Header: header}).Decode(&got) != nil {
			return
		}
		s := &stream{}
		if err := protocol.NewConn(s, 0).Write(protocol.TypeRun, got); err != nil {
			t.Fatalf("Write of a decoded run: %v", err)
		}
		var again protocol.Run
		if err := (&protocol.Frame{Type: protocol.TypeRun, Header: s.Bytes()[9:]}).Decode(&again); err != nil {
			t.Fatalf("Decode of a written run: %v", err)
		}
		if !reflect.DeepEqual(got, again) {
			t.Fatalf("run changed on the way: %+v became %+v", got, again)
		}
	})
}
