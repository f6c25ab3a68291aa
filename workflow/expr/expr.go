// Package expr is the small, safe condition language of switch branches: it
// compares named values (a function's outputs, as decoded JSON) with literals
// and with each other, and combines the comparisons with and/or/not. Nothing
// is ever evaluated as code.
//
// Grammar, loosest binding first:
//
//	condition  = or
//	or         = and { ("||" | "or") and }
//	and        = not { ("&&" | "and") not }
//	not        = ("!" | "not") not | comparison
//	comparison = value [ ("==" | "!=" | "<" | "<=" | ">" | ">=") value ]
//	value      = name | number | string | true | false | null | "(" condition ")"
//
// Names are letters, digits, "_" and inner dots ("a.b"), not starting with a
// digit. Literals: true/false (also True/False), null (also None), numbers
// such as 3, -2.5 or 1e3, and strings in single or double quotes with the
// escapes \\ \' \" \n \t \r \uXXXX. As in Python, "not" binds looser than a
// comparison: "!a == b" means "!(a == b)". Comparisons do not chain.
package expr

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strconv"
	"strings"
)

// Limits that keep hostile conditions cheap to parse.
const (
	// MaxLength is the longest condition accepted, in bytes.
	MaxLength = 4096
	// MaxDepth is the deepest nesting of parentheses and negations accepted.
	MaxDepth = 100
)

// SyntaxError is a parse error at a 1-based character column of the condition.
type SyntaxError struct {
	Column int
	Msg    string
}

func (e *SyntaxError) Error() string { return fmt.Sprintf("at column %d: %s", e.Column, e.Msg) }

// Expr is a parsed condition. The zero value is not usable; use Parse.
type Expr struct {
	root *node
}

type nodeKind int

const (
	nodeLit  nodeKind = iota // val
	nodeName                 // name
	nodeNot                  // !l
	nodeAnd                  // l && r
	nodeOr                   // l || r
	nodeCmp                  // l op r
)

type node struct {
	kind nodeKind
	op   string // comparison operator
	val  any    // literal: nil, bool, float64 or string
	name string
	l, r *node
}

// Parse parses a condition. Errors are *SyntaxError and give the column and
// what was expected there.
func Parse(src string) (*Expr, error) {
	if len(src) > MaxLength {
		return nil, &SyntaxError{Column: 1, Msg: fmt.Sprintf("condition is %d bytes long; the limit is %d", len(src), MaxLength)}
	}
	p := &parser{lex: lexer{src: src}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if p.tok.kind == tokEOF {
		return nil, p.errorf("expected a condition, found end of condition")
	}
	root, err := p.parseOr("")
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		if p.tok.kind == tokRParen {
			return nil, p.errorf(`found ")" with no "(" to close`)
		}
		return nil, p.errorf("expected an operator (== != < <= > >= && || and or) or the end of the condition, found %s", p.tok.describe())
	}
	e := &Expr{root: root}
	// The canonical form may be longer than the source (spaces around
	// operators, escapes); bound it too, so that String always parses again.
	if n := len(e.String()); n > MaxLength {
		return nil, &SyntaxError{Column: 1, Msg: fmt.Sprintf("condition is %d bytes long when written out; the limit is %d", n, MaxLength)}
	}
	return e, nil
}

type parser struct {
	lex   lexer
	tok   token
	depth int
}

