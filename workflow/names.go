package workflow

import "strings"

// Name rules. Function names are what targets and placement tables refer
// to; input names are what follows the last dot of a target, so they have
// no dots; output names may have inner dots (DataFlower's "virtual.start")
// and are what switch conditions refer to.

func isNameChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
}

// isWord reports whether s is one or more of letters, digits, "_" and "-".
func isWord(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isNameChar(s[i]) {
			return false
		}
	}
	return true
}

// validFunctionName: letters, digits, "_" and "-"; a single "/" may join
// two such words (a DataFlower template with several blocks becomes
// "template/block").
func validFunctionName(s string) bool {
	tmpl, block, found := strings.Cut(s, "/")
	if found {
		return isWord(tmpl) && isWord(block)
	}
	return isWord(s)
}

// validInputName: letters, digits, "_" and "-" (no dots: targets split at the last dot).
func validInputName(s string) bool { return isWord(s) }

// validOutputName: words of letters, digits, "_" and "-" joined by single
// dots. Result keys and workflow input names follow the same rule.
func validOutputName(s string) bool {
	for _, part := range strings.Split(s, ".") {
		if !isWord(part) {
			return false
		}
	}
	return true
}

const (
	functionNameRule = `letters, digits, "_" and "-" (a DataFlower template with several blocks may use one "/")`
	wordRule         = `letters, digits, "_" and "-"`
	outputNameRule   = `letters, digits, "_" and "-", with inner dots allowed`
)
