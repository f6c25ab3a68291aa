package recognizer

import (
	"reflect"
	"strings"
	"testing"
)

// naive finds every occurrence of every keyword by trying each at each
// position, ordered as FindAll orders them.
func naive(keywords []string, text string) []Match {
	var ms []Match
	for end := 1; end <= len(text); end++ {
		var at []Match
		for _, k := range keywords {
			if end >= len(k) && text[end-len(k):end] == k {
				at = append(at, Match{Keyword: k, Start: end - len(k), End: end})
			}
		}
		// Longest first, as the automaton's output links give them.
		for i := 1; i < len(at); i++ {
			for j := i; j > 0 && len(at[j].Keyword) > len(at[j-1].Keyword); j-- {
				at[j], at[j-1] = at[j-1], at[j]
			}
		}
		ms = append(ms, at...)
	}
	return ms
}

func TestAutomaton(t *testing.T) {
	// Aho and Corasick's own example.
	kws := []string{"he", "she", "his", "hers"}
	a, err := NewAutomaton(kws)
	if err != nil {
		t.Fatal(err)
	}
	got := a.FindAll("ushers")
	want := []Match{{"she", 1, 4}, {"he", 2, 4}, {"hers", 2, 6}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("FindAll(ushers) = %v, want %v", got, want)
	}
	// Against the naive search on every string over {a, b} up to length 8.
	kws = []string{"a", "ab", "bab", "bc", "bca", "c", "caa", "aaaa"}
	if a, err = NewAutomaton(kws); err != nil {
		t.Fatal(err)
	}
	for n := range 9 {
		for bits := 0; bits < 1<<n; bits++ {
			var sb strings.Builder
			for i := range n {
				sb.WriteByte("ab"[bits>>i&1])
			}
			text := sb.String() + "caa"
			if got, want := a.FindAll(text), naive(kws, text); !reflect.DeepEqual(got, want) {
				t.Fatalf("FindAll(%q) = %v, want %v", text, got, want)
			}
		}
	}
	if _, err := NewAutomaton([]string{"x", ""}); err == nil {
		t.Error("built an automaton with an empty keyword")
	}
}

func TestCensor(t *testing.T) {
	a, err := NewAutomaton([]string{"gun", "guns", "kill", "hand grenade", "grenade"})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		text string
		want []string
	}{
		{"clean", "the cat eats fish", nil},
		{"word", "we sell GUNS here", []string{"guns"}},
		{"inside words does not count", "skill, shogun, gunny", nil},
		{"punctuation is a boundary", "kill! (gun)", []string{"kill", "gun"}},
		{"phrase and its word", "a hand grenade", []string{"hand grenade", "grenade"}},
		{"spaces collapsed", "hand\n  grenade", []string{"hand grenade", "grenade"}},
		{"accents folded", "Gún", []string{"gun"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Censor(a, tt.text)
			if !reflect.DeepEqual(got.Keywords, tt.want) || got.Illegal != (len(tt.want) > 0) {
				t.Errorf("Censor(%q) = %+v, want keywords %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestBanned(t *testing.T) {
	kws, err := LoadKeywords(strings.NewReader(keywordsTXT))
	if err != nil {
		t.Fatal(err)
	}
	if len(kws) < 20 {
		t.Errorf("%d keywords, want at least 20", len(kws))
	}
	if v := Censor(Banned(), "we sell weapons and drugs"); !reflect.DeepEqual(v.Keywords, []string{"weapons", "drugs"}) {
		t.Errorf("got %+v", v)
	}
}
