package fileprocessing

import (
	"bytes"
	"strconv"
)

// Convert renders Markdown as HTML. It handles a subset of CommonMark, and
// writes what it handles as CommonMark's reference renderer does:
//
//   - ATX headings (# to ######, closing #s dropped);
//   - paragraphs (consecutive non-blank lines, each trimmed);
//   - thematic breaks (three or more -, * or _, spaces allowed) as <hr />;
//   - fenced code blocks (``` or ~~~, info string as class="language-…";
//     unclosed at the end of the input, they run to the end);
//   - block quotes (lines starting with >, contents converted again);
//   - bullet lists (-, + or *) and ordered lists (1. or 1)), one item per
//     marker line, with its non-blank continuation lines; a blank line or
//     another kind of block ends the list (an ordered list interrupts a
//     paragraph only when it starts at 1);
//   - inline: backslash escapes, code spans, *emphasis* and _emphasis_,
//     **strong** and __strong__, [links](url) and ![images](src).
//
// Not handled: setext headings, indented code blocks, nested lists, loose
// lists (a blank line inside a list), reference links, autolinks, hard line
// breaks, tables and raw HTML, which is escaped like any text. Every input
// is valid; the output is well-formed (X)HTML for every input.
func Convert(md []byte) []byte {
	var c converter
	c.out.Grow(len(md) + len(md)/4)
	c.blocks(lines(md))
	return c.out.Bytes()
}

type converter struct {
	out   bytes.Buffer
	depth int // of block quotes
}

// maxDepth bounds the nesting of block quotes; deeper > are text.
const maxDepth = 64

// lines splits src at newlines (dropping a carriage return before one),
// without a last empty line when src ends in a newline.
func lines(src []byte) [][]byte {
	n := bytes.Count(src, []byte{'\n'}) + 1
	out := make([][]byte, 0, n)
	for len(src) > 0 {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			out = append(out, src)
			break
		}
		out = append(out, bytes.TrimSuffix(src[:i], []byte{'\r'}))
		src = src[i+1:]
	}
	return out
}

func isBlank(l []byte) bool { return len(bytes.Trim(l, " \t")) == 0 }

// indent returns the number of leading spaces of l, and l without them.
func indent(l []byte) (int, []byte) {
	n := 0
	for n < len(l) && l[n] == ' ' {
		n++
	}
	return n, l[n:]
}

// heading returns the level and text of an ATX heading line, or level 0.
func heading(l []byte) (int, []byte) {
	n, l := indent(l)
	if n > 3 {
		return 0, nil
	}
	level := 0
	for level < len(l) && l[level] == '#' {
		level++
	}
	if level == 0 || level > 6 || (level < len(l) && l[level] != ' ' && l[level] != '\t') {
		return 0, nil
	}
	text := bytes.Trim(l[level:], " \t")
	// A closing sequence of #s is dropped if a space precedes it (or it is
	// all there is).
	end := len(text)
	for end > 0 && text[end-1] == '#' {
		end--
	}
	if end == 0 {
		text = text[:0]
	} else if end < len(text) && (text[end-1] == ' ' || text[end-1] == '\t') {
		text = bytes.TrimRight(text[:end], " \t")
	}
	return level, text
}

// isBreak reports whether l is a thematic break.
func isBreak(l []byte) bool {
	n, l := indent(l)
	if n > 3 || len(l) == 0 || (l[0] != '-' && l[0] != '*' && l[0] != '_') {
		return false
	}
	count := 0
	for _, c := range l {
		switch c {
		case l[0]:
			count++
		case ' ', '\t':
		default:
			return false
		}
	}
	return count >= 3
}

// fence returns the fence character and length of an opening code fence
// line, its indentation and its info string; length 0 if l is none.
func fence(l []byte) (ch byte, length, ind int, info []byte) {
	ind, l = indent(l)
	if ind > 3 || len(l) < 3 || (l[0] != '`' && l[0] != '~') {
		return 0, 0, 0, nil
	}
	ch = l[0]
	for length < len(l) && l[length] == ch {
		length++
	}
	if length < 3 {
		return 0, 0, 0, nil
	}
	info = bytes.Trim(l[length:], " \t")
	if ch == '`' && bytes.IndexByte(info, '`') >= 0 {
		return 0, 0, 0, nil
	}
	if i := bytes.IndexAny(info, " \t"); i >= 0 {
		info = info[:i]
	}
	return ch, length, ind, info
}

