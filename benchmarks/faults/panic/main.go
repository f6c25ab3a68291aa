// Command panic panics when its input mode is the JSON string "panic";
// otherwise it outputs mode unchanged as out.
package main

import (
	"context"
	"encoding/json"

	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		in, err := c.Input("mode")
		if err != nil {
			return err
		}
		// Any other value, JSON string or not, is passed through.
		var mode string
		if json.Unmarshal(in, &mode) == nil && mode == "panic" {
			panic("deliberate panic from the faults benchmark")
		}
		return c.Output("out", in)
	})
}