func (p *parser) advance() error {
	t, err := p.lex.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errorf(format string, args ...any) error {
	return &SyntaxError{Column: column(p.lex.src, p.tok.pos), Msg: fmt.Sprintf(format, args...)}
}

// after is the operator before the value being parsed ("" at the start),
// used to say what was expected when the value is missing.
func (p *parser) parseOr(after string) (*node, error) {
	left, err := p.parseAnd(after)
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokOr {
		op := p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.parseAnd(op)
		if err != nil {
			return nil, err
		}
		left = &node{kind: nodeOr, l: left, r: right}
	}
	return left, nil
}

func (p *parser) parseAnd(after string) (*node, error) {
	left, err := p.parseNot(after)
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokAnd {
		op := p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
		right, err := p.parseNot(op)
		if err != nil {
			return nil, err
		}
		left = &node{kind: nodeAnd, l: left, r: right}
	}
	return left, nil
}

func (p *parser) parseNot(after string) (*node, error) {
	if p.tok.kind != tokNot {
		return p.parseCmp(after)
	}
	op := p.tok.text
	if err := p.advance(); err != nil {
		return nil, err
	}
	// "!(" counts as one level, so that String, which writes a negated
	// comparison as !(a == b), never nests deeper than the source.
	counted := p.tok.kind != tokLParen
	if counted {
		if err := p.enter(); err != nil {
			return nil, err
		}
	}
	x, err := p.parseNot(op)
	if err != nil {
		return nil, err
	}
	if counted {
		p.depth--
	}
	return &node{kind: nodeNot, l: x}, nil
}

func (p *parser) parseCmp(after string) (*node, error) {
	left, err := p.parseValue(after)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokCmp {
		return left, nil
	}
	op := p.tok.text
	if err := p.advance(); err != nil {
		return nil, err
	}
	right, err := p.parseValue(op)
	if err != nil {
		return nil, err
	}
	if p.tok.kind == tokCmp {
		return nil, p.errorf("comparisons do not chain: write \"a < b && b < c\" instead of \"a < b < c\"")
	}
	return &node{kind: nodeCmp, op: op, l: left, r: right}, nil
}

func (p *parser) parseValue(after string) (*node, error) {
	t := p.tok
	var n *node
	switch t.kind {
	case tokIdent:
		n = &node{kind: nodeName, name: t.text}
	case tokNumber:
		n = &node{kind: nodeLit, val: t.num}
	case tokString:
		n = &node{kind: nodeLit, val: t.str}
	case tokTrue:
		n = &node{kind: nodeLit, val: true}
	case tokFalse:
		n = &node{kind: nodeLit, val: false}
	case tokNull:
		n = &node{kind: nodeLit, val: nil}
	case tokLParen:
		if err := p.enter(); err != nil {
			return nil, err
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.parseOr("(")
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokRParen {
			return nil, p.errorf(`expected ")" to close the "(" at column %d, found %s`, column(p.lex.src, t.pos), p.tok.describe())
		}
		p.depth--
		n = x
	default:
		if after == "" {
			return nil, p.errorf("expected a value (a name, a literal or \"(\"), found %s", t.describe())
		}
		return nil, p.errorf("expected a value after %q, found %s", after, t.describe())
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	return n, nil
}

// enter counts one more level of nesting and fails past MaxDepth.
func (p *parser) enter() error {
	p.depth++
	if p.depth > MaxDepth {
		return p.errorf("condition is nested more than %d levels deep", MaxDepth)
	}
	return nil
}

// Names returns the names the condition refers to, sorted, without duplicates.
func (e *Expr) Names() []string {
	seen := map[string]bool{}
	var walk func(n *node)
	walk = func(n *node) {
		if n == nil {
			return
		}
		if n.kind == nodeName {
			seen[n.name] = true
		}
		walk(n.l)
		walk(n.r)
	}
	walk(e.root)
	names := make([]string, 0, len(seen))
	for name := range seen {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// String writes the condition in canonical form: symbolic operators, double-quoted
// strings, and only the parentheses the structure needs. Parsing the result
// gives the same condition.
func (e *Expr) String() string {
	if e == nil || e.root == nil {
		return ""
	}
	var b strings.Builder
	write(&b, e.root)
	return b.String()
}

// prec is the binding strength of a node: higher binds tighter.
func prec(n *node) int {
	switch n.kind {
	case nodeOr:
		return 1
	case nodeAnd:
		return 2
	case nodeNot:
		return 3
	case nodeCmp:
		return 4
	}
	return 5
}

// writeOperand writes n, in parentheses unless it binds at least as tightly as min.
func writeOperand(b *strings.Builder, n *node, min int) {
	if prec(n) < min {
		b.WriteByte('(')
		write(b, n)
		b.WriteByte(')')
		return
	}
	write(b, n)
}

func write(b *strings.Builder, n *node) {
	switch n.kind {
	case nodeLit:
		b.WriteString(literal(n.val))
	case nodeName:
		b.WriteString(n.name)
	case nodeNot:
		b.WriteByte('!')
		// A negated comparison is written !(a == b) for clarity; it parses the same.
		if n.l.kind == nodeNot {
			write(b, n.l)
		} else {
			writeOperand(b, n.l, 5)
		}
	case nodeAnd:
		writeOperand(b, n.l, 2)
		b.WriteString(" && ")
		writeOperand(b, n.r, 3)
	case nodeOr:
		writeOperand(b, n.l, 1)
		b.WriteString(" || ")
		writeOperand(b, n.r, 2)
	case nodeCmp:
		writeOperand(b, n.l, 5)
		b.WriteString(" " + n.op + " ")
		writeOperand(b, n.r, 5)
	}
}

func literal(v any) string {
	switch v := v.(type) {
	case nil:
		return "null"
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	case string:
		return quote(v)
	}
	return fmt.Sprint(v)
}

// Eval evaluates the condition. lookup returns the value of a name as decoded
// JSON (nil, bool, float64, string, []any, map[string]any; integer types are
// also accepted) and false when the name is unknown, which is an error. The
// result is the truth of the condition's value: false, null, 0 and "" are
// false, everything else is true. && and || stop at the first operand that
// decides the result, so later operands are not looked up.
func (e *Expr) Eval(lookup func(name string) (any, bool)) (bool, error) {
	if e == nil || e.root == nil {
		return false, fmt.Errorf("empty condition")
	}
	v, err := eval(e.root, lookup)
	if err != nil {
		return false, err
	}
	return truthy(v), nil
}

func eval(n *node, lookup func(string) (any, bool)) (any, error) {
	switch n.kind {
	case nodeLit:
		return n.val, nil
	case nodeName:
		if lookup == nil {
			return nil, fmt.Errorf("unknown name %q in condition", n.name)
		}
		v, ok := lookup(n.name)
		if !ok {
			return nil, fmt.Errorf("unknown name %q in condition", n.name)
		}
		return normalize(v), nil
	case nodeNot:
		v, err := eval(n.l, lookup)
		if err != nil {
			return nil, err
		}
		return !truthy(v), nil
	case nodeAnd, nodeOr:
		l, err := eval(n.l, lookup)
		if err != nil {
			return nil, err
		}
		if truthy(l) == (n.kind == nodeOr) {
			return truthy(l), nil
		}
		r, err := eval(n.r, lookup)
		if err != nil {
			return nil, err
		}
		return truthy(r), nil
	case nodeCmp:
		l, err := eval(n.l, lookup)
		if err != nil {
			return nil, err
		}
		r, err := eval(n.r, lookup)
		if err != nil {
			return nil, err
		}
		return compare(n.op, l, r)
	}
	return nil, fmt.Errorf("internal error: unknown node kind %d", n.kind)
}

func compare(op string, l, r any) (bool, error) {
	switch op {
	case "==":
		return equal(l, r), nil
	case "!=":
		return !equal(l, r), nil
	}
	if a, ok := l.(float64); ok {
		if b, ok := r.(float64); ok {
			return order(op, a < b, a == b), nil
		}
	}
	if a, ok := l.(string); ok {
		if b, ok := r.(string); ok {
			return order(op, a < b, a == b), nil
		}
	}
	return false, fmt.Errorf("cannot apply %q to %s and %s: ordering needs two numbers or two strings", op, typeName(l), typeName(r))
}

func order(op string, less, eq bool) bool {
	switch op {
	case "<":
		return less
	case "<=":
		return less || eq
	case ">":
		return !less && !eq
	default: // ">="
		return !less
	}
}

// normalize turns the numeric types a lookup may return into float64.
func normalize(v any) any {
	switch v := v.(type) {
	case int:
		return float64(v)
	case int8:
		return float64(v)
	case int16:
		return float64(v)
	case int32:
		return float64(v)
	case int64:
		return float64(v)
	case uint:
		return float64(v)
	case uint8:
		return float64(v)
	case uint16:
		return float64(v)
	case uint32:
		return float64(v)
	case uint64:
		return float64(v)
	case float32:
		return float64(v)
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return f
		}
		return v.String()
	}
	return v
}

// equal compares two JSON values; values of different types are unequal.
func equal(a, b any) bool {
	a, b = normalize(a), normalize(b)
	switch a := a.(type) {
	case nil:
		return b == nil
	case bool:
		bv, ok := b.(bool)
		return ok && a == bv
	case float64:
		bv, ok := b.(float64)
		return ok && a == bv
	case string:
		bv, ok := b.(string)
		return ok && a == bv
	case []any:
		bv, ok := b.([]any)
		if !ok || len(a) != len(bv) {
			return false
		}
		for i := range a {
			if !equal(a[i], bv[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok || len(a) != len(bv) {
			return false
		}
		for k, av := range a {
			x, ok := bv[k]
			if !ok || !equal(av, x) {
				return false
			}
		}
		return true
	}
	return reflect.DeepEqual(a, b)
}

// truthy is JSON truth: false, null, 0 and "" are false; everything else is true.
func truthy(v any) bool {
	switch v := normalize(v).(type) {
	case nil:
		return false
	case bool:
		return v
	case float64:
		return v != 0
	case string:
		return v != ""
	}
	return true
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "bool"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}
