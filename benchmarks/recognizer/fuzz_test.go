package recognizer

import (
	"strings"
	"testing"
)

// FuzzParseScene: any input parses or fails cleanly, and a parsed scene's
// text lays out or fails cleanly, within the limits.
func FuzzParseScene(f *testing.F) {
	for _, s := range []string{"null", "7", `{"seed": 3, "text": "HOLA\nMUNDO", "adult": true}`, `{"text": "ñ"}`, `{"seed": -1}`, "[]"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s, err := ParseScene([]byte(in))
		if err != nil {
			return
		}
		lines, err := s.Lines()
		if err != nil {
			return
		}
		if len(lines) == 0 || len(lines) > MaxLines {
			t.Fatalf("%d lines", len(lines))
		}
		for _, l := range lines {
			if len(l) > MaxLineChars {
				t.Fatalf("line %q is longer than %d", l, MaxLineChars)
			}
		}
	})
}

// FuzzTranslateCensor: translation keeps the line count, and every keyword
// censor reports is in the folded text.
func FuzzTranslateCensor(f *testing.F) {
	for _, s := range []string{"EL GATO COME", "VENDEMOS ARMAS Y DROGAS", "buenos, dias!\nhace  sol", "GRANADA DE MANO", "ÁÉÍ ñ 13"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		tr := Spanish().Translate(in)
		if got, want := strings.Count(tr.Text, "\n"), strings.Count(in, "\n"); got != want {
			t.Fatalf("Translate(%q) has %d line breaks, want %d", in, got, want)
		}
		folded := strings.Join(strings.Fields(fold(tr.Text)), " ")
		for _, k := range Censor(Banned(), tr.Text).Keywords {
			if !strings.Contains(folded, k) {
				t.Fatalf("keyword %q is not in %q", k, folded)
			}
		}
	})
}
