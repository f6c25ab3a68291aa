// Command violence is the recognizer workflow's violence detector: it runs
// recognizer.DetectViolence (blood-coloured pixels and regions) on its
// input img and outputs illegal, true or false, on which its switch sends
// mosaic or extract their start signal.
package main

import (
	"context"

	"github.com/faasflow/faasflow-go/benchmarks/recognizer"
	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		img, err := recognizer.InputImage(c)
		if err != nil {
			return err
		}
		return c.OutputJSON("illegal", recognizer.DetectViolence(img).Illegal)
	})
}
