package fileprocessing

import (
	"crypto/sha256"
	"encoding/hex"
	"math"
	"strings"
	"testing"
)

func TestScoreEncoding(t *testing.T) {
	for _, s := range []float64{0, -1, 1, 0.1234567890123, -0.05, math.Copysign(0, -1)} {
		b := EncodeScore(s)
		if len(b) != 8 {
			t.Fatalf("%v: %d bytes, want 8", s, len(b))
		}
		got, err := DecodeScore(b)
		if err != nil || got != s {
			t.Errorf("%v: decoded %v, %v", s, got, err)
		}
	}
	for _, b := range [][]byte{nil, make([]byte, 7), EncodeScore(1.5), EncodeScore(math.NaN())} {
		if _, err := DecodeScore(b); err == nil {
			t.Errorf("DecodeScore(%x): no error", b)
		}
	}
}

func TestMood(t *testing.T) {
	for s, want := range map[float64]string{0.05: "positive", 0.9: "positive", 0.0499: "neutral", 0: "neutral", -0.05: "negative", -1: "negative"} {
		if got := Mood(s); got != want {
			t.Errorf("Mood(%v) = %s, want %s", s, got, want)
		}
	}
}

func TestUpload(t *testing.T) {
	html := Convert([]byte("# R&D *report*\n\nGood news.\n\n# Second\n"))
	page := Page(html, 0.25)
	want := "<!DOCTYPE html>\n<html>\n<head>\n<meta charset=\"utf-8\" />\n<title>R&amp;D report</title>\n" +
		"<meta name=\"sentiment\" content=\"0.25\" data-mood=\"positive\" />\n</head>\n<body>\n" +
		"<h1>R&amp;D <em>report</em></h1>\n<p>Good news.</p>\n<h1>Second</h1>\n</body>\n</html>\n"
	if string(page) != want {
		t.Errorf("page\n%s\nwant\n%s", page, want)
	}
	if err := wellFormed(page[len("<!DOCTYPE html>\n"):]); err != nil {
		t.Error(err)
	}
	r := Upload(html, 0.25)
	sum := sha256.Sum256(page)
	if r != (Receipt{Title: "R&D report", Bytes: len(page), SHA256: hex.EncodeToString(sum[:]), HTMLBytes: len(html), Score: 0.25, Mood: "positive"}) {
		t.Errorf("receipt %+v", r)
	}
	if r := Upload(Convert([]byte("no heading")), -0.5); r.Title != "Untitled" || r.Mood != "negative" {
		t.Errorf("receipt without a heading: %+v", r)
	}
	if !strings.Contains(string(Page(nil, -0.125)), `content="-0.125"`) {
		t.Error("score not in the page")
	}
}
