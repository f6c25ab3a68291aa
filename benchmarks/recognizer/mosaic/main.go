// Command mosaic pixelates the recognizer workflow's image once any of
// adult, violence and censor found it illegal (their signal start carries
// no data): every 16×16 block takes its mean colour
// (recognizer.Pixelate). It outputs the mosaic as PNG in content.
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
		m, err := recognizer.Pixelate(img, recognizer.MosaicBlock)
		if err != nil {
			return err
		}
		out, err := recognizer.EncodePNG(m)
		if err != nil {
			return err
		}
		return c.Output("content", out)
	})
}
