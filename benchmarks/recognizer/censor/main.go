// Command censor checks the recognizer workflow's translated text, a JSON
// string, for banned keywords (recognizer.Censor with the Aho–Corasick
// automaton of recognizer.Banned) and outputs illegal, true or false, on
// which its switch sends mosaic its start signal or ends the invocation.
// When the workflow declares an output text (the native workflow.yaml
// does; DataFlower's file does not), it also outputs the text it checked.
package main

import (
	"context"
	"slices"

	"github.com/faasflow/faasflow-go/benchmarks/recognizer"
	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		var text string
		if err := c.InputJSON("text", &text); err != nil {
			return err
		}
		v := recognizer.Censor(recognizer.Banned(), text)
		if err := c.OutputJSON("illegal", v.Illegal); err != nil {
			return err
		}
		if slices.Contains(c.Outputs(), "text") {
			return c.OutputJSON("text", text)
		}
		return nil
	})
}
