package fileprocessing

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
	"time"
)

func TestConvert(t *testing.T) {
	tests := []struct {
		name, md, want string
	}{
		{"empty", "", ""},
		{"blank lines", "\n  \n\t\n", ""},
		{"paragraph", "one\ntwo  \n\nthree\n", "<p>one\ntwo</p>\n<p>three</p>\n"},
		{"crlf", "one\r\ntwo\r\n", "<p>one\ntwo</p>\n"},
		{"no final newline", "text", "<p>text</p>\n"},
		{"escaping", `a < b & "c" > d`, "<p>a &lt; b &amp; &quot;c&quot; &gt; d</p>\n"},
		{"raw html is text", "<b>x</b>", "<p>&lt;b&gt;x&lt;/b&gt;</p>\n"},
		{"headings", "# One\n## Two ##\n###### Six\n####### seven\n#tag\n#\n",
			"<h1>One</h1>\n<h2>Two</h2>\n<h6>Six</h6>\n<p>####### seven\n#tag</p>\n<h1></h1>\n"},
		{"heading keeps inner #", "# C# rocks #\n", "<h1>C# rocks</h1>\n"},
		{"heading ends paragraph", "text\n# Head\nmore\n", "<p>text</p>\n<h1>Head</h1>\n<p>more</p>\n"},
		{"thematic breaks", "---\n* * *\n___\n--\n", "<hr />\n<hr />\n<hr />\n<p>--</p>\n"},
		{"fenced code", "```go\nx := a < b\n  y\n```\nafter\n",
			"<pre><code class=\"language-go\">x := a &lt; b\n  y\n</code></pre>\n<p>after</p>\n"},
		{"tilde fence, longer close", "~~~\n```\n~~~~\n", "<pre><code>```\n</code></pre>\n"},
		{"indented fence", "  ```\n  a\n    b\nc\n  ```\n", "<pre><code>a\n  b\nc\n</code></pre>\n"},
		{"unclosed fence", "```\ncode\n# not a heading\n", "<pre><code>code\n# not a heading\n</code></pre>\n"},
		{"fence with info words", "``` python extra\nx\n```\n", "<pre><code class=\"language-python\">x\n</code></pre>\n"},
		{"backticks in info are not a fence", "``` a`b\n", "<p>``` a`b</p>\n"},
		{"block quote", "> one\n> two\n>\n> # h\n", "<blockquote>\n<p>one\ntwo</p>\n<h1>h</h1>\n</blockquote>\n"},
		{"nested quote", "> > deep\n", "<blockquote>\n<blockquote>\n<p>deep</p>\n</blockquote>\n</blockquote>\n"},
		{"bullet list", "- a\n- b\n  more\n- c\n\nafter\n", "<ul>\n<li>a</li>\n<li>b\nmore</li>\n<li>c</li>\n</ul>\n<p>after</p>\n"},
		{"list marker change ends list", "- a\n+ b\n", "<ul>\n<li>a</li>\n</ul>\n<ul>\n<li>b</li>\n</ul>\n"},
		{"ordered list", "1. one\n2. two\n", "<ol>\n<li>one</li>\n<li>two</li>\n</ol>\n"},
		{"ordered list start", "3) three\n4) four\n", "<ol start=\"3\">\n<li>three</li>\n<li>four</li>\n</ol>\n"},
		{"list ends paragraph", "text\n- item\n", "<p>text</p>\n<ul>\n<li>item</li>\n</ul>\n"},
		{"ordered list from 2 does not interrupt", "text\n2. more\n- a\n3. b\n", "<p>text\n2. more</p>\n<ul>\n<li>a\n3. b</li>\n</ul>\n"},
		{"not list markers", "-a\n1.b\n", "<p>-a\n1.b</p>\n"},
		{"emphasis", "*a* _b_ **c** __d__", "<p><em>a</em> <em>b</em> <strong>c</strong> <strong>d</strong></p>\n"},
		{"nested emphasis", "**a *b* c**", "<p><strong>a <em>b</em> c</strong></p>\n"},
		{"unmatched emphasis", "a * b *c **d", "<p>a * b *c **d</p>\n"},
		{"intraword underscore", "snake_case_name", "<p>snake_case_name</p>\n"},
		{"emphasis needs no space inside", "* a*", "<ul>\n<li>a*</li>\n</ul>\n"},
		{"triple run is text", "***a***", "<p>***a***</p>\n"},
		{"code span", "use `a < b` and `` x`y ``", "<p>use <code>a &lt; b</code> and <code>x`y</code></p>\n"},
		{"code span hides emphasis", "*a `*` b*", "<p><em>a <code>*</code> b</em></p>\n"},
		{"unmatched backticks", "a `` b ` c", "<p>a `` b ` c</p>\n"},
		{"backslash escapes", `\*not em\* \# \\ \a`, "<p>*not em* # \\ \\a</p>\n"},
		{"link", "[the *site*](https://example.com/?a=1&b=2)", "<p><a href=\"https://example.com/?a=1&amp;b=2\">the <em>site</em></a></p>\n"},
		{"image", `![a *cat*](cat.png "t")`, "<p>![a <em>cat</em>](cat.png &quot;t&quot;)</p>\n"},
		{"image ok", "![a *cat*](cat.png)", "<p><img src=\"cat.png\" alt=\"a cat\" /></p>\n"},
		{"not links", "[a] (b) [c](d e) [f](g", "<p>[a] (b) [c](d e) [f](g</p>\n"},
		{"bang alone", "wow! [x](y)", "<p>wow! <a href=\"y\">x</a></p>\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := string(Convert([]byte(tt.md))); got != tt.want {
				t.Errorf("Convert(%q)\n got %q\nwant %q", tt.md, got, tt.want)
			}
		})
	}
}

