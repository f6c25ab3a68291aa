// Command upload is the last function of the fileprocessing workflow: it
// combines the converted document (html) and its sentiment (score, 8 bytes)
// into an HTML page and outputs the page's receipt as JSON
// (fileprocessing.Receipt) on its one output: res in the native workflow,
// _done in FaaSFlow v1's.
package main

import (
	"context"
	"fmt"

	"github.com/faasflow/faasflow-go/benchmarks/fileprocessing"
	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		html, err := c.Input("html")
		if err != nil {
			return err
		}
		raw, err := c.Input("score")
		if err != nil {
			return err
		}
		score, err := fileprocessing.DecodeScore(raw)
		if err != nil {
			return err
		}
		outs := c.Outputs()
		if len(outs) != 1 {
			return fmt.Errorf("upload has outputs %v: want exactly one, for the receipt", outs)
		}
		return c.OutputJSON(outs[0], fileprocessing.Upload(html, score))
	})
}
