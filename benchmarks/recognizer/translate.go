package recognizer

import (
	"bufio"
	_ "embed"
	"fmt"
	"io"
	"strings"
	"sync"
	"unicode"
)

// Dictionary is a bilingual glossary for word-by-word translation with
// phrases: each entry maps one or more source words to target words.
type Dictionary struct {
	entries  map[string]string
	maxWords int // most words on the source side of an entry
}

// LoadDictionary reads a glossary: one entry a line, source words, a tab,
// target words; blank lines and lines starting with # are skipped. Source
// words are folded as Translate folds its input. name is used in errors.
func LoadDictionary(r io.Reader, name string) (*Dictionary, error) {
	d := &Dictionary{entries: map[string]string{}}
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		src, dst, ok := strings.Cut(line, "\t")
		words := strings.Fields(fold(src))
		dst = strings.Join(strings.Fields(dst), " ")
		if !ok || len(words) == 0 || dst == "" {
			return nil, fmt.Errorf("%s:%d: want source words, a tab and target words, got %q", name, n, line)
		}
		key := strings.Join(words, " ")
		if prev, dup := d.entries[key]; dup {
			return nil, fmt.Errorf("%s:%d: %q is already translated as %q", name, n, key, prev)
		}
		d.entries[key] = dst
		d.maxWords = max(d.maxWords, len(words))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return d, nil
}

// Len is the number of entries.
func (d *Dictionary) Len() int { return len(d.entries) }

//go:embed data/es-en.tsv
var spanishTSV string

// Spanish returns the benchmark's Spanish-to-English glossary,
// data/es-en.tsv.
var Spanish = sync.OnceValue(func() *Dictionary {
	d, err := LoadDictionary(strings.NewReader(spanishTSV), "data/es-en.tsv")
	if err != nil {
		panic(err) // the file is part of the program; TestDictionaries loads it
	}
	return d
})

// Translation is a translated text and the words the dictionary lacked.
type Translation struct {
	Text    string   `json:"text"`
	Unknown []string `json:"unknown,omitempty"`
}

// Translate translates text line by line. Each line is folded (lower case,
// Spanish accents removed) and split into words (runs of letters and
// digits) and what lies between them. From each word on, the longest run
// of words separated only by spaces that the dictionary has is replaced by
// its translation; a word it lacks is kept as it is (folded) and listed in
// Unknown, except numbers. Punctuation and spacing stay where they were.
func (d *Dictionary) Translate(text string) Translation {
	var t Translation
	lines := strings.Split(text, "\n")
	for li, line := range lines {
		line = fold(line)
		spans := wordSpans(line)
		var b strings.Builder
		at := 0 // bytes of line written
		for i := 0; i < len(spans); {
			n, dst := d.longest(line, spans[i:])
			if n == 0 {
				w := line[spans[i][0]:spans[i][1]]
				if !isNumber(w) {
					t.Unknown = append(t.Unknown, w)
				}
				n, dst = 1, w
			}
			b.WriteString(line[at:spans[i][0]])
			b.WriteString(dst)
			at = spans[i+n-1][1]
			i += n
		}
		b.WriteString(line[at:])
		lines[li] = b.String()
	}
	t.Text = strings.Join(lines, "\n")
	return t
}

// longest returns how many of the words starting at spans[0] the longest
// matching entry covers, and its translation; 0 if none matches.
func (d *Dictionary) longest(line string, spans [][2]int) (int, string) {
	for n := min(d.maxWords, len(spans)); n > 0; n-- {
		words := make([]string, n)
		joined := true
		for k := 0; k < n; k++ {
			words[k] = line[spans[k][0]:spans[k][1]]
			if k > 0 && strings.TrimSpace(line[spans[k-1][1]:spans[k][0]]) != "" {
				joined = false // punctuation between: not one phrase
				break
			}
		}
		if !joined {
			continue
		}
		if dst, ok := d.entries[strings.Join(words, " ")]; ok {
			return n, dst
		}
	}
	return 0, ""
}

// wordSpans returns the byte ranges of the words of s: runs of letters and
// digits.
func wordSpans(s string) [][2]int {
	var spans [][2]int
	start := -1
	for i, r := range s {
		word := unicode.IsLetter(r) || unicode.IsDigit(r)
		switch {
		case word && start < 0:
			start = i
		case !word && start >= 0:
			spans = append(spans, [2]int{start, i})
			start = -1
		}
	}
	if start >= 0 {
		spans = append(spans, [2]int{start, len(s)})
	}
	return spans
}

func isNumber(w string) bool {
	for _, r := range w {
		if !unicode.IsDigit(r) {
			return false
		}
	}
	return true
}

// accents maps the accented letters of Spanish to plain ones.
var accents = strings.NewReplacer("á", "a", "é", "e", "í", "i", "ó", "o", "ú", "u", "ü", "u", "ñ", "n")

// fold lower-cases s and removes Spanish accents.
func fold(s string) string { return accents.Replace(strings.ToLower(s)) }