// isClose reports whether l closes a fence of ch repeated length times.
func isClose(l []byte, ch byte, length int) bool {
	n, l := indent(l)
	if n > 3 {
		return false
	}
	k := 0
	for k < len(l) && l[k] == ch {
		k++
	}
	return k >= length && isBlank(l[k:])
}

// quote returns the contents of a block quote line, and whether l is one.
func quote(l []byte) ([]byte, bool) {
	n, l := indent(l)
	if n > 3 || len(l) == 0 || l[0] != '>' {
		return nil, false
	}
	l = l[1:]
	if len(l) > 0 && (l[0] == ' ' || l[0] == '\t') {
		l = l[1:]
	}
	return l, true
}

// listItem returns the marker of a list item line ('-', '+', '*', or '.'
// or ')' for ordered lists), the number of an ordered item, and the item's
// text; marker 0 if l is none.
func listItem(l []byte) (marker byte, num int, text []byte) {
	n, l := indent(l)
	if n > 3 || len(l) == 0 {
		return 0, 0, nil
	}
	i := 0
	switch l[0] {
	case '-', '+', '*':
		marker, i = l[0], 1
	default:
		for i < len(l) && i < 9 && l[i] >= '0' && l[i] <= '9' {
			i++
		}
		if i == 0 || i >= len(l) || (l[i] != '.' && l[i] != ')') {
			return 0, 0, nil
		}
		num, _ = strconv.Atoi(string(l[:i]))
		marker = l[i]
		i++
	}
	if i < len(l) && l[i] != ' ' && l[i] != '\t' {
		return 0, 0, nil
	}
	return marker, num, bytes.Trim(l[i:], " \t")
}

// startsBlock reports whether l starts a block other than a paragraph, so
// that it ends a paragraph or list item before it.
func startsBlock(l []byte) bool {
	if lv, _ := heading(l); lv > 0 {
		return true
	}
	if isBreak(l) {
		return true
	}
	if _, n, _, _ := fence(l); n > 0 {
		return true
	}
	if _, ok := quote(l); ok {
		return true
	}
	// As in CommonMark, an ordered list interrupts a paragraph only from 1.
	m, num, text := listItem(l)
	return m != 0 && len(text) > 0 && (num == 1 || m == '-' || m == '+' || m == '*')
}

func (c *converter) blocks(ls [][]byte) {
	for i := 0; i < len(ls); {
		l := ls[i]
		if isBlank(l) {
			i++
			continue
		}
		if ch, n, ind, info := fence(l); n > 0 {
			i = c.code(ls, i+1, ch, n, ind, info)
			continue
		}
		if lv, text := heading(l); lv > 0 {
			c.out.WriteString("<h" + strconv.Itoa(lv) + ">")
			c.inline(text)
			c.out.WriteString("</h" + strconv.Itoa(lv) + ">\n")
			i++
			continue
		}
		if isBreak(l) {
			c.out.WriteString("<hr />\n")
			i++
			continue
		}
		if _, ok := quote(l); ok && c.depth < maxDepth {
			var inner [][]byte
			for ; i < len(ls); i++ {
				q, ok := quote(ls[i])
				if !ok {
					break
				}
				inner = append(inner, q)
			}
			c.out.WriteString("<blockquote>\n")
			c.depth++
			c.blocks(inner)
			c.depth--
			c.out.WriteString("</blockquote>\n")
			continue
		}
		if m, _, _ := listItem(l); m != 0 {
			i = c.list(ls, i)
			continue
		}
		i = c.paragraph(ls, i)
	}
}

// code writes a fenced code block whose contents start at line i, and
// returns the line after its closing fence.
func (c *converter) code(ls [][]byte, i int, ch byte, n, ind int, info []byte) int {
	c.out.WriteString("<pre><code")
	if len(info) > 0 {
		c.out.WriteString(` class="language-`)
		c.escape(unescapeBackslashes(info))
		c.out.WriteByte('"')
	}
	c.out.WriteByte('>')
	for ; i < len(ls); i++ {
		l := ls[i]
		if isClose(l, ch, n) {
			i++
			break
		}
		// As much of the fence's indentation is removed from each line.
		for k := 0; k < ind && len(l) > 0 && l[0] == ' '; k++ {
			l = l[1:]
		}
		c.escape(l)
		c.out.WriteByte('\n')
	}
	c.out.WriteString("</code></pre>\n")
	return i
}

