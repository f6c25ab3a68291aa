package protocol_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/faasflow/faasflow-go/fn/protocol"
)

// stream is an in-memory io.ReadWriteCloser: writes append, reads consume.
type stream struct{ bytes.Buffer }

func (*stream) Close() error { return nil }

// frame encodes one frame by hand, following the layout in the package doc,
// so the tests do not trust Conn.Write to check Conn.Read.
func frame(typ byte, header, body []byte) []byte {
	b := binary.BigEndian.AppendUint32(nil, uint32(5+len(header)+len(body)))
	b = append(b, typ)
	b = binary.BigEndian.AppendUint32(b, uint32(len(header)))
	b = append(b, header...)
	return append(b, body...)
}

// outputHeader encodes an Output header by hand, following the layout in
// header.go: the run as 8 bytes, the name as a 4-byte length and its bytes.
func outputHeader(run uint64, name string) []byte {
	b := binary.BigEndian.AppendUint64(nil, run)
	b = binary.BigEndian.AppendUint32(b, uint32(len(name)))
	return append(b, name...)
}

// cancelHeader encodes a Cancel header by hand: the run as 8 bytes.
func cancelHeader(run uint64) []byte { return binary.BigEndian.AppendUint64(nil, run) }

// prefix encodes only a frame's fixed fields, with lengths that may lie.
func prefix(n uint32, typ byte, h uint32) []byte {
	b := binary.BigEndian.AppendUint32(nil, n)
	b = append(b, typ)
	return binary.BigEndian.AppendUint32(b, h)
}

func TestRoundTrip(t *testing.T) {
	large := bytes.Repeat([]byte("0123456789abcdef"), 5<<20/16) // well over the 64 KiB buffers
	tests := []struct {
		name     string
		typ      byte
		header   protocol.Header
		bodies   [][]byte
		wantBody []byte
	}{
		{
			name:   "hello without body",
			typ:    protocol.TypeHello,
			header: &protocol.Hello{Instance: "i1", Token: "t", Language: "go"},
		},
		{
			name:   "empty body slices",
			typ:    protocol.TypeDone,
			header: &protocol.Done{Run: 7, StartNS: 1, EndNS: 2},
			bodies: [][]byte{nil, {}},
		},
		{
			name: "run with inline inputs",
			typ:  protocol.TypeRun,
			header: &protocol.Run{
				Run: 1, Invocation: "inv", Function: "f", Index: -1, DeadlineMS: 1e12,
				Inputs: []protocol.Input{
					{Name: "a", Value: &protocol.Datum{Off: 0, Len: 3}},
					{Name: "b", List: true, Items: []protocol.Datum{{Key: "k", Len: 10}, {Off: 3, Len: 2}}},
				},
				Outputs: []protocol.OutSpec{{Name: "out"}, {Name: "items", Foreach: true}},
			},
			bodies:   [][]byte{[]byte("abc"), []byte("de")},
			wantBody: []byte("abcde"),
		},
		{
			name:     "large body",
			typ:      protocol.TypeOutput,
			header:   &protocol.Output{Run: 2, Name: "out"},
			bodies:   [][]byte{large},
			wantBody: large,
		},
		{
			name:     "several bodies with a large one between small ones",
			typ:      protocol.TypeData,
			header:   &protocol.Data{Req: 3},
			bodies:   [][]byte{[]byte("head|"), nil, large, []byte("|tail")},
			wantBody: append(append([]byte("head|"), large...), "|tail"...),
		},
		{
			name:     "binary body",
			typ:      protocol.TypeOutput,
			header:   &protocol.Output{Run: 4, Name: "bin"},
			bodies:   [][]byte{{0, 0, 0, 0, 0xff, 0, 1}},
			wantBody: []byte{0, 0, 0, 0, 0xff, 0, 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &stream{}
			c := protocol.NewConn(s, len(tt.wantBody))
			if err := c.Write(tt.typ, tt.header, tt.bodies...); err != nil {
				t.Fatalf("Write: %v", err)
			}
			f, err := c.Read()
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if f.Type != tt.typ {
				t.Errorf("type: got %d, want %d", f.Type, tt.typ)
			}
			got := reflect.New(reflect.TypeOf(tt.header).Elem()).Interface().(protocol.Decodable)
			if err := f.Decode(got); err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if !reflect.DeepEqual(got, tt.header) {
				t.Errorf("header: got %+v, want %+v", got, tt.header)
			}
			if !bytes.Equal(f.Body, tt.wantBody) {
				t.Errorf("body: got %d bytes, want %d (equal prefix %q...)", len(f.Body), len(tt.wantBody), f.Body[:min(len(f.Body), 16)])
			}
			if _, err := c.Read(); err != io.EOF {
				t.Errorf("Read at the end of the stream: got %v, want io.EOF", err)
			}
		})
	}
}

