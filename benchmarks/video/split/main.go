// Command split cuts the video of the video workflow into segments of
// segment_time seconds (upload chose it so that there are at most
// video.MaxSegments) and posts each as one item of its foreach output
// splited_video, so one transcode instance starts per segment. split_keys
// is the JSON list of the segments' names.
package main

import (
	"context"
	"fmt"

	"github.com/faasflow/faasflow-go/benchmarks/video"
	"github.com/faasflow/faasflow-go/fn"
)

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		var name string
		if err := c.InputJSON("video_name", &name); err != nil {
			return fmt.Errorf("video_name must be a string: %w", err)
		}
		var seconds int
		if err := c.InputJSON("segment_time", &seconds); err != nil {
			return fmt.Errorf("segment_time must be a whole number of seconds: %w", err)
		}
		v, err := c.Input("video")
		if err != nil {
			return err
		}
		segs, err := video.Split(ctx, v, seconds)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		if len(segs) > video.MaxSegments {
			return fmt.Errorf("%s: %d segments of %d s, more than %d", name, len(segs), seconds, video.MaxSegments)
		}
		if err := c.OutputJSON("split_keys", video.SegmentNames(name, len(segs))); err != nil {
			return fmt.Errorf("output split_keys: %w", err)
		}
		for i, s := range segs {
			if err := c.Post("splited_video", s); err != nil {
				return fmt.Errorf("post segment %d: %w", i, err)
			}
		}
		return nil
	})
}
