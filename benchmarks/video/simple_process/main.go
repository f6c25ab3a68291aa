// Command simple_process is the video workflow's branch for split == false:
// it converts the whole video to target_type and outputs the video.Result
// of the output (the video, named <video name>.<target_type>, and what
// ffprobe reports of it) as transcoded_video.
package main

import (
	"context"
	"fmt"

	"github.com/faasflow/faasflow-go/benchmarks/video"
	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		var target, name, user string
		for _, in := range []struct {
			name string
			v    *string
		}{{"target_type", &target}, {"video_name", &name}, {"user_name", &user}} {
			if err := c.InputJSON(in.name, in.v); err != nil {
				return fmt.Errorf("input %s must be a string: %w", in.name, err)
			}
		}
		v, err := c.Input("video")
		if err != nil {
			return err
		}
		out, err := video.Transcode(ctx, v, target)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		res, err := video.NewResult(ctx, video.OutputName("", name, target), user, 1, out)
		if err != nil {
			return err
		}
		return c.OutputJSON("transcoded_video", res)
	})
}
