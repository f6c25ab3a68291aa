package fileprocessing

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
)

// EncodeScore is the sentiment function's output: the score as a
// little-endian IEEE 754 double, 8 bytes as in FaaSFlow v1's workflow.
func EncodeScore(score float64) []byte {
	return binary.LittleEndian.AppendUint64(nil, math.Float64bits(score))
}

// DecodeScore reads what EncodeScore wrote.
func DecodeScore(b []byte) (float64, error) {
	if len(b) != 8 {
		return 0, fmt.Errorf("score is %d bytes, want 8 (a little-endian float64)", len(b))
	}
	s := math.Float64frombits(binary.LittleEndian.Uint64(b))
	if math.IsNaN(s) || s < -1 || s > 1 {
		return 0, fmt.Errorf("score %v is not a compound score in [-1, 1]", s)
	}
	return s, nil
}

// Mood is VADER's reading of a compound score: positive from 0.05,
// negative to -0.05, neutral between.
func Mood(score float64) string {
	switch {
	case score >= 0.05:
		return "positive"
	case score <= -0.05:
		return "negative"
	}
	return "neutral"
}

// Receipt is the result of the workflow: what upload would store, the
// page, described by its size and checksum.
type Receipt struct {
	Title     string  `json:"title"`      // the page's title: the document's first level-1 heading
	Bytes     int     `json:"bytes"`      // size of the page
	SHA256    string  `json:"sha256"`     // of the page, hex
	HTMLBytes int     `json:"html_bytes"` // size of the converted document in it
	Score     float64 `json:"score"`      // the document's sentiment
	Mood      string  `json:"mood"`       // see Mood
}

// Page is the HTML page upload makes of a converted document and its
// score: the document as the body, its first level-1 heading as the title,
// and the score in a meta element.
func Page(html []byte, score float64) []byte {
	var b bytes.Buffer
	b.Grow(len(html) + 256)
	b.WriteString("<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\" />\n<title>")
	b.Write(title(html))
	b.WriteString("</title>\n<meta name=\"sentiment\" content=\"")
	b.WriteString(strconv.FormatFloat(score, 'g', -1, 64))
	b.WriteString("\" data-mood=\"" + Mood(score) + "\" />\n</head>\n<body>\n")
	b.Write(html)
	b.WriteString("</body>\n</html>\n")
	return b.Bytes()
}

// Upload makes the page of html and score, and returns its receipt.
func Upload(html []byte, score float64) Receipt {
	page := Page(html, score)
	sum := sha256.Sum256(page)
	return Receipt{
		Title:     string(unescapeHTML(title(html))),
		Bytes:     len(page),
		SHA256:    hex.EncodeToString(sum[:]),
		HTMLBytes: len(html),
		Score:     score,
		Mood:      Mood(score),
	}
}

// title returns the text of the first <h1> of html (as Convert writes
// it), still escaped, with its tags removed; or "Untitled".
func title(html []byte) []byte {
	i := bytes.Index(html, []byte("<h1>"))
	if i < 0 {
		return []byte("Untitled")
	}
	rest := html[i+4:]
	j := bytes.Index(rest, []byte("</h1>"))
	if j < 0 {
		return []byte("Untitled")
	}
	var out []byte
	in := false
	for _, c := range rest[:j] {
		switch {
		case c == '<':
			in = true
		case c == '>':
			in = false
		case !in:
			out = append(out, c)
		}
	}
	return out
}

// unescapeHTML undoes the escapes Convert writes.
func unescapeHTML(s []byte) []byte {
	for _, r := range [][2]string{{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", `"`}, {"&amp;", "&"}} {
		s = bytes.ReplaceAll(s, []byte(r[0]), []byte(r[1]))
	}
	return s
}
