// Package fileprocessing is FaaSFlow v1's file-processing benchmark: start
// produces a Markdown document, conversion turns it into HTML while
// sentiment scores it with VADER (a Python function), and upload combines
// the two into the page it would store and returns a receipt of it: the
// page's size and checksum and the score.
//
// Nothing is downloaded: the document is generated from a seed
// (Generate), and the converter (Convert) is written here, for the subset
// of Markdown the generator writes and a little more.
package fileprocessing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// V1Size is the size of the document in FaaSFlow v1's
// fileprocessing.flat_workflow.yaml (start's output file, in bytes).
const V1Size = 29600094

// DefaultSize is the document size of the native workflow when its size
// input is not given: large enough that the document travels through the
// data stores (over 16 KiB), small enough for a fast test.
const DefaultSize = 256 << 10

// MaxSize bounds a generated document, so that a mistaken input fails fast
// instead of exhausting memory; the HTML is somewhat larger and must stay
// under a worker's 256 MiB limit on one output.
const MaxSize = 128 << 20

// Spec says which document to generate.
type Spec struct {
	Seed uint64 `json:"seed"`
	Size int    `json:"size"`
}

// Check reports whether the size is usable.
func (s Spec) Check() error {
	if s.Size < 0 || s.Size > MaxSize {
		return fmt.Errorf("document size %d: must be between 0 and %d bytes", s.Size, MaxSize)
	}
	return nil
}

// ParseSize reads a size input: a number of bytes, or the string "v1" for
// V1Size. null leaves def.
func ParseSize(raw []byte, def int) (int, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return def, nil
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return 0, fmt.Errorf("size %.40q is not JSON: %w", raw, err)
	}
	switch v := v.(type) {
	case float64:
		if v != float64(int(v)) {
			return 0, fmt.Errorf("size %v is not a whole number of bytes", v)
		}
		return int(v), nil
	case string:
		if strings.EqualFold(v, "v1") {
			return V1Size, nil
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return 0, fmt.Errorf("size %q: write a number of bytes or \"v1\" (%d bytes)", v, V1Size)
		}
		return n, nil
	}
	return 0, fmt.Errorf("size %s: write a number of bytes or \"v1\" (%d bytes)", raw, V1Size)
}

// ParseSeed reads a seed input: a non-negative integer, or any string,
// whose FNV-1a hash is the seed. null is seed 0.
func ParseSeed(raw []byte) (uint64, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return 0, nil
	}
	if raw[0] == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("seed %.40q: %w", raw, err)
		}
		return StringSeed(s), nil
	}
	n, err := strconv.ParseUint(string(raw), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("seed %.40q: write a non-negative integer or a string", raw)
	}
	return n, nil
}

