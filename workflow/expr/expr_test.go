package expr

import (
	"strings"
	"testing"
)

func TestParseString(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{name: "comparison", src: "illegal==True", want: "illegal == true"},
		{name: "python literals", src: "x != None and y == False", want: "x != null && y == false"},
		{name: "words", src: "a or b and not c", want: "a || b && !c"},
		{name: "precedence kept by parens", src: "(a || b) && c", want: "(a || b) && c"},
		{name: "right nested or", src: "a || (b || c)", want: "a || (b || c)"},
		{name: "not binds looser than comparison", src: "!a == b", want: "!(a == b)"},
		{name: "double negation", src: "not not a", want: "!!a"},
		{name: "numbers", src: "n >= -2.50 && m < 1e3 && k == 0", want: "n >= -2.5 && m < 1000 && k == 0"},
		{name: "single quoted string", src: `kind == 'it\'s'`, want: `kind == "it's"`},
		{name: "escapes", src: `s == "a\"b\\c\n\u0041"`, want: `s == "a\"b\\c\nA"`},
		{name: "dotted name", src: "a.b.c", want: "a.b.c"},
		{name: "literal alone", src: "true", want: "true"},
		{name: "parenthesized comparison operands", src: "(a == 1) == (b == 2)", want: "(a == 1) == (b == 2)"},
		{name: "redundant parens dropped", src: "((a))", want: "a"},
		{name: "whitespace", src: " \ta\n<=\r b ", want: "a <= b"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(tt.src)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.src, err)
			}
			if got := e.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
			again, err := Parse(e.String())
			if err != nil {
				t.Fatalf("re-parse of %q: %v", e.String(), err)
			}
			if got := again.String(); got != tt.want {
				t.Errorf("re-parsed String() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want string
	}{
		{name: "empty", src: "", want: "at column 1: expected a condition, found end of condition"},
		{name: "blank", src: "   ", want: "at column 4: expected a condition, found end of condition"},
		{name: "missing right operand", src: "illegal==", want: `at column 10: expected a value after "==", found end of condition`},
		{name: "missing right operand with space", src: "illegal ==", want: `at column 11: expected a value after "==", found end of condition`},
		{name: "missing operand of and", src: "a && ", want: `at column 6: expected a value after "&&", found end of condition`},
		{name: "missing operand of not", src: "not", want: `at column 4: expected a value after "not", found end of condition`},
		{name: "single equals", src: "a = 1", want: `at column 3: "=" is not an operator: write "==" to compare`},
		{name: "single ampersand", src: "a & b", want: `at column 3: "&" is not an operator`},
		{name: "two values", src: "a b", want: `at column 3: expected an operator (== != < <= > >= && || and or) or the end of the condition, found name "b"`},
		{name: "unclosed paren", src: "(a == 1", want: `at column 8: expected ")" to close the "(" at column 1, found end of condition`},
		{name: "extra close paren", src: "a)", want: `at column 2: found ")" with no "(" to close`},
		{name: "unclosed string", src: "a == 'x", want: "at column 6: string is not closed"},
		{name: "bad escape", src: `a == "\q"`, want: `at column 7: invalid escape \q`},
		{name: "bad unicode escape", src: `a == "\u12"`, want: `at column 7: invalid escape: expected 4 hex digits`},
		{name: "chained comparison", src: "a < b < c", want: "at column 7: comparisons do not chain"},
		{name: "name starting with digit", src: "1abc", want: `at column 1: invalid number "1a"`},
		{name: "trailing dot", src: "a. == 1", want: `at column 1: invalid name "a."`},
		{name: "double dot", src: "a..b", want: `at column 1: invalid name "a..b"`},
		{name: "bad character", src: "a == #", want: `at column 6: unexpected character '#'`},
		{name: "column counts characters", src: "'é' == ", want: `at column 8: expected a value after "=="`},
		{name: "number out of range", src: "a > 1e999", want: "at column 5: number 1e999 is out of range"},
		{name: "fraction without digits", src: "a > 1.", want: `at column 5: invalid number "1."`},
		{name: "operator first", src: "== 1", want: `at column 1: expected a value (a name, a literal or "("), found "=="`},
		{name: "too deep", src: strings.Repeat("(", MaxDepth+1) + "a" + strings.Repeat(")", MaxDepth+1), want: "nested more than 100 levels deep"},
		{name: "too deep negation", src: strings.Repeat("!", MaxDepth+1) + "a", want: "nested more than 100 levels deep"},
		{name: "too long", src: strings.Repeat("a", MaxLength+1), want: "the limit is 4096"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.src)
			if err == nil {
				t.Fatalf("Parse(%q) succeeded, want error containing %q", tt.src, tt.want)
			}
			if got := err.Error(); !strings.Contains(got, tt.want) {
				t.Errorf("Parse(%q) error = %q, want it to contain %q", tt.src, got, tt.want)
			}
			if _, ok := err.(*SyntaxError); !ok {
				t.Errorf("error is %T, want *SyntaxError", err)
			}
		})
	}
}

