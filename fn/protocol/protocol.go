// Package protocol is the wire format between a worker agent and its
// function instances: length-prefixed frames over a Unix stream socket, each
// with a type byte, a binary header (header.go) and a raw byte body.
// Payloads travel as raw bytes in the body (never base64), and a frame is
// written with one header buffer plus the caller's body slice, so a large
// output is not copied to be framed.
//
// Frame layout (big endian):
//
//	uint32 n        length of everything after this field
//	uint8  type
//	uint32 h        length of the header
//	[h]byte header  the type's fields (header.go)
//	[n-5-h]byte     body
//
// docs/protocol.md describes the conversation; the Python SDK implements the
// same frames.
package protocol

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
)

// Frame types.
const (
	// TypeHello is the instance's first frame: header Hello.
	TypeHello byte = 1
	// TypeRun asks the instance to run its function: header Run, body the inline input bytes.
	TypeRun byte = 2
	// TypeOutput posts one output value or foreach item: header Output, body the value.
	TypeOutput byte = 3
	// TypeDone ends a run: header Done.
	TypeDone byte = 4
	// TypeGet asks the agent for a stored input: header Get.
	TypeGet byte = 5
	// TypeData answers a Get: header Data, body the value.
	TypeData byte = 6
	// TypeCancel tells the instance that the agent gave up on a run: header Cancel.
	TypeCancel byte = 7
)

// MaxHeader bounds a frame's header.
const MaxHeader = 1 << 20

// DefaultMaxBody bounds a frame's body unless the reader sets another limit.
const DefaultMaxBody = 256 << 20

// Environment variables the agent sets for an instance.
const (
	EnvSocket   = "FAASFLOW_SOCKET"   // path of the agent's Unix socket
	EnvInstance = "FAASFLOW_INSTANCE" // instance ID, echoed in Hello
	EnvToken    = "FAASFLOW_TOKEN"    // secret echoed in Hello so the agent knows its own instances
)

// Hello introduces an instance to its agent.
type Hello struct {
	Instance string
	Token    string
	// Language names the SDK, for logs ("go", "python").
	Language string
}

// Run asks for one run of the instance's function.
type Run struct {
	Run        uint64
	Invocation string
	Function   string
	// Index is the item number for a function that runs once per foreach item, else -1.
	Index int
	// DeadlineMS is when the agent gives up on the run, in Unix milliseconds.
	DeadlineMS int64
	Inputs     []Input
	Outputs    []OutSpec
}

// Input describes one input value of a run.
type Input struct {
	Name string
	// Value is set for a normal input.
	Value *Datum
	// Items is set for a list input, in item order.
	Items []Datum
	List  bool
}

// Datum locates a value: inline in the Run body at [Off, Off+Len), or held
// by the agent under Key (fetch it with Get).
type Datum struct {
	Key string
	Off int
	Len int
}

// OutSpec tells the SDK which outputs the function may post.
type OutSpec struct {
	Name    string
	Foreach bool
}

// Output posts one value of an output (one item when the output is foreach).
type Output struct {
	Run  uint64
	Name string
}

// Done ends a run. Error is empty on success.
type Done struct {
	Run   uint64
	Error string
	// Panic is true when Error comes from a panic in the function.
	Panic bool
	// StartNS and EndNS are the instance's clock around the handler, Unix nanoseconds.
	StartNS int64
	EndNS   int64
	// CPUNS is the CPU time the instance used during the run, in nanoseconds.
	CPUNS int64
}

// Get asks the agent for the value stored under Key.
type Get struct {
	Req uint64
	Run uint64
	Key string
}

// Data answers a Get; Error is set when the value is gone.
type Data struct {
	Req   uint64
	Error string
}

// Cancel tells the instance the run no longer matters.
type Cancel struct {
	Run uint64
}

// Frame is one decoded frame. Body is owned by the receiver.
type Frame struct {
	Type   byte
	Header []byte
	Body   []byte
}

// Decode reads the frame's header into v, a pointer to the header type of
// the frame's type (*Run for TypeRun, and so on).
func (f *Frame) Decode(v Decodable) error {
	r := NewHeaderReader(f.Header)
	v.readFrom(r)
	if r.Err() != nil {
		return fmt.Errorf("decode frame type %d header: %w", f.Type, r.Err())
	}
	return nil
}

// Conn reads and writes frames. Writes are safe for concurrent use; reads
// must come from one goroutine.
type Conn struct {
	rw      io.ReadWriteCloser
	r       *bufio.Reader
	maxBody int

	wmu     sync.Mutex
	w       *bufio.Writer
	waiting atomic.Int32 // writers waiting for wmu
}

// NewConn wraps a stream. maxBody bounds received bodies (0 = DefaultMaxBody).
func NewConn(rw io.ReadWriteCloser, maxBody int) *Conn {
	if maxBody <= 0 {
		maxBody = DefaultMaxBody
	}
	return &Conn{rw: rw, r: bufio.NewReaderSize(rw, 64<<10), w: bufio.NewWriterSize(rw, 64<<10), maxBody: maxBody}
}

// ErrTooLarge is returned by Read when a frame exceeds the limits, and by
// Write when a header is over MaxHeader or a frame over 4 GiB.
var ErrTooLarge = errors.New("frame too large")

