package recognizer

import (
	"reflect"
	"strings"
	"testing"
)

func TestTranslate(t *testing.T) {
	d, err := LoadDictionary(strings.NewReader(`# test glossary
el	the
gato	cat
come	eats
buenos dias	good morning
buenos	good
a la	to the
vamos	we go
`), "test.tsv")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, in, want string
		unknown        []string
	}{
		{name: "word by word", in: "EL GATO COME", want: "the cat eats"},
		{name: "phrase first", in: "BUENOS DIAS", want: "good morning"},
		{name: "phrase prefix only", in: "buenos gatos", want: "good gatos", unknown: []string{"gatos"}},
		{name: "punctuation splits phrases", in: "Buenos, dias!", want: "good, dias!", unknown: []string{"dias"}},
		{name: "accents folded", in: "VAMOS A LA GATÓ", want: "we go to the cat"},
		{name: "numbers kept", in: "el gato 13", want: "the cat 13"},
		{name: "lines kept", in: "EL GATO\nCOME", want: "the cat\neats"},
		{name: "spacing kept", in: "  el   gato ", want: "  the   cat "},
		{name: "empty", in: "", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := d.Translate(tt.in)
			if got.Text != tt.want || !reflect.DeepEqual(got.Unknown, tt.unknown) {
				t.Errorf("Translate(%q) = %q (unknown %q), want %q (unknown %q)", tt.in, got.Text, got.Unknown, tt.want, tt.unknown)
			}
		})
	}
}

func TestLoadDictionaryErrors(t *testing.T) {
	tests := []struct{ name, in, wantErr string }{
		{"no tab", "el the\n", "test.tsv:1: want source words, a tab"},
		{"no target", "# c\nel\t \n", "test.tsv:2:"},
		{"duplicate", "el\tthe\nEL\tit\n", `test.tsv:2: "el" is already translated as "the"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := LoadDictionary(strings.NewReader(tt.in), "test.tsv")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("got error %v, want one with %q", err, tt.wantErr)
			}
		})
	}
}

// TestSpanish checks the benchmark's glossary: every phrase a scene draws
// by default translates in full and is clean, and the sentences the tests
// use translate as expected.
func TestSpanish(t *testing.T) {
	d := Spanish()
	if d.Len() < 200 {
		t.Errorf("the glossary has %d entries, want at least 200", d.Len())
	}
	for _, p := range Phrases {
		tr := d.Translate(p)
		if len(tr.Unknown) > 0 {
			t.Errorf("%q: words without translation: %q", p, tr.Unknown)
		}
		if v := Censor(Banned(), tr.Text); v.Illegal {
			t.Errorf("%q (%q) is censored for %q", p, tr.Text, v.Keywords)
		}
	}
	tests := []struct{ in, want string }{
		{"EL GATO COME PESCADO", "the cat eats fish"},
		{"HOY HACE SOL EN LA CIUDAD", "today it is sunny in the city"},
		{"EL TREN LLEGA A LAS OCHO", "the train arrives at eight"},
		{"EL MERCADO VENDE FRUTA FRESCA", "the market sells fresh fruit"},
		{"VENDEMOS ARMAS Y DROGAS", "we sell weapons and drugs"},
		{"TENGO UNA GRANADA DE MANO", "i have a hand grenade"},
	}
	for _, tt := range tests {
		if got := d.Translate(tt.in).Text; got != tt.want {
			t.Errorf("Translate(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
