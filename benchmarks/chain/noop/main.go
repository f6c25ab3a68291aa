// Command noop is the function of the chain benchmark: it outputs its input
// in as out, byte for byte, without decoding it.
package main

import (
	"context"

	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		in, err := c.Input("in")
		if err != nil {
			return err
		}
		// Copy, as a real function would own its output rather than hand
		// back the SDK's buffer.
		out := make([]byte, len(in))
		copy(out, in)
		return c.Output("out", out)
	})
}