func TestReadSeveralFramesFromOneStream(t *testing.T) {
	var raw []byte
	var want []string
	for i := range 50 {
		body := bytes.Repeat([]byte{byte(i)}, i*997) // sizes straddle the read buffer
		raw = append(raw, frame(protocol.TypeOutput, outputHeader(uint64(i), ""), body)...)
		want = append(want, fmt.Sprintf("%d:%d", i, len(body)))
	}
	c := protocol.NewConn(&stream{Buffer: *bytes.NewBuffer(raw)}, 0)
	var got []string
	for {
		f, err := c.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("Read after %d frames: %v", len(got), err)
		}
		var o protocol.Output
		if err := f.Decode(&o); err != nil {
			t.Fatal(err)
		}
		if bytes.Count(f.Body, []byte{byte(o.Run)}) != len(f.Body) {
			t.Fatalf("frame %d: body holds bytes of another frame", o.Run)
		}
		got = append(got, fmt.Sprintf("%d:%d", o.Run, len(f.Body)))
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("frames: got %v, want %v", got, want)
	}
}

func TestReadMalformed(t *testing.T) {
	hello := frame(protocol.TypeHello, outputHeader(1, "any header bytes"), []byte("body"))
	tests := []struct {
		name    string
		raw     []byte
		maxBody int
		// want is matched with errors.Is; wantAny accepts any error that is not io.EOF.
		want    error
		wantAny bool
	}{
		{name: "empty stream is a clean end", raw: nil, want: io.EOF},
		{name: "truncated length", raw: []byte{0, 0}, want: io.ErrUnexpectedEOF},
		{name: "truncated fixed fields", raw: hello[:7], want: io.ErrUnexpectedEOF},
		{name: "truncated right after fixed fields", raw: hello[:9], want: io.ErrUnexpectedEOF},
		{name: "truncated header", raw: hello[:12], want: io.ErrUnexpectedEOF},
		{name: "truncated right after header", raw: hello[:len(hello)-4], want: io.ErrUnexpectedEOF},
		{name: "truncated body", raw: hello[:len(hello)-1], want: io.ErrUnexpectedEOF},
		{name: "frame length under the fixed fields", raw: prefix(4, 1, 0), wantAny: true},
		{name: "frame length zero", raw: prefix(0, 1, 0), wantAny: true},
		{name: "header longer than frame", raw: append(prefix(10, 1, 6), "{}{}{}"...), wantAny: true},
		{name: "header length overflows frame length", raw: prefix(5, 1, 0xffffffff), wantAny: true},
		{name: "header over MaxHeader", raw: prefix(protocol.MaxHeader+100, 1, protocol.MaxHeader+1), want: protocol.ErrTooLarge},
		{name: "body over the reader's limit", raw: frame(2, []byte("{}"), make([]byte, 17)), maxBody: 16, want: protocol.ErrTooLarge},
		{name: "body over the default limit", raw: prefix(0xffffffff, 2, 2), want: protocol.ErrTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := protocol.NewConn(&stream{Buffer: *bytes.NewBuffer(tt.raw)}, tt.maxBody)
			f, err := c.Read()
			if err == nil {
				t.Fatalf("Read: got frame type %d with %d header and %d body bytes, want an error", f.Type, len(f.Header), len(f.Body))
			}
			if tt.wantAny {
				if errors.Is(err, io.EOF) {
					t.Errorf("Read: got %v, a malformed frame must not look like a clean end", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("Read: got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestReadAtBodyLimit(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 16)
	c := protocol.NewConn(&stream{Buffer: *bytes.NewBuffer(frame(3, []byte("{}"), body))}, 16)
	f, err := c.Read()
	if err != nil {
		t.Fatalf("Read of a body exactly at the limit: %v", err)
	}
	if !bytes.Equal(f.Body, body) {
		t.Errorf("body: got %q, want %q", f.Body, body)
	}
}

// prefixOnlyReader hands out its bytes and fails the test if read further:
// an over-limit frame must be refused from its fixed fields alone.
type prefixOnlyReader struct {
	t   *testing.T
	buf []byte
}

func (r *prefixOnlyReader) Read(p []byte) (int, error) {
	if len(r.buf) == 0 {
		r.t.Error("Read went on reading the body of a frame it should have refused")
		return 0, io.ErrUnexpectedEOF
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
func (r *prefixOnlyReader) Write(p []byte) (int, error) { return len(p), nil }
func (r *prefixOnlyReader) Close() error                { return nil }

func TestReadRefusesBeforeAllocating(t *testing.T) {
	const limit = 1 << 20
	c := protocol.NewConn(&prefixOnlyReader{t: t, buf: prefix(200<<20, 3, 2)}, limit)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := c.Read()
	runtime.ReadMemStats(&after)
	if !errors.Is(err, protocol.ErrTooLarge) {
		t.Fatalf("Read of a frame declaring a 200 MiB body: got %v, want ErrTooLarge", err)
	}
	// The frame declares 200 MiB; anything near the limit would mean it was allocated.
	if got := after.TotalAlloc - before.TotalAlloc; got > limit {
		t.Errorf("Read allocated %d bytes for a refused frame, want under %d", got, limit)
	}
}

func TestDecodeBadHeader(t *testing.T) {
	run := protocol.Run{Run: 1, Invocation: "inv", Function: "f", Index: -1,
		Inputs: []protocol.Input{{Name: "a", Value: &protocol.Datum{Len: 2}}}, Outputs: []protocol.OutSpec{{Name: "o"}}}
	whole := protocol.Header(run)
	s := &stream{}
	if err := protocol.NewConn(s, 0).Write(protocol.TypeRun, whole); err != nil {
		t.Fatal(err)
	}
	encoded := s.Bytes()[9:]
	manyInputs := append([]byte{}, encoded...)
	// The input count sits after run, invocation, function, index and deadline.
	at := 8 + 4 + len("inv") + 4 + len("f") + 8 + 8
	binary.BigEndian.PutUint32(manyInputs[at:], 1<<30)
	tests := []struct {
		name   string
		header []byte
		want   string // in the error; empty for no error
	}{
		{"truncated in a count", encoded[:at+2], "ends inside a field"},
		{"truncated in a string", encoded[:10], "ends inside a field"},
		{"count over what the header holds", manyInputs, "list of 1073741824 elements"},
		{"empty", nil, "ends inside a field"},
		{"whole", encoded, ""},
		{"bytes after the last field are ignored", append(append([]byte{}, encoded...), 1, 2, 3), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &protocol.Frame{Type: protocol.TypeRun, Header: tt.header}
			var got protocol.Run
			err := f.Decode(&got)
			if tt.want == "" {
				if err != nil || !reflect.DeepEqual(got, run) {
					t.Errorf("Decode: got %+v, %v; want %+v", got, err, run)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "type 2") {
				t.Errorf("Decode: got %v, want an error naming frame type 2 and saying %q", err, tt.want)
			}
		})
	}
}

// TestHeaderLayout pins the bytes of a run header to the layout that
// header.go and docs/protocol.md describe, which the Python SDK reads too.
func TestHeaderLayout(t *testing.T) {
	u64 := func(v uint64) []byte { return binary.BigEndian.AppendUint64(nil, v) }
	str := func(s string) []byte { return append(binary.BigEndian.AppendUint32(nil, uint32(len(s))), s...) }
	count := func(n uint32) []byte { return binary.BigEndian.AppendUint32(nil, n) }
	minusOne := uint64(1<<64 - 1)
	want := bytes.Join([][]byte{
		u64(5), str("inv"), str("f"), u64(minusOne), u64(1000),
		count(2),
		str("a"), {2}, str(""), u64(3), u64(4), count(0), // a value inline at [3, 7)
		str("b"), {1}, count(1), str("k"), u64(0), u64(9), // a list of one stored item
		count(1), str("o"), {1},
	}, nil)
	run := protocol.Run{Run: 5, Invocation: "inv", Function: "f", Index: -1, DeadlineMS: 1000,
		Inputs: []protocol.Input{
			{Name: "a", Value: &protocol.Datum{Off: 3, Len: 4}},
			{Name: "b", List: true, Items: []protocol.Datum{{Key: "k", Len: 9}}},
		},
		Outputs: []protocol.OutSpec{{Name: "o", Foreach: true}},
	}
	s := &stream{}
	if err := protocol.NewConn(s, 0).Write(protocol.TypeRun, run); err != nil {
		t.Fatal(err)
	}
	if got := s.Bytes()[9:]; !bytes.Equal(got, want) {
		t.Errorf("run header:\n got % x\nwant % x", got, want)
	}
}

func TestWriteRefusesHeaderOverMaxHeader(t *testing.T) {
	s := &stream{}
	c := protocol.NewConn(s, 0)
	err := c.Write(protocol.TypeGet, protocol.Get{Key: strings.Repeat("k", protocol.MaxHeader)})
	if !errors.Is(err, protocol.ErrTooLarge) {
		t.Errorf("Write: got %v, want ErrTooLarge (the reader would refuse the frame)", err)
	}
	if s.Len() != 0 {
		t.Errorf("Write left %d bytes on the stream, want none", s.Len())
	}
}

func TestConcurrentWritersProduceWholeFrames(t *testing.T) {
	const writers, frames = 8, 40
	a, b := net.Pipe()
	t.Cleanup(func() { a.Close(); b.Close() })
	w, r := protocol.NewConn(a, 0), protocol.NewConn(b, 0)

	body := func(writer, seq int) []byte {
		// Sizes go past the 64 KiB write buffer, where bufio writes straight through.
		return bytes.Repeat([]byte{byte(writer), byte(seq)}, (writer*frames+seq)*211%50000)
	}
	errc := make(chan error, writers)
	for wr := range writers {
		go func() {
			for seq := range frames {
				b := body(wr, seq)
				if err := w.Write(protocol.TypeOutput, protocol.Output{Run: uint64(wr), Name: fmt.Sprint(seq)}, b[:len(b)/2], b[len(b)/2:]); err != nil {
					errc <- err
					return
				}
			}
			errc <- nil
		}()
	}

	next := make([]int, writers) // next sequence number expected from each writer
	for range writers * frames {
		f, err := r.Read()
		if err != nil {
			t.Fatalf("Read: %v", err)
		}
		var o protocol.Output
		if err := f.Decode(&o); err != nil {
			t.Fatalf("frame header is not whole: %v", err)
		}
		wr := int(o.Run)
		if wr >= writers || o.Name != fmt.Sprint(next[wr]) {
			t.Fatalf("got frame %s from writer %d, want frame %d", o.Name, wr, next[wr])
		}
		if want := body(wr, next[wr]); !bytes.Equal(f.Body, want) {
			t.Fatalf("frame %d of writer %d: body of %d bytes differs from the %d written", next[wr], wr, len(f.Body), len(want))
		}
		next[wr]++
	}
	for range writers {
		if err := <-errc; err != nil {
			t.Errorf("Write: %v", err)
		}
	}
}

// FuzzRead checks Conn.Read against a plain model of the frame layout: any
// input yields either exactly the frames it encodes, or the error the model
// predicts, never a panic or a frame over the limits.
func FuzzRead(f *testing.F) {
	const maxBody = 64
	f.Add([]byte{})
	f.Add(frame(protocol.TypeHello, outputHeader(1, "i"), nil))
	f.Add(append(frame(3, outputHeader(1, "out"), []byte("value")), frame(4, cancelHeader(1), nil)...))
	f.Add(frame(3, outputHeader(1, ""), make([]byte, maxBody+1)))
	f.Add(prefix(10, 1, 6))
	f.Add(prefix(4, 1, 0))
	f.Add(prefix(protocol.MaxHeader+10, 1, protocol.MaxHeader+1))
	f.Add(frame(1, cancelHeader(1), []byte("xy"))[:11])

	f.Fuzz(func(t *testing.T, data []byte) {
		c := protocol.NewConn(&stream{Buffer: *bytes.NewBuffer(data)}, maxBody)
		rest := data
		for {
			want, n, wantErr := model(rest, maxBody)
			got, err := c.Read()
			if wantErr != nil || err != nil {
				if !sameError(err, wantErr) {
					t.Fatalf("Read: got frame %v, error %v; want error %v", got, err, wantErr)
				}
				return
			}
			if got.Type != want.Type || !bytes.Equal(got.Header, want.Header) || !bytes.Equal(got.Body, want.Body) {
				t.Fatalf("Read: got %+v, want %+v", got, want)
			}
			if len(got.Header) > protocol.MaxHeader || len(got.Body) > maxBody {
				t.Fatalf("Read returned a frame over the limits: header %d, body %d", len(got.Header), len(got.Body))
			}
			rest = rest[n:]
		}
	})
}

// errMalformed stands for Read's error for a frame whose lengths do not add
// up: any error that is not one of the others.
var errMalformed = errors.New("malformed")

func sameError(got, want error) bool {
	if want != errMalformed {
		return errors.Is(got, want)
	}
	return got != nil && !errors.Is(got, io.EOF) && !errors.Is(got, io.ErrUnexpectedEOF) && !errors.Is(got, protocol.ErrTooLarge)
}

// model decodes the first frame of b the simple way, returning it and its
// encoded size, or the error Read should give.
func model(b []byte, maxBody int) (*protocol.Frame, int, error) {
	switch {
	case len(b) == 0:
		return nil, 0, io.EOF
	case len(b) < 9:
		return nil, 0, io.ErrUnexpectedEOF
	}
	n := uint64(binary.BigEndian.Uint32(b))
	h := uint64(binary.BigEndian.Uint32(b[5:]))
	switch {
	case n < 5 || h > n-5:
		return nil, 0, errMalformed
	case h > protocol.MaxHeader || n-5-h > uint64(maxBody):
		return nil, 0, protocol.ErrTooLarge
	case uint64(len(b)) < 4+n:
		return nil, 0, io.ErrUnexpectedEOF
	}
	f := &protocol.Frame{Type: b[4], Header: b[9 : 9+h], Body: b[9+h : 4+n]}
	return f, int(4 + n), nil
}

// Check the frame helper itself against Conn.Write, so the hand-made frames
// above mean what they claim.
func TestFrameHelperMatchesWrite(t *testing.T) {
	s := &stream{}
	hdr := protocol.Output{Run: 9, Name: "o"}
	if err := protocol.NewConn(s, 0).Write(protocol.TypeOutput, hdr, []byte("ab"), []byte("c")); err != nil {
		t.Fatal(err)
	}
	if want := frame(protocol.TypeOutput, outputHeader(9, "o"), []byte("abc")); !bytes.Equal(s.Bytes(), want) {
		t.Errorf("Write: got % x, want % x", s.Bytes(), want)
	}
}

// TestPendingSeesOnlyWholeFrames: Pending is true only when the next frame
// has arrived whole, so a reader that holds its answers back while frames
// are pending never waits on the stream with answers unsent.
func TestPendingSeesOnlyWholeFrames(t *testing.T) {
	a := frame(protocol.TypeOutput, outputHeader(1, ""), []byte("one"))
	b := frame(protocol.TypeOutput, outputHeader(2, ""), []byte("two"))
	tests := []struct {
		name string
		raw  []byte
		want bool // Pending after reading the first frame
	}{
		{"next frame whole", append(append([]byte{}, a...), b...), true},
		{"next frame cut short", append(append([]byte{}, a...), b[:len(b)-1]...), false},
		{"only its length", append(append([]byte{}, a...), b[:3]...), false},
		{"nothing more", a, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := protocol.NewConn(&stream{Buffer: *bytes.NewBuffer(tt.raw)}, 0)
			if _, err := c.Read(); err != nil {
				t.Fatal(err)
			}
			if got := c.Pending(); got != tt.want {
				t.Errorf("Pending = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestWriteLaterWaitsForFlush: frames written with WriteLater reach the
// stream only with the next Write or Flush, in order.
func TestWriteLaterWaitsForFlush(t *testing.T) {
	s := &stream{}
	c := protocol.NewConn(s, 0)
	for run := uint64(1); run <= 2; run++ {
		if err := c.WriteLater(protocol.TypeCancel, protocol.Cancel{Run: run}); err != nil {
			t.Fatal(err)
		}
	}
	if s.Len() != 0 {
		t.Fatalf("%d bytes reached the stream before a flush", s.Len())
	}
	if err := c.Write(protocol.TypeCancel, protocol.Cancel{Run: 3}); err != nil {
		t.Fatal(err)
	}
	want := append(frame(protocol.TypeCancel, cancelHeader(1), nil), frame(protocol.TypeCancel, cancelHeader(2), nil)...)
	want = append(want, frame(protocol.TypeCancel, cancelHeader(3), nil)...)
	if !bytes.Equal(s.Bytes(), want) {
		t.Fatalf("stream holds %q, want %q", s.Bytes(), want)
	}
	if err := c.WriteLater(protocol.TypeCancel, protocol.Cancel{Run: 4}); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	if want = append(want, frame(protocol.TypeCancel, cancelHeader(4), nil)...); !bytes.Equal(s.Bytes(), want) {
		t.Fatalf("after Flush the stream holds %q, want %q", s.Bytes(), want)
	}
}

// BenchmarkRunHeader reads the header of a run like cycles' (nine inputs and
// three outputs with 40-character names): in this package's layout, and, as
// the baseline, the same Run as JSON, which the protocol used before.
//
//	go test -run '^$' -bench RunHeader ./fn/protocol/
func BenchmarkRunHeader(b *testing.B) {
	run := protocol.Run{Run: 123456, Invocation: "1fe33850408abaeb31e58a26", Function: "fertilizer_increase_cycles_00000003", Index: -1, DeadlineMS: 1795783013143}
	for i := range 9 {
		run.Inputs = append(run.Inputs, protocol.Input{Name: fmt.Sprintf("37a45a81-bebe-4ccf-8b26-f44c9d3375%02d_dat", i), Value: &protocol.Datum{Off: i * 4, Len: 4}})
	}
	for i := range 3 {
		run.Outputs = append(run.Outputs, protocol.OutSpec{Name: fmt.Sprintf("35863e1c-719c-4b09-a17a-a09177ede5%02d.zip", i)})
	}
	s := &stream{}
	if err := protocol.NewConn(s, 0).Write(protocol.TypeRun, run); err != nil {
		b.Fatal(err)
	}
	binaryHeader := s.Bytes()[9:]
	jsonHeader, err := json.Marshal(run)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("binary", func(b *testing.B) {
		f := &protocol.Frame{Type: protocol.TypeRun, Header: binaryHeader}
		for b.Loop() {
			var r protocol.Run
			if err := f.Decode(&r); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("json", func(b *testing.B) {
		for b.Loop() {
			var r protocol.Run
			if err := json.Unmarshal(jsonHeader, &r); err != nil {
				b.Fatal(err)
			}
		}
	})
}