func TestParseLimits(t *testing.T) {
	deep := strings.Repeat("(", MaxDepth) + "a" + strings.Repeat(")", MaxDepth)
	if _, err := Parse(deep); err != nil {
		t.Errorf("nesting of exactly MaxDepth: %v", err)
	}
	long := strings.Repeat("a && ", (MaxLength-1)/5) + "a"
	if _, err := Parse(long); err != nil {
		t.Errorf("long flat condition of %d bytes: %v", len(long), err)
	}
}

func TestNames(t *testing.T) {
	e, err := Parse("split == true || b.c > 1 && !split && a != 'x'")
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(e.Names(), ",")
	if want := "a,b.c,split"; got != want {
		t.Errorf("Names() = %s, want %s", got, want)
	}
	e, err = Parse("true")
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Names(); len(got) != 0 {
		t.Errorf("Names() of a literal = %v, want none", got)
	}
}

func TestEval(t *testing.T) {
	vars := map[string]any{
		"illegal": true,
		"split":   false,
		"n":       float64(3),
		"i":       7,
		"i64":     int64(-2),
		"s":       "abc",
		"empty":   "",
		"zero":    float64(0),
		"nil":     nil,
		"list":    []any{float64(1), "a"},
		"obj":     map[string]any{"k": float64(1)},
		"obj2":    map[string]any{"k": 1},
		"a.b":     "dotted",
	}
	lookup := func(name string) (any, bool) {
		v, ok := vars[name]
		return v, ok
	}
	tests := []struct {
		name string
		src  string
		want bool
	}{
		{name: "python true", src: "illegal==True", want: true},
		{name: "false equals", src: "split == False", want: true},
		{name: "bare true", src: "illegal", want: true},
		{name: "bare false", src: "split", want: false},
		{name: "zero is false", src: "zero", want: false},
		{name: "empty string is false", src: "empty", want: false},
		{name: "null is false", src: "nil", want: false},
		{name: "non-empty string is true", src: "s", want: true},
		{name: "list is true", src: "list", want: true},
		{name: "null equals null", src: "nil == null", want: true},
		{name: "None equals null", src: "nil == None", want: true},
		{name: "different types unequal", src: "n == '3'", want: false},
		{name: "different types not equal", src: "illegal != 1", want: true},
		{name: "int from lookup", src: "i == 7 && i > 6.5", want: true},
		{name: "int64 from lookup", src: "i64 < 0", want: true},
		{name: "number order", src: "n >= 3 && n <= 3 && !(n < 3) && !(n > 3)", want: true},
		{name: "string order", src: "s < 'abd' && s > \"ab\"", want: true},
		{name: "and short circuits", src: "split && unknown", want: false},
		{name: "or short circuits", src: "illegal || unknown", want: true},
		{name: "not", src: "not split", want: true},
		{name: "list equality", src: "list == list", want: true},
		{name: "object equality with int", src: "obj == obj2", want: true},
		{name: "dotted name", src: "a.b == 'dotted'", want: true},
		{name: "literal number truthy", src: "1", want: true},
		{name: "not comparison", src: "!n == 3", want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(tt.src)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.src, err)
			}
			got, err := e.Eval(lookup)
			if err != nil {
				t.Fatalf("Eval(%q): %v", tt.src, err)
			}
			if got != tt.want {
				t.Errorf("Eval(%q) = %v, want %v", tt.src, got, tt.want)
			}
		})
	}
}

func TestEvalErrors(t *testing.T) {
	vars := map[string]any{"n": float64(1), "s": "x", "b": true, "nil": nil}
	lookup := func(name string) (any, bool) {
		v, ok := vars[name]
		return v, ok
	}
	tests := []struct {
		name string
		src  string
		want string
	}{
		{name: "unknown name", src: "missing == 1", want: `unknown name "missing"`},
		{name: "unknown in right operand", src: "n == 1 && other", want: `unknown name "other"`},
		{name: "order number and string", src: "n < s", want: `cannot apply "<" to number and string`},
		{name: "order bools", src: "b >= true", want: `cannot apply ">=" to bool and bool`},
		{name: "order null", src: "nil > 0", want: `cannot apply ">" to null and number`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := Parse(tt.src)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.src, err)
			}
			_, err = e.Eval(lookup)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Eval(%q) error = %v, want it to contain %q", tt.src, err, tt.want)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"illegal==True",
		"'split==True'",
		"split == false && n >= -2.5e3 || !(s != \"a\\\"b\")",
		"not a.b or None",
		"((a))",
		"a < b < c",
		"\"\\u00e9\"",
		"",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, src string) {
		e, err := Parse(src)
		if err != nil {
			if _, ok := err.(*SyntaxError); !ok {
				t.Fatalf("Parse(%q) error is %T, want *SyntaxError", src, err)
			}
			return
		}
		s := e.String()
		again, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String() %q does not parse: %v", src, s, err)
		}
		if got := again.String(); got != s {
			t.Fatalf("String() not stable: %q -> %q -> %q", src, s, got)
		}
		// Evaluation must not panic either, whatever the names hold.
		_, _ = e.Eval(func(string) (any, bool) { return []any{nil}, true })
	})
}
