// Command conversion is the fileprocessing workflow's Markdown to HTML
// step: it converts its input file (fileprocessing.Convert) and outputs
// the HTML as html.
package main

import (
	"context"

	"github.com/faasflow/faasflow-go/benchmarks/fileprocessing"
	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		md, err := c.Input("file")
		if err != nil {
			return err
		}
		return c.Output("html", fileprocessing.Convert(md))
	})
}
