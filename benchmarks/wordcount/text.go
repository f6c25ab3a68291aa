// Package wordcount is the wordcount benchmark workflow: start generates
// eight English-like text files, one count instance per file counts its
// words, and merge adds the counts up. This package holds the logic; the
// start, count and merge directories are the function programs.
package wordcount

import (
	"cmp"
	"math/bits"
	"slices"
	"sort"
	"sync"
)

// Sizes are the file sizes in bytes, modelled on the eight wordcount inputs
// of the original FaaSFlow/DataFlower artifact (139 KB to 594 KB, 3.3 MB in
// all).
var Sizes = [8]int{139_000, 594_000, 412_000, 287_000, 503_000, 356_000, 468_000, 541_000}

// DefaultSeed is the seed used when a caller passes 0.
const DefaultSeed = 1

// Texts returns the eight texts for seed, text i being exactly Sizes[i]
// bytes long. The same seed gives the same bytes on every platform and Go
// version; seed 0 means DefaultSeed.
func Texts(seed uint64) [][]byte {
	texts := make([][]byte, len(Sizes))
	for i := range Sizes {
		texts[i] = Text(seed, i)
	}
	return texts
}

// Text returns text i of Texts(seed) without generating the others, so a
// producer can hand each file on as soon as it exists. It panics unless
// 0 <= i < len(Sizes).
func Text(seed uint64, i int) []byte {
	if i < 0 || i >= len(Sizes) {
		panic("wordcount: text index out of range")
	}
	if seed == 0 {
		seed = DefaultSeed
	}
	// Each text gets its own stream, seeded from the i-th value of a stream
	// seeded with seed, so texts do not depend on the lengths of the others.
	master := rng{state: seed}
	var fileSeed uint64
	for range i + 1 {
		fileSeed = master.next()
	}
	r := &rng{state: fileSeed}
	return writeText(r, vocabulary(), Sizes[i])
}

// Shape of the generated text, as the odds "one in N".
const (
	sentenceMinWords = 4
	sentenceMaxWords = 18
	commaOdds        = 12  // a comma after a word
	possessiveOdds   = 90  // "'s" after a word
	numberOdds       = 150 // a number instead of a word
	questionOdds     = 10  // a sentence ends with "?"
	exclamationOdds  = 25  // a sentence ends with "!"
	lineBreakOdds    = 6   // a line break after a sentence
	paragraphOdds    = 30  // a blank line after a sentence
)

// writeText generates sentences until size bytes are written; the last
// byte is always a newline.
func writeText(r *rng, v *vocab, size int) []byte {
	buf := make([]byte, 0, size+64)
	for len(buf) < size {
		n := sentenceMinWords + r.intn(sentenceMaxWords-sentenceMinWords+1)
		for w := range n {
			if r.intn(numberOdds) == 0 {
				buf = appendNumber(buf, r)
			} else {
				word := v.words[v.pick(r)]
				if w == 0 {
					buf = append(buf, word[0]-('a'-'A'))
					buf = append(buf, word[1:]...)
				} else {
					buf = append(buf, word...)
				}
				if r.intn(possessiveOdds) == 0 {
					buf = append(buf, "'s"...)
				}
			}
			if w == n-1 {
				break
			}
			if r.intn(commaOdds) == 0 {
				buf = append(buf, ',')
			}
			buf = append(buf, ' ')
		}
		switch {
		case r.intn(questionOdds) == 0:
			buf = append(buf, '?')
		case r.intn(exclamationOdds) == 0:
			buf = append(buf, '!')
		default:
			buf = append(buf, '.')
		}
		switch {
		case r.intn(paragraphOdds) == 0:
			buf = append(buf, "\n\n"...)
		case r.intn(lineBreakOdds) == 0:
			buf = append(buf, '\n')
		default:
			buf = append(buf, ' ')
		}
	}
	buf = buf[:size]
	buf[size-1] = '\n'
	return buf
}

func appendNumber(buf []byte, r *rng) []byte {
	digits := 1 + r.intn(4)
	buf = append(buf, byte('1'+r.intn(9)))
	for range digits - 1 {
		buf = append(buf, byte('0'+r.intn(10)))
	}
	return buf
}