// wellFormed checks that html is well-formed XML once wrapped in one
// element: every tag closed, every & < > escaped.
func wellFormed(html []byte) error {
	d := xml.NewDecoder(io.MultiReader(strings.NewReader("<div>"), bytes.NewReader(html), strings.NewReader("</div>")))
	d.Strict = true
	for {
		if _, err := d.Token(); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func TestConvertGeneratedIsWellFormed(t *testing.T) {
	var all []byte
	for seed := range uint64(20) {
		doc := Generate(Spec{Seed: seed, Size: 8 << 10})
		html := Convert(doc)
		if err := wellFormed(html); err != nil {
			t.Fatalf("seed %d: %v\n%s", seed, err, html)
		}
		all = append(all, html...)
	}
	for _, tag := range []string{"<h1>", "<h2>", "<h3>", "<h4>", "<p>", "<ul>", "<ol>", "<blockquote>", "<pre><code",
		"<hr />", "<em>", "<strong>", "<code>", "<a href=", "&amp;", "&lt;", "&quot;"} {
		if !bytes.Contains(all, []byte(tag)) {
			t.Errorf("no %s in the HTML of 20 documents", tag)
		}
	}
}

// TestConvertIsLinear guards the closing-delimiter search: a long paragraph
// of unmatched openers would take quadratic time without its memo.
func TestConvertIsLinear(t *testing.T) {
	md := bytes.Repeat([]byte("*a _b `c **d __e ![f [g "), 1<<14)
	start := time.Now()
	html := Convert(md)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("%d bytes of unmatched markup took %v", len(md), d)
	}
	if err := wellFormed(html); err != nil {
		t.Fatal(err)
	}
}

func FuzzConvert(f *testing.F) {
	for _, s := range []string{"# h\n> q\n- l\n1. o\n```x\nc\n", "*a **b** `c`* [d](e) ![f](g) \\*", "> > > ``\n~~~\n"} {
		f.Add([]byte(s))
	}
	f.Add(Generate(Spec{Seed: 3, Size: 2000}))
	f.Fuzz(func(t *testing.T, md []byte) {
		html := Convert(md)
		if !bytes.ContainsFunc(md, func(r rune) bool { return r < 0x20 && r != '\n' && r != '\t' && r != '\r' || r == 0xfffd }) {
			if err := wellFormed(html); err != nil {
				t.Fatalf("Convert(%q) = %q: %v", md, html, err)
			}
		}
	})
}
