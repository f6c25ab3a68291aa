// Command merge is the last function of the video workflow's split branch:
// it joins the transcoded segments of its list input video in order and
// outputs the video.Result of the joined video (the video, named
// <output_prefix>-<video name>.<target_type>, and what ffprobe reports of
// it) as merged_video.
package main

import (
	"context"
	"fmt"

	"github.com/faasflow/faasflow-go/benchmarks/video"
	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		var keys []string
		var target, prefix, name, user string
		for _, in := range []struct {
			name string
			v    any
		}{
			{"split_keys", &keys}, {"target_type", &target}, {"output_prefix", &prefix},
			{"video_name", &name}, {"user_name", &user},
		} {
			if err := c.InputJSON(in.name, in.v); err != nil {
				return fmt.Errorf("input %s: %w", in.name, err)
			}
		}
		parts, err := c.List("video")
		if err != nil {
			return err
		}
		if len(parts) != len(keys) {
			return fmt.Errorf("%d transcoded segments for the %d split_keys %v", len(parts), len(keys), keys)
		}
		merged, err := video.Concat(ctx, parts, target)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		res, err := video.NewResult(ctx, video.OutputName(prefix, name, target), user, len(parts), merged)
		if err != nil {
			return err
		}
		return c.OutputJSON("merged_video", res)
	})
}
