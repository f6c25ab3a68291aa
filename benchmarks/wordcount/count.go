package wordcount

import (
	"cmp"
	"slices"
)

// TopN is how many words Result.Top lists.
const TopN = 10

// Count returns how many times each word occurs in text. A word is a
// maximal run of the ASCII letters a-z once upper case is folded to lower
// case; every other byte (digits, apostrophes, punctuation, white space and
// non-ASCII bytes) ends a word.
func Count(text []byte) map[string]int {
	c := counter{slots: map[string]int{}}
	word := make([]byte, 0, 64)
	for _, b := range text {
		if 'A' <= b && b <= 'Z' {
			b += 'a' - 'A'
		}
		if 'a' <= b && b <= 'z' {
			word = append(word, b)
			continue
		}
		if len(word) > 0 {
			c.add(word)
			word = word[:0]
		}
	}
	if len(word) > 0 {
		c.add(word)
	}
	return c.counts()
}

// counter counts words without allocating per word: looking a word up with
// slots[string(word)] does not allocate, but storing to that key does, so
// slots holds each word's index in n and is stored to once per distinct word.
type counter struct {
	slots map[string]int
	n     []int
}

func (c *counter) add(word []byte) {
	i, ok := c.slots[string(word)]
	if !ok {
		i = len(c.n)
		c.slots[string(word)] = i
		c.n = append(c.n, 0)
	}
	c.n[i]++
}

// counts turns slots into the word counts; the counter is spent.
func (c *counter) counts() map[string]int {
	for w, i := range c.slots {
		c.slots[w] = c.n[i]
	}
	return c.slots
}

// WordCount is one word and how many times it occurs.
type WordCount struct {
	Word  string `json:"word"`
	Count int    `json:"count"`
}

// Result is the output of the merge function.
type Result struct {
	// Total is the number of words counted.
	Total int `json:"total"`
	// Distinct is the number of different words.
	Distinct int `json:"distinct"`
	// Top is the TopN most frequent words, most frequent first, ties in
	// word order; shorter when there are fewer words.
	Top []WordCount `json:"top"`
	// Counts is every word's count.
	Counts map[string]int `json:"counts"`
}

// Merge adds up the counts of several texts.
func Merge(parts []map[string]int) Result {
	counts := map[string]int{}
	total := 0
	for _, part := range parts {
		for w, n := range part {
			counts[w] += n
			total += n
		}
	}
	return Result{Total: total, Distinct: len(counts), Top: top(counts, TopN), Counts: counts}
}

// top returns the n most frequent words, ties broken by word.
func top(counts map[string]int, n int) []WordCount {
	all := make([]WordCount, 0, len(counts))
	for w, c := range counts {
		all = append(all, WordCount{Word: w, Count: c})
	}
	slices.SortFunc(all, func(a, b WordCount) int {
		if a.Count != b.Count {
			return cmp.Compare(b.Count, a.Count)
		}
		return cmp.Compare(a.Word, b.Word)
	})
	return slices.Clone(all[:min(n, len(all))])
}

// Direct is the answer the wordcount workflow must give for seed: the texts
// counted in this process, without the engine.
func Direct(seed uint64) Result {
	texts := Texts(seed)
	parts := make([]map[string]int, len(texts))
	for i, text := range texts {
		parts[i] = Count(text)
	}
	return Merge(parts)
}