// TooLargeError is Read's error for a frame whose body is over the reader's
// limit. It wraps ErrTooLarge.
type TooLargeError struct {
	Type  byte
	Size  int // the body's declared size in bytes
	Limit int // the reader's limit in bytes
	// Header is the frame's header when it had already arrived with
	// the fixed fields, else nil (Read never reads further for it).
	Header []byte
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%v: body of %d bytes is over the limit of %d", ErrTooLarge, e.Size, e.Limit)
}

func (e *TooLargeError) Unwrap() error { return ErrTooLarge }

// Read returns the next frame. It returns io.EOF only when the stream ends
// between frames; a stream that ends inside a frame gives
// io.ErrUnexpectedEOF. After an error the stream is out of step and the
// connection should be closed.
func (c *Conn) Read() (*Frame, error) {
	var pre [9]byte
	if _, err := io.ReadFull(c.r, pre[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(pre[0:4])
	typ := pre[4]
	h := binary.BigEndian.Uint32(pre[5:9])
	if n < 5 || h > n-5 {
		return nil, fmt.Errorf("malformed frame: length %d, header %d", n, h)
	}
	if h > MaxHeader {
		return nil, fmt.Errorf("%w: header of %d bytes is over the limit of %d", ErrTooLarge, h, MaxHeader)
	}
	bodyLen := int(n - 5 - h)
	if bodyLen > c.maxBody {
		e := &TooLargeError{Type: typ, Size: bodyLen, Limit: c.maxBody}
		// Name the frame by its header when it came with the fixed fields;
		// never read more of a refused frame for it.
		if c.r.Buffered() >= int(h) {
			if hdr, err := c.r.Peek(int(h)); err == nil {
				e.Header = append([]byte(nil), hdr...)
			}
		}
		return nil, e
	}
	f := &Frame{Type: typ, Header: make([]byte, h)}
	if err := c.readRest(f.Header); err != nil {
		return nil, err
	}
	if bodyLen > 0 {
		// ReadN grows the body as it arrives: a peer announcing a body up
		// to the limit and sending little makes this reserve little.
		body, err := ReadN(c.r, bodyLen)
		if err != nil {
			return nil, err
		}
		f.Body = body
	}
	return f, nil
}

// readRest fills b with the rest of a frame already begun, so the end of the
// stream here is never mistaken for a clean end between frames.
func (c *Conn) readRest(b []byte) error {
	_, err := io.ReadFull(c.r, b)
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// Write sends one frame with header h and, as its body, the concatenation
// of bodies. Frames of writers that meet at the lock
// leave in one write: a writer flushes only when nobody waits behind it.
func (c *Conn) Write(typ byte, h Header, bodies ...[]byte) error {
	return c.write(true, typ, h, bodies)
}

// WriteLater adds a frame to the write buffer without sending it: the next
// Write or Flush sends it along with its own. A reader answering a burst of
// frames writes all answers but the last this way, so the burst costs one
// write each way (see Pending).
func (c *Conn) WriteLater(typ byte, h Header, bodies ...[]byte) error {
	return c.write(false, typ, h, bodies)
}

// Flush sends the frames that WriteLater left in the buffer.
func (c *Conn) Flush() error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	return c.w.Flush()
}

// Pending reports whether a whole frame has arrived and waits in the read
// buffer, so that the next Read returns it without waiting on the stream.
func (c *Conn) Pending() bool {
	n := c.r.Buffered()
	if n < 4 {
		return false
	}
	pre, err := c.r.Peek(4)
	return err == nil && uint64(n) >= 4+uint64(binary.BigEndian.Uint32(pre))
}

// RawHeader is a frame header already encoded, sent as it is (message
// streams between agents use this package's frames with headers of their
// own).
type RawHeader []byte

func (c *Conn) write(flush bool, typ byte, h Header, bodies [][]byte) error {
	// The 9 bytes before the header are filled in once its length is known.
	buf := h.appendTo(make([]byte, 9, 256))
	hlen := len(buf) - 9
	if hlen > MaxHeader {
		return fmt.Errorf("%w: header of %d bytes is over the limit of %d", ErrTooLarge, hlen, MaxHeader)
	}
	total := 5 + hlen
	for _, b := range bodies {
		total += len(b)
	}
	if uint64(total) > 1<<32-1 {
		return fmt.Errorf("%w: %d bytes", ErrTooLarge, total)
	}
	binary.BigEndian.PutUint32(buf[0:4], uint32(total))
	buf[4] = typ
	binary.BigEndian.PutUint32(buf[5:9], uint32(hlen))

	c.waiting.Add(1)
	c.wmu.Lock()
	c.waiting.Add(-1)
	defer c.wmu.Unlock()
	c.w.Write(buf)
	for _, b := range bodies {
		c.w.Write(b) // bufio passes large slices straight through
	}
	if !flush || c.waiting.Load() > 0 {
		// The writer waiting for the lock flushes this frame with its own.
		return nil
	}
	return c.w.Flush()
}

// Close closes the underlying stream.
func (c *Conn) Close() error { return c.rw.Close() }