// StringSeed is the seed of a string: its 64-bit FNV-1a hash.
func StringSeed(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// ParseFilename reads FaaSFlow v1's filename input, which names the
// document: a number or string is its seed (see ParseSeed) at V1Size, and
// an object {"seed": …, "size": …} chooses both (size as in ParseSize).
func ParseFilename(raw []byte) (Spec, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		seed, err := ParseSeed(raw)
		return Spec{Seed: seed, Size: V1Size}, err
	}
	var obj struct {
		Seed json.RawMessage `json:"seed"`
		Size json.RawMessage `json:"size"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&obj); err != nil {
		return Spec{}, fmt.Errorf("filename %.80s: write a seed or {\"seed\": …, \"size\": …}: %w", raw, err)
	}
	var s Spec
	var err error
	if s.Seed, err = ParseSeed(obj.Seed); err != nil {
		return Spec{}, err
	}
	if s.Size, err = ParseSize(obj.Size, V1Size); err != nil {
		return Spec{}, err
	}
	return s, nil
}

// rng is xorshift64* seeded through splitmix64, so every seed (0 included)
// gives a usable state.
type rng struct{ x uint64 }

func newRNG(seed uint64) *rng {
	z := seed + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	x := z ^ (z >> 31)
	if x == 0 {
		x = 1
	}
	return &rng{x}
}

func (r *rng) next() uint64 {
	r.x ^= r.x >> 12
	r.x ^= r.x << 25
	r.x ^= r.x >> 27
	return r.x * 0x2545f4914f6cdd1d
}

// intn returns a number in [0, n); the modulo bias is irrelevant here.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

func (r *rng) pick(words []string) string { return words[r.intn(len(words))] }

// chance is true with probability pct percent.
func (r *rng) chance(pct int) bool { return r.intn(100) < pct }

// The vocabulary: neutral words, and words of VADER's lexicon in both
// directions, so that documents of different seeds score differently.
var (
	nouns = []string{"team", "report", "server", "garden", "river", "market", "teacher", "engine", "project",
		"city", "meeting", "window", "customer", "library", "budget", "harvest", "bridge", "kitchen", "orchestra",
		"release", "museum", "forecast", "village", "journey", "committee", "network", "festival", "storm"}
	goodAdj = []string{"good", "great", "excellent", "wonderful", "happy", "brilliant", "pleasant", "reliable",
		"elegant", "amazing", "cheerful", "fantastic", "safe", "friendly", "beautiful"}
	badAdj = []string{"bad", "terrible", "awful", "poor", "sad", "broken", "horrible", "ugly", "disappointing",
		"dangerous", "boring", "angry", "painful", "useless", "nasty"}
	plainAdj = []string{"blue", "large", "small", "quiet", "early", "late", "wooden", "public", "annual", "remote",
		"northern", "new", "old", "second", "daily"}
	verbs     = []string{"follows", "replaces", "reaches", "builds", "visits", "changes", "opens", "moves", "checks", "joins"}
	goodVerbs = []string{"loves", "enjoys", "praises", "admires", "helps", "celebrates", "supports", "thanks"}
	badVerbs  = []string{"hates", "fears", "blames", "ruins", "ignores", "attacks", "rejects", "hurts"}
	adverbs   = []string{"very", "extremely", "quite", "slightly", "really", "incredibly", "barely", "somewhat"}
	openers   = []string{"Today", "Yesterday", "In the morning", "After the break", "Meanwhile", "Later",
		"According to the notes", "As expected", "Honestly"}
	emoticons = []string{":)", ":(", ":D", ";)", ":-("}
	langs     = []string{"go", "python", "sh", "json", ""}
	codeLines = []string{"x := load(name)", "if err != nil {", "    return err", "}", "for i < n { i++ }",
		"total += price * count", "print(\"a < b && c > d\")", "# not a heading", "- not a list", "**not bold**"}
)

// gen writes a document: text is the current block's prose, before it is
// wrapped into doc.
type gen struct {
	r    *rng
	doc  []byte
	text []byte
}

func (g *gen) adjective() string { return g.tone(goodAdj, badAdj, plainAdj) }

func (g *gen) verb() string { return g.tone(goodVerbs, badVerbs, verbs) }

// tone picks a word from good, bad or plain, each a third of the time.
func (g *gen) tone(good, bad, plain []string) string {
	return g.r.pick([][]string{good, bad, plain}[g.r.intn(3)])
}

// word appends w to the text, sometimes wrapped in Markdown inline markup
// or in capitals (VADER reads capitals as emphasis).
func (g *gen) word(w string) {
	t := g.text
	switch g.r.intn(40) {
	case 0:
		t = append(append(append(t, '*'), w...), '*')
	case 1:
		t = append(append(append(t, "**"...), w...), "**"...)
	case 2:
		t = append(append(append(t, '_'), w...), '_')
	case 3:
		t = append(append(append(t, '`'), w...), '`')
	case 4:
		t = append(append(append(t, '['), w...), "](https://example.com/"...)
		t = append(append(t, w...), "?ref=doc&v=1)"...)
	case 5:
		for i := 0; i < len(w); i++ {
			t = append(t, w[i]-'a'+'A')
		}
	default:
		t = append(t, w...)
	}
	g.text = t
}

func (g *gen) str(s string) { g.text = append(g.text, s...) }

func (g *gen) nounPhrase() {
	g.str("the ")
	if g.r.chance(50) {
		if g.r.chance(25) {
			g.str(g.r.pick(adverbs))
			g.str(" ")
		}
		g.word(g.adjective())
		g.str(" ")
	}
	g.word(g.r.pick(nouns))
}

// sentence appends one sentence and a space to the text.
func (g *gen) sentence() {
	first := len(g.text)
	switch g.r.intn(9) {
	case 0, 1:
		g.nounPhrase()
		g.str(" ")
		g.word(g.verb())
		g.str(" ")
		g.nounPhrase()
		g.str(".")
	case 2:
		g.nounPhrase()
		g.str(" is " + g.r.pick(adverbs) + " ")
		g.word(g.adjective())
		g.str(".")
	case 3:
		g.nounPhrase()
		g.str(" is not ")
		g.word(g.adjective())
		g.str(".")
	case 4:
		g.nounPhrase()
		g.str(" " + g.verb() + " ")
		g.nounPhrase()
		g.str(", but ")
		g.nounPhrase()
		g.str(" is " + g.adjective() + ".")
	case 5:
		g.str("why is ")
		g.nounPhrase()
		g.str(" so " + g.adjective() + "?")
	case 6:
		g.str(g.r.pick(openers) + ", ")
		g.nounPhrase()
		g.str(" " + g.verb() + " ")
		g.nounPhrase()
		g.str("!")
	case 7:
		g.str("R&D says ")
		g.nounPhrase()
		g.str(" < ")
		g.nounPhrase()
		g.str(" \"" + g.adjective() + "\".")
	default:
		g.nounPhrase()
		g.str(" never " + g.verb() + " ")
		g.nounPhrase()
		g.str(".")
	}
	if g.r.chance(6) {
		g.str(" " + g.r.pick(emoticons))
	}
	if c := g.text[first]; c >= 'a' && c <= 'z' {
		g.text[first] = c - 'a' + 'A'
	}
	g.str(" ")
}

// wrap moves the text into the document as lines of at most about width
// bytes: the first line starts with first, the others with prefix.
func (g *gen) wrap(first, prefix string, width int) {
	n := 0
	text := g.text
	for len(text) > 0 {
		i := bytes.IndexByte(text, ' ')
		if i < 0 {
			i = len(text)
		}
		w := text[:i]
		text = text[min(i+1, len(text)):]
		if len(w) == 0 {
			continue
		}
		if n > 0 && n+1+len(w) > width {
			g.doc = append(g.doc, '\n')
			n = 0
		}
		if n == 0 {
			p := prefix
			if first != "" {
				p, first = first, ""
			}
			g.doc = append(g.doc, p...)
			n = len(p)
		} else {
			g.doc = append(g.doc, ' ')
			n++
		}
		g.doc = append(g.doc, w...)
		n += len(w)
	}
	g.doc = append(g.doc, '\n')
	g.text = g.text[:0]
}

func (g *gen) title() {
	g.str(g.adjective())
	g.str(" " + g.r.pick(nouns) + " and the " + g.r.pick(nouns))
	if c := g.text[0]; c >= 'a' && c <= 'z' {
		g.text[0] = c - 'a' + 'A'
	}
}

// block appends one Markdown block followed by a blank line.
func (g *gen) block() {
	switch k := g.r.intn(100); {
	case k < 8:
		g.title()
		g.doc = append(g.doc, "######"[:2+g.r.intn(3)]...)
		g.doc = append(append(append(g.doc, ' '), g.text...), '\n')
		g.text = g.text[:0]
	case k < 18:
		for range 2 + g.r.intn(4) {
			g.sentence()
			g.wrap("- ", "  ", 78)
		}
	case k < 25:
		for i := range 2 + g.r.intn(4) {
			g.sentence()
			g.doc = strconv.AppendInt(g.doc, int64(i+1), 10)
			g.doc = append(append(append(g.doc, ". "...), bytes.TrimSuffix(g.text, []byte(" "))...), '\n')
			g.text = g.text[:0]
		}
	case k < 33:
		for range 1 + g.r.intn(3) {
			g.sentence()
		}
		g.wrap("> ", "> ", 78)
	case k < 40:
		g.doc = append(append(append(g.doc, "```"...), g.r.pick(langs)...), '\n')
		for range 1 + g.r.intn(5) {
			g.doc = append(append(g.doc, g.r.pick(codeLines)...), '\n')
		}
		g.doc = append(g.doc, "```\n"...)
	case k < 43:
		g.doc = append(g.doc, "---\n"...)
	default:
		for range 2 + g.r.intn(5) {
			g.sentence()
		}
		g.wrap("", "", 78)
	}
	g.doc = append(g.doc, '\n')
}

