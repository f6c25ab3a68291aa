package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzReadRaw sends PostRaw-style requests — JSON metadata in a header, a
// raw body — with any header value, body and Content-Length (exact,
// unknown as with chunked encoding, or more than was sent). ReadRaw must
// return exactly the body when the header is JSON and the body within the
// limit, and otherwise answer 400 (bad header) or 413 (too large) with a
// JSON error naming the problem; it never returns more than the limit.
func FuzzReadRaw(f *testing.F) {
	const max = 64
	f.Add(`{"invocation": "i", "kind": "result"}`, []byte("value"), uint8(0))
	f.Add(`{"invocation": "i"}`, []byte(nil), uint8(1))
	f.Add(`{"invocation": "i"}`, bytes.Repeat([]byte("x"), max), uint8(0))
	f.Add(`{"invocation": "i"}`, bytes.Repeat([]byte("x"), max+1), uint8(0))
	f.Add(`{"invocation": "i"}`, bytes.Repeat([]byte("x"), max+1), uint8(1))
	f.Add(`{"invocation": "i"}`, []byte("short"), uint8(2))
	f.Add(`{"invocation": 1}`, []byte("v"), uint8(0))
	f.Add(`{"invocation": "i"`, []byte("v"), uint8(0))
	f.Add(``, []byte("v"), uint8(0))
	f.Add(`null`, []byte("v"), uint8(0))
	f.Add(`"just a string"`, []byte("v"), uint8(1))

	f.Fuzz(func(t *testing.T, header string, body []byte, clMode uint8) {
		r := httptest.NewRequest(http.MethodPost, "/v1/internal/reports", bytes.NewReader(body))
		r.Header[HeaderReport] = []string{header}
		switch clMode % 3 {
		case 0:
			r.ContentLength = int64(len(body))
		case 1:
			r.ContentLength = -1 // chunked: length unknown
		case 2:
			r.ContentLength = int64(len(body)) + 1 // the client announced more than it sent
		}
		rec := httptest.NewRecorder()
		var meta Report
		got, ok := ReadRaw(rec, r, HeaderReport, &meta, max)

		headerOK := json.Unmarshal([]byte(header), new(Report)) == nil
		fits := len(body) <= max && (clMode%3 != 2 || len(body)+1 <= max)
		complete := clMode%3 != 2
		if ok {
			if !headerOK || !fits || !complete {
				t.Fatalf("ReadRaw took header %q and %d bytes (Content-Length %d, limit %d)", header, len(body), r.ContentLength, max)
			}
			if !bytes.Equal(got, body) {
				t.Fatalf("ReadRaw returned %q, want %q", got, body)
			}
			if rec.Code != http.StatusOK || rec.Body.Len() != 0 {
				t.Fatalf("ReadRaw succeeded but answered %d %q", rec.Code, rec.Body)
			}
			return
		}
		if got != nil {
			t.Fatalf("ReadRaw failed but returned %d bytes", len(got))
		}
		if headerOK && fits && complete {
			t.Fatalf("ReadRaw refused header %q and %d bytes within the limit: %d %s", header, len(body), rec.Code, rec.Body)
		}
		var e Error
		if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil || strings.TrimSpace(e.Error) == "" {
			t.Fatalf("ReadRaw answered %d %q, want a JSON error naming the problem", rec.Code, rec.Body)
		}
		switch {
		case !headerOK:
			if rec.Code != http.StatusBadRequest || !strings.Contains(e.Error, HeaderReport) {
				t.Fatalf("bad header %q: %d %q, want 400 naming %s", header, rec.Code, e.Error, HeaderReport)
			}
		case !fits:
			if rec.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("body of %d bytes over the limit of %d: %d %q, want 413", len(body), max, rec.Code, e.Error)
			}
		default: // a body shorter than announced: the client's fault
			if rec.Code/100 != 4 {
				t.Fatalf("truncated body: %d %q, want 4xx", rec.Code, e.Error)
			}
		}
	})
}

// FuzzReadBody reads bodies of any size through ReadBody with the length
// known or not: it returns the body when within the limit, an error
// otherwise, and never reads past the limit.
func FuzzReadBody(f *testing.F) {
	const max = 32
	f.Add([]byte(""), false)
	f.Add([]byte("x"), true)
	f.Add(bytes.Repeat([]byte("y"), max), false)
	f.Add(bytes.Repeat([]byte("y"), max+1), false)
	f.Add(bytes.Repeat([]byte("z"), 10*max), true)

	f.Fuzz(func(t *testing.T, body []byte, chunked bool) {
		src := &countingReader{r: bytes.NewReader(body)}
		r := httptest.NewRequest(http.MethodPost, "/", src)
		r.ContentLength = int64(len(body))
		if chunked {
			r.ContentLength = -1
		}
		got, err := ReadBody(httptest.NewRecorder(), r, max)
		if len(body) <= max {
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("ReadBody of %d bytes (limit %d): %q, %v", len(body), max, got, err)
			}
			return
		}
		if err == nil {
			t.Fatalf("ReadBody took %d bytes over the limit of %d", len(body), max)
		}
		if src.n > max+1 {
			t.Fatalf("ReadBody read %d bytes of a body over the limit of %d", src.n, max)
		}
	})
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
