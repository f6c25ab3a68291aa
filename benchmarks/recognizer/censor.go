package recognizer

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"sync"
)

// Automaton finds every occurrence of a set of keywords in one pass over a
// text: the Aho–Corasick automaton (Aho and Corasick, "Efficient string
// matching: an aid to bibliographic search", CACM 18(6), 1975), built as a
// deterministic automaton over bytes, so each byte of the text costs one
// table look-up.
type Automaton struct {
	keywords []string
	delta    [][256]int32 // state × byte → state, failure links folded in
	out      [][]int32    // keywords (indices) ending in each state
}

// NewAutomaton builds the automaton of keywords, matched as given (fold
// them and the texts alike for case-insensitive search). Empty keywords
// are an error.
func NewAutomaton(keywords []string) (*Automaton, error) {
	a := &Automaton{keywords: keywords, delta: make([][256]int32, 1), out: make([][]int32, 1)}
	// The trie; -1 marks a missing edge until the failure links fill it.
	for i := range a.delta[0] {
		a.delta[0][i] = -1
	}
	for k, w := range keywords {
		if w == "" {
			return nil, fmt.Errorf("keyword %d is empty", k)
		}
		s := int32(0)
		for i := 0; i < len(w); i++ {
			next := a.delta[s][w[i]]
			if next < 0 {
				next = int32(len(a.delta))
				var row [256]int32
				for j := range row {
					row[j] = -1
				}
				a.delta = append(a.delta, row)
				a.out = append(a.out, nil)
				a.delta[s][w[i]] = next
			}
			s = next
		}
		a.out[s] = append(a.out[s], int32(k))
	}
	// Breadth first, each state's failure target is already complete when
	// the state is reached, so missing edges copy the failure target's.
	fail := make([]int32, len(a.delta))
	var queue []int32
	for c := range 256 {
		if s := a.delta[0][c]; s < 0 {
			a.delta[0][c] = 0
		} else {
			queue = append(queue, s)
		}
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		a.out[s] = append(a.out[s], a.out[fail[s]]...)
		for c := range 256 {
			t := a.delta[s][c]
			if t < 0 {
				a.delta[s][c] = a.delta[fail[s]][c]
				continue
			}
			fail[t] = a.delta[fail[s]][c]
			queue = append(queue, t)
		}
	}
	return a, nil
}

// Match is one occurrence of a keyword: text[Start:End] == Keyword.
type Match struct {
	Keyword    string `json:"keyword"`
	Start, End int    `json:"-"`
}

// FindAll returns every occurrence of every keyword in text, overlapping
// ones included, ordered by end (and, for one end, longest first).
func (a *Automaton) FindAll(text string) []Match {
	var ms []Match
	s := int32(0)
	for i := 0; i < len(text); i++ {
		s = a.delta[s][text[i]]
		for _, k := range a.out[s] {
			w := a.keywords[k]
			ms = append(ms, Match{Keyword: w, Start: i + 1 - len(w), End: i + 1})
		}
	}
	return ms
}

// Words returns the occurrences of FindAll that are whole words: neither
// preceded nor followed by a letter or digit.
func (a *Automaton) Words(text string) []Match {
	var ms []Match
	for _, m := range a.FindAll(text) {
		if wordBoundary(text, m.Start-1) && wordBoundary(text, m.End) {
			ms = append(ms, m)
		}
	}
	return ms
}

func wordBoundary(text string, i int) bool {
	if i < 0 || i >= len(text) {
		return true
	}
	c := text[i]
	return !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80)
}

// LoadKeywords reads a keyword list: one keyword or phrase a line (folded,
// spaces collapsed), blank lines and lines starting with # skipped.
func LoadKeywords(r io.Reader) ([]string, error) {
	var kws []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		kws = append(kws, strings.Join(strings.Fields(fold(line)), " "))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read keywords: %w", err)
	}
	return kws, nil
}

//go:embed data/keywords.txt
var keywordsTXT string

// Banned returns the automaton of the benchmark's keyword list,
// data/keywords.txt.
var Banned = sync.OnceValue(func() *Automaton {
	kws, err := LoadKeywords(strings.NewReader(keywordsTXT))
	if err == nil {
		var a *Automaton
		if a, err = NewAutomaton(kws); err == nil {
			return a
		}
	}
	panic(fmt.Sprintf("data/keywords.txt: %v", err)) // part of the program; TestBanned loads it
})

// CensorVerdict is censor's decision on a text.
type CensorVerdict struct {
	Illegal bool `json:"illegal"`
	// Keywords are the banned keywords found, in order of their ends.
	Keywords []string `json:"keywords,omitempty"`
}

// Censor checks a text for the keywords of a: the text is folded (lower
// case, Spanish accents removed) and its spaces collapsed, and any whole-word
// occurrence makes it illegal.
func Censor(a *Automaton, text string) CensorVerdict {
	var v CensorVerdict
	for _, m := range a.Words(strings.Join(strings.Fields(fold(text)), " ")) {
		v.Keywords = append(v.Keywords, m.Keyword)
	}
	v.Illegal = len(v.Keywords) > 0
	return v
}
