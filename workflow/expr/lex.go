package expr

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// tokKind is the kind of a lexical token.
type tokKind int

const (
	tokEOF    tokKind = iota
	tokIdent          // a.b, illegal, _x
	tokNumber         // 1, -2.5, 1e3
	tokString         // 'a' or "a", unescaped in val
	tokTrue           // true, True
	tokFalse          // false, False
	tokNull           // null, None
	tokAnd            // && and
	tokOr             // || or
	tokNot            // ! not
	tokCmp            // == != < <= > >=
	tokLParen         // (
	tokRParen         // )
)

// token is one lexical token. text is the operator or identifier as written;
// num and str hold the literal's value.
type token struct {
	kind tokKind
	text string
	num  float64
	str  string
	pos  int // byte offset in the source
}

// describe names the token for error messages.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "end of condition"
	case tokString:
		return "string " + quote(t.str)
	case tokNumber:
		return "number " + t.text
	case tokIdent:
		return fmt.Sprintf("name %q", t.text)
	default:
		return fmt.Sprintf("%q", t.text)
	}
}

// keywords maps word tokens to their kinds; both the JSON spelling and
// Python's (used by DataFlower files) are accepted.
var keywords = map[string]tokKind{
	"true":  tokTrue,
	"True":  tokTrue,
	"false": tokFalse,
	"False": tokFalse,
	"null":  tokNull,
	"None":  tokNull,
	"and":   tokAnd,
	"or":    tokOr,
	"not":   tokNot,
}

// lexer splits a condition into tokens.
type lexer struct {
	src string
	pos int
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// next returns the next token, or a *SyntaxError.
func (l *lexer) next() (token, error) {
	for l.pos < len(l.src) && strings.IndexByte(" \t\r\n", l.src[l.pos]) >= 0 {
		l.pos++
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tokEOF, pos: start}, nil
	}
	c := l.src[l.pos]
	two := ""
	if l.pos+1 < len(l.src) {
		two = l.src[l.pos : l.pos+2]
	}
	op := func(kind tokKind, text string) (token, error) {
		l.pos += len(text)
		return token{kind: kind, text: text, pos: start}, nil
	}
	switch {
	case two == "==" || two == "!=" || two == "<=" || two == ">=":
		return op(tokCmp, two)
	case two == "&&":
		return op(tokAnd, two)
	case two == "||":
		return op(tokOr, two)
	case c == '<' || c == '>':
		return op(tokCmp, string(c))
	case c == '!':
		return op(tokNot, "!")
	case c == '(':
		return op(tokLParen, "(")
	case c == ')':
		return op(tokRParen, ")")
	case c == '=':
		return token{}, l.errorf(start, `"=" is not an operator: write "==" to compare`)
	case c == '&':
		return token{}, l.errorf(start, `"&" is not an operator: write "&&" or "and"`)
	case c == '|':
		return token{}, l.errorf(start, `"|" is not an operator: write "||" or "or"`)
	case c == '\'' || c == '"':
		return l.lexString()
	case isDigit(c) || c == '-' && l.pos+1 < len(l.src) && isDigit(l.src[l.pos+1]):
		return l.lexNumber()
	case isLetter(c):
		return l.lexWord()
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	return token{}, l.errorf(start, "unexpected character %q: expected a name, a literal, an operator or a parenthesis", r)
}

func (l *lexer) lexWord() (token, error) {
	start := l.pos
	for l.pos < len(l.src) && (isLetter(l.src[l.pos]) || isDigit(l.src[l.pos]) || l.src[l.pos] == '.') {
		l.pos++
	}
	text := l.src[start:l.pos]
	if strings.HasSuffix(text, ".") || strings.Contains(text, "..") {
		return token{}, l.errorf(start, "invalid name %q: dots may only separate parts of a name, as in \"a.b\"", text)
	}
	if kind, ok := keywords[text]; ok {
		return token{kind: kind, text: text, pos: start}, nil
	}
	return token{kind: tokIdent, text: text, pos: start}, nil
}

func (l *lexer) lexNumber() (token, error) {
	start := l.pos
	if l.src[l.pos] == '-' {
		l.pos++
	}
	digits := func() {
		for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
			l.pos++
		}
	}
	digits()
	if l.pos < len(l.src) && l.src[l.pos] == '.' {
		l.pos++
		if l.pos >= len(l.src) || !isDigit(l.src[l.pos]) {
			return token{}, l.errorf(start, "invalid number %q: expected digits after the decimal point", l.src[start:l.pos])
		}
		digits()
	}
	if l.pos < len(l.src) && (l.src[l.pos] == 'e' || l.src[l.pos] == 'E') {
		l.pos++
		if l.pos < len(l.src) && (l.src[l.pos] == '+' || l.src[l.pos] == '-') {
			l.pos++
		}
		if l.pos >= len(l.src) || !isDigit(l.src[l.pos]) {
			return token{}, l.errorf(start, "invalid number %q: expected digits in the exponent", l.src[start:l.pos])
		}
		digits()
	}
	if l.pos < len(l.src) && (isLetter(l.src[l.pos]) || l.src[l.pos] == '.') {
		return token{}, l.errorf(start, "invalid number %q: names may not start with a digit", l.src[start:l.pos+1])
	}
	text := l.src[start:l.pos]
	v, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return token{}, l.errorf(start, "number %s is out of range", text)
	}
	return token{kind: tokNumber, text: text, num: v, pos: start}, nil
}

func (l *lexer) lexString() (token, error) {
	start := l.pos
	q := l.src[l.pos]
	l.pos++
	var b strings.Builder
	for {
		if l.pos >= len(l.src) {
			return token{}, l.errorf(start, "string is not closed: expected a closing %c", q)
		}
		c := l.src[l.pos]
		switch {
		case c == q:
			l.pos++
			return token{kind: tokString, text: l.src[start:l.pos], str: b.String(), pos: start}, nil
		case c == '\\':
			if l.pos+1 >= len(l.src) {
				return token{}, l.errorf(start, "string is not closed: expected a closing %c", q)
			}
			esc := l.src[l.pos+1]
			switch esc {
			case '\\', '\'', '"':
				b.WriteByte(esc)
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'r':
				b.WriteByte('\r')
			case 'u':
				if l.pos+6 > len(l.src) {
					return token{}, l.errorf(l.pos, `invalid escape: expected 4 hex digits after \u`)
				}
				n, err := strconv.ParseUint(l.src[l.pos+2:l.pos+6], 16, 32)
				if err != nil {
					return token{}, l.errorf(l.pos, `invalid escape: expected 4 hex digits after \u`)
				}
				b.WriteRune(rune(n))
				l.pos += 4
			default:
				return token{}, l.errorf(l.pos, `invalid escape \%c: valid escapes are \\ \' \" \n \t \r \uXXXX`, esc)
			}
			l.pos += 2
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
}

func (l *lexer) errorf(pos int, format string, args ...any) error {
	return &SyntaxError{Column: column(l.src, pos), Msg: fmt.Sprintf(format, args...)}
}

// column is the 1-based column (in characters) of byte offset pos.
func column(src string, pos int) int {
	if pos > len(src) {
		pos = len(src)
	}
	return utf8.RuneCountInString(src[:pos]) + 1
}

// quote writes s as a double-quoted literal that lexString reads back as s.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\t':
			b.WriteString(`\t`)
		case c == '\r':
			b.WriteString(`\r`)
		case c < 0x20 || c == 0x7f:
			fmt.Fprintf(&b, `\u%04x`, c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}
