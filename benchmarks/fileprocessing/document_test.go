package fileprocessing

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
)

func TestGenerate(t *testing.T) {
	for _, size := range []int{0, 1, 2, 100, 4096, DefaultSize} {
		doc := Generate(Spec{Seed: 1, Size: size})
		if len(doc) != size {
			t.Fatalf("size %d: got %d bytes", size, len(doc))
		}
		if size > 0 && doc[size-1] != '\n' {
			t.Errorf("size %d: last byte %q, want a newline", size, doc[size-1])
		}
		for i, c := range doc {
			if c >= 0x80 || (c < 0x20 && c != '\n') {
				t.Fatalf("size %d: byte %d is %#x, want printable ASCII or a newline", size, i, c)
			}
		}
	}
	a := Generate(Spec{Seed: 5, Size: 10000})
	if b := Generate(Spec{Seed: 5, Size: 10000}); !bytes.Equal(a, b) {
		t.Error("the same seed gave two documents")
	}
	if b := Generate(Spec{Seed: 6, Size: 10000}); bytes.Equal(a, b) {
		t.Error("seeds 5 and 6 gave the same document")
	}
	// A shorter document of the same seed is a prefix, but for its last byte.
	if b := Generate(Spec{Seed: 5, Size: 5000}); !bytes.Equal(a[:4999], b[:4999]) {
		t.Error("the document of size 5000 is not a prefix of the one of size 10000")
	}
	if !bytes.HasPrefix(a, []byte("# ")) {
		t.Errorf("the document starts with %.20q, want a level-1 heading", a)
	}
	for _, want := range []string{"\n## ", "\n- ", "\n1. ", "\n> ", "\n```", "**", "](https://"} {
		if !bytes.Contains(a, []byte(want)) {
			t.Errorf("no %q in a 10000-byte document", want)
		}
	}
}

// TestGeneratePinned pins the generator, so that recorded results stay
// comparable: a change of the document changes every measurement.
func TestGeneratePinned(t *testing.T) {
	for _, tt := range []struct {
		spec Spec
		want string
	}{
		{Spec{Seed: 1, Size: DefaultSize}, "fea36e93edd487aa98f8a77e311a92fe08a6a0863b4690fa18d94a45f601d499"},
		{Spec{Seed: 42, Size: 1000}, "448e8e3abf3126e6ba1cfd1642f06a23b01faa8c5f684816e5e39daebec24fbd"},
	} {
		sum := sha256.Sum256(Generate(tt.spec))
		if got := hex.EncodeToString(sum[:]); got != tt.want {
			t.Errorf("%+v: sha256 %s, want %s", tt.spec, got, tt.want)
		}
	}
}

func TestGenerateBadSize(t *testing.T) {
	for _, size := range []int{-1, MaxSize + 1} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("size %d: no panic", size)
				}
			}()
			Generate(Spec{Size: size})
		}()
	}
}

func TestInputSpec(t *testing.T) {
	tests := []struct {
		name   string
		inputs map[string]string
		want   Spec
		err    string
	}{
		{"defaults", map[string]string{"seed": "null", "size": "null"}, Spec{0, DefaultSize}, ""},
		{"no size input", map[string]string{"seed": "7"}, Spec{7, DefaultSize}, ""},
		{"seed and size", map[string]string{"seed": "7", "size": "1000"}, Spec{7, 1000}, ""},
		{"size as string", map[string]string{"seed": "7", "size": `"1000"`}, Spec{7, 1000}, ""},
		{"v1 size", map[string]string{"seed": "7", "size": `"v1"`}, Spec{7, V1Size}, ""},
		{"string seed", map[string]string{"seed": `"report.md"`}, Spec{StringSeed("report.md"), DefaultSize}, ""},
		{"filename number", map[string]string{"filename": "3"}, Spec{3, V1Size}, ""},
		{"filename string", map[string]string{"filename": `"a.md"`}, Spec{StringSeed("a.md"), V1Size}, ""},
		{"filename object", map[string]string{"filename": `{"seed": 3, "size": 2048}`}, Spec{3, 2048}, ""},
		{"filename object, seed only", map[string]string{"filename": `{"seed": "x"}`}, Spec{StringSeed("x"), V1Size}, ""},
		{"filename null", map[string]string{"filename": `null`}, Spec{0, V1Size}, ""},
		{"negative seed", map[string]string{"seed": "-1"}, Spec{}, "non-negative integer"},
		{"fractional size", map[string]string{"size": "1.5"}, Spec{}, "whole number"},
		{"bad size", map[string]string{"size": `"big"`}, Spec{}, `"v1"`},
		{"size too large", map[string]string{"size": "1e12"}, Spec{}, "between 0 and"},
		{"negative size", map[string]string{"size": "-5"}, Spec{}, "between 0 and"},
		{"unknown filename field", map[string]string{"filename": `{"sead": 1}`}, Spec{}, "unknown field"},
		{"bad json", map[string]string{"size": `{`}, Spec{}, "not JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := make(map[string][]byte)
			for k, v := range tt.inputs {
				in[k] = []byte(v)
			}
			got, err := InputSpec(in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %+v, %v; want an error containing %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
