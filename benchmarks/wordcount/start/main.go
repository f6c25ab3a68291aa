// Command start is the first function of the wordcount workflow: it
// generates the benchmark texts from its one input, the seed (named "seed"
// in the native workflow, "start" in DataFlower's), and posts each as one
// item of its foreach output file, so each count instance starts as soon
// as its text exists.
package main

import (
	"context"
	"fmt"

	"github.com/faasflow/faasflow-go/benchmarks/wordcount"
	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		// A missing seed arrives as null and leaves seed at 0, the default.
		if len(c.Inputs()) != 1 {
			return fmt.Errorf("start takes one input, the seed; it has %v", c.Inputs())
		}
		var seed *uint64
		if err := c.InputJSON(c.Inputs()[0], &seed); err != nil {
			return fmt.Errorf("seed must be a non-negative integer or null: %w", err)
		}
		var s uint64
		if seed != nil {
			s = *seed
		}
		for i := range wordcount.Sizes {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := c.Post("file", wordcount.Text(s, i)); err != nil {
				return fmt.Errorf("post text %d: %w", i, err)
			}
		}
		return nil
	})
}