// Generate returns the Markdown document of spec: exactly spec.Size bytes
// of ASCII that depend only on the seed, a title followed by paragraphs,
// headings, lists, quotes and code blocks. The last byte is a newline; the
// block it ends in may be cut short (an unclosed code block, say), which
// the converter handles like any other input. A shorter document of the
// same seed is a prefix of a longer one, but for its last byte. It panics
// if spec does not pass Check.
func Generate(spec Spec) []byte {
	if err := spec.Check(); err != nil {
		panic(err)
	}
	if spec.Size == 0 {
		return []byte{}
	}
	g := &gen{r: newRNG(spec.Seed), doc: make([]byte, 0, spec.Size+4096)}
	g.doc = append(g.doc, "# "...)
	g.title()
	g.doc = append(append(g.doc, g.text...), "\n\n"...)
	g.text = g.text[:0]
	for len(g.doc) < spec.Size {
		g.block()
	}
	doc := g.doc[:spec.Size:spec.Size]
	doc[len(doc)-1] = '\n'
	return doc
}

// InputSpec reads the document spec from the inputs of start that are
// present: filename (FaaSFlow v1's workflow, see ParseFilename), or seed
// and size (the native workflow: see ParseSeed and ParseSize; size defaults
// to DefaultSize).
func InputSpec(inputs map[string][]byte) (Spec, error) {
	var s Spec
	var err error
	if raw, ok := inputs["filename"]; ok {
		s, err = ParseFilename(raw)
	} else {
		if s.Seed, err = ParseSeed(inputs["seed"]); err == nil {
			s.Size, err = ParseSize(inputs["size"], DefaultSize)
		}
	}
	if err != nil {
		return Spec{}, err
	}
	return s, s.Check()
}
