// Command start is the first function of the fileprocessing workflow: it
// generates the Markdown document its inputs name and outputs it as file,
// which conversion and sentiment read at the same time. Its inputs are
// seed and size in the native workflow, filename in FaaSFlow v1's (see
// fileprocessing.InputSpec).
package main

import (
	"context"

	"github.com/faasflow/faasflow-go/benchmarks/fileprocessing"
	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		inputs := make(map[string][]byte)
		for _, name := range c.Inputs() {
			b, err := c.Input(name)
			if err != nil {
				return err
			}
			inputs[name] = b
		}
		spec, err := fileprocessing.InputSpec(inputs)
		if err != nil {
			return err
		}
		return c.Output("file", fileprocessing.Generate(spec))
	})
}
