package protocol

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
	"testing/iotest"
)

func TestReadN(t *testing.T) {
	data := bytes.Repeat([]byte("0123456789abcdef"), 300000) // 4.8 MB: several doublings
	for _, tc := range []struct {
		name    string
		r       io.Reader
		n       int
		want    []byte
		wantErr error
	}{
		{"empty", bytes.NewReader(nil), 0, []byte{}, nil},
		{"small", bytes.NewReader(data[:10]), 10, data[:10], nil},
		{"large, one byte at a time", iotest.OneByteReader(bytes.NewReader(data)), len(data), data, nil},
		{"large, data and EOF together", iotest.DataErrReader(bytes.NewReader(data)), len(data), data, nil},
		{"more available than asked", bytes.NewReader(data), 1000, data[:1000], nil},
		{"ends early", bytes.NewReader(data[:100]), 1 << 30, nil, io.ErrUnexpectedEOF},
		{"reader fails", iotest.ErrReader(io.ErrClosedPipe), 10, nil, io.ErrClosedPipe},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadN(tc.r, tc.n)
			if !errors.Is(err, tc.wantErr) {
				t.Fatalf("err = %v, want %v", err, tc.wantErr)
			}
			if !bytes.Equal(got, tc.want) {
				t.Fatalf("got %d bytes, want %d", len(got), len(tc.want))
			}
		})
	}
}

// A peer announcing 1 GiB and sending 100 bytes makes ReadN reserve its
// first buffer (1 MiB) only, not the announced size.
func TestReadNReservesAsBytesArrive(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := ReadN(bytes.NewReader(make([]byte, 100)), 1<<30); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want unexpected EOF", err)
	}
	runtime.ReadMemStats(&after)
	if got := after.TotalAlloc - before.TotalAlloc; got > 2<<20 {
		t.Fatalf("reading 100 of 1 GiB announced bytes allocated %d bytes", got)
	}
}
