package wordcount

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"testing"
)

func TestSizes(t *testing.T) {
	texts := Texts(1)
	if got, want := len(texts), len(Sizes); got != want {
		t.Fatalf("got %d texts, want %d", got, want)
	}
	total := 0
	for i, text := range texts {
		if got, want := len(text), Sizes[i]; got != want {
			t.Errorf("text %d: got %d bytes, want %d", i, got, want)
		}
		total += len(text)
	}
	if got, want := total, 3_300_000; got != want {
		t.Errorf("got %d bytes in all, want %d", got, want)
	}
	if got, want := min(Sizes[0], Sizes[1], Sizes[2], Sizes[3], Sizes[4], Sizes[5], Sizes[6], Sizes[7]), 139_000; got != want {
		t.Errorf("got smallest size %d, want %d", got, want)
	}
	if got, want := max(Sizes[0], Sizes[1], Sizes[2], Sizes[3], Sizes[4], Sizes[5], Sizes[6], Sizes[7]), 594_000; got != want {
		t.Errorf("got largest size %d, want %d", got, want)
	}
}

func TestDeterminism(t *testing.T) {
	tests := []struct {
		name      string
		seedA     uint64
		seedB     uint64
		wantEqual bool
	}{
		{name: "same seed", seedA: 7, seedB: 7, wantEqual: true},
		{name: "zero means default", seedA: 0, seedB: DefaultSeed, wantEqual: true},
		{name: "different seeds", seedA: 1, seedB: 2, wantEqual: false},
		{name: "zero and another seed", seedA: 0, seedB: 3, wantEqual: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := Texts(tt.seedA), Texts(tt.seedB)
			for i := range a {
				if got := bytes.Equal(a[i], b[i]); got != tt.wantEqual {
					t.Errorf("text %d: got equal=%v, want %v", i, got, tt.wantEqual)
				}
			}
		})
	}
}

func TestTextMatchesTexts(t *testing.T) {
	texts := Texts(42)
	for i := range Sizes {
		if !bytes.Equal(Text(42, i), texts[i]) {
			t.Errorf("Text(42, %d) differs from Texts(42)[%d]", i, i)
		}
	}
}

// TestStable pins the bytes for the default seed: benchmark results are
// only comparable across runs and Go versions while this holds. Change the
// hash only on purpose, and say so in the change.
func TestStable(t *testing.T) {
	h := sha256.New()
	for _, text := range Texts(DefaultSeed) {
		h.Write(text)
	}
	got := hex.EncodeToString(h.Sum(nil))
	want := "ef6b27b8b759d990c04f8632e6e6c628efed75fb287aab61e57c5a189aecc7f7"
	if got != want {
		t.Errorf("got sha256 %s of Texts(%d), want %s", got, DefaultSeed, want)
	}
}

func TestTextShape(t *testing.T) {
	texts := Texts(1)
	for i, text := range texts {
		for j, b := range text {
			ok := 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9' ||
				bytes.IndexByte([]byte(" \n.,?!'"), b) >= 0
			if !ok {
				t.Fatalf("text %d byte %d: got unexpected byte %q", i, j, b)
			}
		}
		if got, want := text[len(text)-1], byte('\n'); got != want {
			t.Errorf("text %d: got last byte %q, want %q", i, got, want)
		}
	}

	parts := make([]map[string]int, len(texts))
	for i, text := range texts {
		parts[i] = Count(text)
	}
	r := Merge(parts)
	if r.Distinct < 2000 || r.Distinct > 5000 {
		t.Errorf("got %d distinct words, want a few thousand", r.Distinct)
	}
	b, err := json.Marshal(r.Counts)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 10_000 || len(b) > 100_000 {
		t.Errorf("got %d bytes of JSON counts, want a few tens of KB", len(b))
	}
	if got, want := r.Top[0].Word, "the"; got != want {
		t.Errorf("got most frequent word %q, want %q", got, want)
	}
}

func BenchmarkTexts(b *testing.B) {
	b.SetBytes(3_300_000)
	for b.Loop() {
		Texts(1)
	}
}

func BenchmarkText(b *testing.B) {
	b.SetBytes(int64(Sizes[0]))
	for b.Loop() {
		Text(1, 0)
	}
}
