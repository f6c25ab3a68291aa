// Command transcode is the map step of the video workflow: it converts its
// input video, one segment, to target_type and outputs it as
// transcoded_video.
package main

import (
	"context"
	"fmt"

	"github.com/faasflow/faasflow-go/benchmarks/video"
	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		var target string
		if err := c.InputJSON("target_type", &target); err != nil {
			return fmt.Errorf("target_type must be a string: %w", err)
		}
		v, err := c.Input("video")
		if err != nil {
			return err
		}
		out, err := video.Transcode(ctx, v, target)
		if err != nil {
			return fmt.Errorf("segment %d: %w", c.Index(), err)
		}
		return c.Output("transcoded_video", out)
	})
}