// list writes the list starting at line i and returns the line after it.
func (c *converter) list(ls [][]byte, i int) int {
	marker, num, _ := listItem(ls[i])
	tag := "ul"
	if marker == '.' || marker == ')' {
		tag = "ol"
	}
	if tag == "ol" && num != 1 {
		c.out.WriteString(`<ol start="` + strconv.Itoa(num) + `">` + "\n")
	} else {
		c.out.WriteString("<" + tag + ">\n")
	}
	var item [][]byte
	flush := func() {
		c.out.WriteString("<li>")
		c.inline(bytes.Join(item, []byte{'\n'}))
		c.out.WriteString("</li>\n")
		item = item[:0]
	}
	for i < len(ls) {
		l := ls[i]
		if m, _, text := listItem(l); m == marker {
			if len(item) > 0 {
				flush()
			}
			item = append(item, text)
			i++
			continue
		}
		if isBlank(l) || startsBlock(l) {
			break
		}
		item = append(item, bytes.Trim(l, " \t"))
		i++
	}
	flush()
	c.out.WriteString("</" + tag + ">\n")
	return i
}

// paragraph writes the paragraph starting at line i and returns the line
// after it.
func (c *converter) paragraph(ls [][]byte, i int) int {
	start := i
	for i++; i < len(ls) && !isBlank(ls[i]) && !startsBlock(ls[i]); i++ {
	}
	c.out.WriteString("<p>")
	for k := start; k < i; k++ {
		if k > start {
			c.out.WriteByte('\n')
		}
		c.inline(bytes.Trim(ls[k], " \t"))
	}
	c.out.WriteString("</p>\n")
	return i
}

func isPunct(b byte) bool {
	return (b >= '!' && b <= '/') || (b >= ':' && b <= '@') || (b >= '[' && b <= '`') || (b >= '{' && b <= '~')
}

func isSpace(b byte) bool { return b == ' ' || b == '\t' || b == '\n' }

func isAlnum(b byte) bool {
	return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z')
}

// unescapeBackslashes removes the backslash of each backslash escape.
func unescapeBackslashes(s []byte) []byte {
	if bytes.IndexByte(s, '\\') < 0 {
		return s
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) && isPunct(s[i+1]) {
			i++
		}
		out = append(out, s[i])
	}
	return out
}

// escape writes s with &, <, > and " escaped.
func (c *converter) escape(s []byte) {
	last := 0
	for i, b := range s {
		var rep string
		switch b {
		case '&':
			rep = "&amp;"
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		case '"':
			rep = "&quot;"
		default:
			continue
		}
		c.out.Write(s[last:i])
		c.out.WriteString(rep)
		last = i + 1
	}
	c.out.Write(s[last:])
}

// run returns the length of the run of b at the start of s.
func run(s []byte, b byte) int {
	n := 0
	for n < len(s) && s[n] == b {
		n++
	}
	return n
}

