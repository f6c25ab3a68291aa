// Command sleep sleeps for its input seconds (a JSON number) and then
// outputs out = "slept". It ignores cancellation on purpose, so that a run
// really overruns its timeout and the engine has to deal with it.
package main

import (
	"context"
	"fmt"
	"time"

	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		var seconds float64
		if err := c.InputJSON("seconds", &seconds); err != nil {
			return fmt.Errorf("seconds must be a JSON number: %w", err)
		}
		time.Sleep(time.Duration(seconds * float64(time.Second)))
		return c.OutputJSON("out", "slept")
	})
}
