package protocol

import "io"

// readNStart is the buffer ReadN starts with; it doubles from there.
const readNStart = 1 << 20

// ReadN reads exactly n bytes from r. Its buffer grows as the bytes
// arrive (doubling, at most n), so a peer that announces a large body and
// sends little makes the reader reserve little. A stream that ends early
// gives io.ErrUnexpectedEOF.
func ReadN(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, 0, min(n, readNStart))
	for len(buf) < n {
		if len(buf) == cap(buf) {
			grown := make([]byte, len(buf), min(n, 2*cap(buf)))
			copy(grown, buf)
			buf = grown
		}
		m, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+m]
		if err == io.EOF && len(buf) < n {
			return nil, io.ErrUnexpectedEOF
		}
		if err != nil && err != io.EOF {
			return nil, err
		}
	}
	return buf, nil
}