// inline writes the inline content s. A search for a closing delimiter or
// backtick run that failed is not repeated for later openers of the same
// kind (there is no closer further on either), which keeps the time linear
// in the length of s for each level of nesting.
func (c *converter) inline(s []byte) {
	var noTicks map[int]bool
	var noDelim [2][3]bool // by delimiter (*, _) and run length
	last := 0              // s[last:i] is plain text not yet written
	for i := 0; i < len(s); {
		b := s[i]
		switch b {
		case '\\':
			if i+1 < len(s) && isPunct(s[i+1]) {
				c.escape(s[last:i])
				c.escape(s[i+1 : i+2])
				i += 2
				last = i
				continue
			}
		case '`':
			n := run(s[i:], '`')
			end := -1
			if !noTicks[n] {
				if end = closingTicks(s, i+n, n); end < 0 {
					if noTicks == nil {
						noTicks = make(map[int]bool)
					}
					noTicks[n] = true
				}
			}
			if end >= 0 {
				c.escape(s[last:i])
				code := s[i+n : end]
				if len(code) >= 2 && code[0] == ' ' && code[len(code)-1] == ' ' && len(bytes.Trim(code, " ")) > 0 {
					code = code[1 : len(code)-1]
				}
				c.out.WriteString("<code>")
				c.escape(code)
				c.out.WriteString("</code>")
				i = end + n
				last = i
				continue
			}
			i += n // an unmatched run is text, all of it
			continue
		case '*', '_':
			n := run(s[i:], b)
			d := 0
			if b == '_' {
				d = 1
			}
			if n <= 2 && !noDelim[d][n] && (b == '*' || i == 0 || !isAlnum(s[i-1])) && i+n < len(s) && !isSpace(s[i+n]) {
				end := closingDelim(s, i+n, b, n)
				if end < 0 {
					noDelim[d][n] = true
				} else {
					c.escape(s[last:i])
					tag := "em"
					if n == 2 {
						tag = "strong"
					}
					c.out.WriteString("<" + tag + ">")
					c.inline(s[i+n : end])
					c.out.WriteString("</" + tag + ">")
					i = end + n
					last = i
					continue
				}
			}
			i += n
			continue
		case '!', '[':
			img := b == '!'
			if img && (i+1 >= len(s) || s[i+1] != '[') {
				break
			}
			open := i
			if img {
				open++
			}
			if text, url, end, ok := link(s, open); ok {
				c.escape(s[last:i])
				if img {
					c.out.WriteString(`<img src="`)
					c.escape(unescapeBackslashes(url))
					c.out.WriteString(`" alt="`)
					c.escape(plainText(text))
					c.out.WriteString(`" />`)
				} else {
					c.out.WriteString(`<a href="`)
					c.escape(unescapeBackslashes(url))
					c.out.WriteString(`">`)
					c.inline(text)
					c.out.WriteString("</a>")
				}
				i = end
				last = i
				continue
			}
		}
		i++
	}
	c.escape(s[last:])
}

// closingTicks returns the start of the first run of exactly n backticks
// in s from i, or -1.
func closingTicks(s []byte, i, n int) int {
	for i < len(s) {
		j := bytes.IndexByte(s[i:], '`')
		if j < 0 {
			return -1
		}
		i += j
		k := run(s[i:], '`')
		if k == n {
			return i
		}
		i += k
	}
	return -1
}

// closingDelim returns the start of the first run of exactly n delimiters
// b in s from i that can close (not after a space, and for _ not before a
// letter or digit), skipping code spans, or -1.
func closingDelim(s []byte, i int, b byte, n int) int {
	for i < len(s) {
		switch s[i] {
		case '\\':
			i += 2
			continue
		case '`':
			k := run(s[i:], '`')
			if end := closingTicks(s, i+k, k); end >= 0 {
				i = end + k
			} else {
				i += k
			}
			continue
		case b:
			k := run(s[i:], b)
			if k == n && !isSpace(s[i-1]) && (b == '*' || i+k == len(s) || !isAlnum(s[i+k])) {
				return i
			}
			i += k
			continue
		}
		i++
	}
	return -1
}

// link parses [text](url) at s[open] == '[': no brackets inside the text,
// no spaces or parentheses inside the url. It returns the text, the url
// and the end of the link.
func link(s []byte, open int) (text, url []byte, end int, ok bool) {
	close := -1
	for k := open + 1; k < len(s); k++ {
		if s[k] == '\\' {
			k++
			continue
		}
		if s[k] == '[' {
			return nil, nil, 0, false
		}
		if s[k] == ']' {
			close = k
			break
		}
	}
	if close < 0 || close+1 >= len(s) || s[close+1] != '(' {
		return nil, nil, 0, false
	}
	k := close + 2
	for k < len(s) && s[k] != ')' {
		if isSpace(s[k]) || s[k] == '(' {
			return nil, nil, 0, false
		}
		if s[k] == '\\' {
			k++
		}
		k++
	}
	if k >= len(s) {
		return nil, nil, 0, false
	}
	return s[open+1 : close], s[close+2 : k], k + 1, true
}

// plainText is an image's alt text: its inline markup characters dropped.
func plainText(s []byte) []byte {
	s = unescapeBackslashes(s)
	return bytes.Map(func(r rune) rune {
		if r == '*' || r == '_' || r == '`' {
			return -1
		}
		return r
	}, s)
}
