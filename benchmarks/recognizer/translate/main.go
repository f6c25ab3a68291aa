// Command translate translates the recognizer workflow's text, a JSON
// string read by extract, from Spanish to English with the benchmark's
// glossary (recognizer.Spanish), and outputs the English as a JSON string
// in translated_text.
package main

import (
	"context"

	"github.com/faasflow/faasflow-go/benchmarks/recognizer"
	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		var text string
		if err := c.InputJSON("text", &text); err != nil {
			return err
		}
		return c.OutputJSON("translated_text", recognizer.Spanish().Translate(text).Text)
	})
}
