// Command judge is a test function: it outputs "illegal" = true when its
// input "text" contains the word "bad", and passes the text on as "text".
package main

import (
	"bytes"
	"context"

	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		text, err := c.Input("text")
		if err != nil {
			return err
		}
		if err := c.OutputJSON("illegal", bytes.Contains(text, []byte("bad"))); err != nil {
			return err
		}
		return c.Output("text", text)
	})
}
