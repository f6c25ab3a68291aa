// Package chain is the hop-latency benchmark: a chain of no-op functions,
// each passing its input on unchanged, so the time of an invocation is
// almost all engine overhead per hop. workflow.yaml is the 10-function
// chain; Workflow writes chains of other lengths.
package chain

import (
	"bytes"
	"fmt"
	"strconv"
)

// Workflow returns the native workflow YAML of a chain of n no-op
// functions f0..f(n-1), all with the code at codeDir (written as the file's
// code field, so relative to the file): the workflow input x goes to f0.in,
// each fi.out to f(i+1).in, and the last out is the result under key "out".
// The workflow is named "chain<n>". It panics if n < 1.
func Workflow(n int, codeDir string) []byte {
	if n < 1 {
		panic(fmt.Sprintf("chain: a chain needs at least one function, got n=%d", n))
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "name: chain%d\n", n)
	b.WriteString("inputs:\n  x: f0.in\n")
	b.WriteString("functions:\n")
	// strconv.Quote's escapes are valid in a YAML double-quoted string.
	code := strconv.Quote(codeDir)
	for i := range n {
		to := fmt.Sprintf("f%d.in", i+1)
		if i == n-1 {
			to = "$result"
		}
		fmt.Fprintf(&b, "  f%d:\n    code: %s\n    inputs: [in]\n    outputs:\n      out: %s\n", i, code, to)
	}
	return b.Bytes()
}
