// Command linger is a function instance that does not exit when the agent
// closes its connection, as a Python instance with a non-daemon thread
// would not: the agent has to kill it. Its function copies input in to
// output out.
package main

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	err := fn.Serve(context.Background(), func(ctx context.Context, c *fn.Call) error {
		in, err := c.Input("in")
		if err != nil {
			return err
		}
		return c.Output("out", in)
	})
	if err != nil {
		slog.Error("serve", "err", err)
		os.Exit(1)
	}
	time.Sleep(time.Hour)
}
