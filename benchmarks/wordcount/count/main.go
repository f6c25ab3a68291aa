// Command count is the map step of the wordcount workflow: it counts the
// words of its input file (raw text) and outputs the counts as JSON in res.
package main

import (
	"context"

	"github.com/faasflow/faasflow-go/benchmarks/wordcount"
	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		text, err := c.Input("file")
		if err != nil {
			return err
		}
		return c.OutputJSON("res", wordcount.Count(text))
	})
}