// rng is splitmix64, written out so the text stream never changes with the
// Go version (math/rand makes no such promise).
type rng struct {
	state uint64
}

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// below returns a number in [0, n).
func (r *rng) below(n uint64) uint64 {
	hi, _ := bits.Mul64(r.next(), n)
	return hi
}

// intn returns a number in [0, n); n must be positive.
func (r *rng) intn(n int) int {
	return int(r.below(uint64(n)))
}

// vocabSize is the number of distinct words; with Zipf weights every word
// shows up in 3.3 MB of text and the full count map is about 40 KB of JSON.
const vocabSize = 3000

// vocabSeed fixes the vocabulary: only the order of words in the texts
// depends on the caller's seed.
const vocabSeed = 0x5eed_0f_70c4b

// commonWords are real English words in rough frequency order; they take
// the top ranks so the texts read a little like English.
var commonWords = []string{
	"the", "of", "and", "to", "a", "in", "is", "it", "you", "that",
	"he", "was", "for", "on", "are", "with", "as", "i", "his", "they",
	"be", "at", "one", "have", "this", "from", "or", "had", "by", "not",
	"word", "but", "what", "some", "we", "can", "out", "other", "were", "all",
	"there", "when", "up", "use", "your", "how", "said", "an", "each", "she",
	"which", "do", "their", "time", "if", "will", "way", "about", "many", "then",
	"them", "write", "would", "like", "so", "these", "her", "long", "make", "thing",
	"see", "him", "two", "has", "look", "more", "day", "could", "go", "come",
	"did", "number", "sound", "no", "most", "people", "my", "over", "know", "water",
	"than", "call", "first", "who", "may", "down", "side", "been", "now", "find",
}

// Pieces of the synthetic words: onset + vowel + optional coda, repeated.
var (
	onsets = []string{"b", "c", "d", "f", "g", "h", "k", "l", "m", "n", "p", "r", "s", "t", "v", "w",
		"br", "ch", "cl", "dr", "gr", "pl", "pr", "sh", "st", "th", "tr", "wh"}
	vowels = []string{"a", "e", "i", "o", "u", "a", "e", "i", "o", "ai", "ea", "ee", "ie", "oo", "ou"}
	codas  = []string{"", "", "", "", "", "n", "r", "s", "t", "l", "m", "nd", "ng", "rt", "st", "ck"}
)

// vocab is a list of distinct words and their cumulative Zipf weights.
type vocab struct {
	words []string
	// cum[i] is the sum of the weights of words[0..i]; weights are integers
	// so picking a word involves no floating point.
	cum []uint64
}

// pick returns the index of a word chosen with probability proportional to
// 1/(rank+1).
func (v *vocab) pick(r *rng) int {
	x := r.below(v.cum[len(v.cum)-1])
	return sort.Search(len(v.cum), func(i int) bool { return v.cum[i] > x })
}

var vocabulary = sync.OnceValue(func() *vocab {
	r := &rng{state: vocabSeed}
	v := &vocab{}
	seen := map[string]bool{}
	for _, w := range commonWords {
		seen[w] = true
		v.words = append(v.words, w)
	}
	for len(v.words) < vocabSize {
		syllables := 1 + r.intn(2)
		if r.intn(4) == 0 {
			syllables++
		}
		var w []byte
		for range syllables {
			w = append(w, onsets[r.intn(len(onsets))]...)
			w = append(w, vowels[r.intn(len(vowels))]...)
			w = append(w, codas[r.intn(len(codas))]...)
		}
		if seen[string(w)] {
			continue
		}
		seen[string(w)] = true
		v.words = append(v.words, string(w))
	}
	// Shorter words are the more frequent ones, as in natural language.
	synthetic := v.words[len(commonWords):]
	slices.SortStableFunc(synthetic, func(a, b string) int { return cmp.Compare(len(a), len(b)) })

	v.cum = make([]uint64, len(v.words))
	var sum uint64
	for i := range v.words {
		sum += (1 << 32) / uint64(i+1)
		v.cum[i] = sum
	}
	return v
})
