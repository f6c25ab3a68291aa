// Command upload is the first function of the recognizer workflow: it
// generates the image its input start describes (recognizer.ParseScene: a
// seed, or a scene with text and the adult and violence flags) and outputs
// it as PNG in img, for both detectors, extract and mosaic.
package main

import (
	"context"
	"fmt"

	"github.com/faasflow/faasflow-go/benchmarks/recognizer"
	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		raw, err := c.Input("start")
		if err != nil {
			return err
		}
		scene, err := recognizer.ParseScene(raw)
		if err != nil {
			return err
		}
		img, err := recognizer.Render(scene)
		if err != nil {
			return fmt.Errorf("render scene: %w", err)
		}
		b, err := recognizer.EncodePNG(img)
		if err != nil {
			return err
		}
		return c.Output("img", b)
	})
}
