// Command upload is the first function of the video workflow. It reads the
// video.Params (from the native workflow's inputs split, duration,
// segment_time, width, height, fps and target_type, or from the fields of
// DataFlower's one input start), generates the test video and its GIF
// preview, and outputs them with the names and settings the later steps
// need. It is a switch: split == true sends to split, transcode and merge,
// split == false to simple_process.
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/faasflow/faasflow-go/benchmarks/video"
	"github.com/faasflow/faasflow-go/fn"
)

// params reads the run's video.Params: the input start if the function has
// it (DataFlower's file), else one input per field.
func params(c *fn.Call) (video.Params, error) {
	if slices.Contains(c.Inputs(), "start") {
		b, err := c.Input("start")
		if err != nil {
			return video.Params{}, err
		}
		return video.ParseParams(b)
	}
	fields := map[string]json.RawMessage{}
	for _, name := range c.Inputs() {
		b, err := c.Input(name)
		if err != nil {
			return video.Params{}, err
		}
		fields[name] = b
	}
	b, err := json.Marshal(fields)
	if err != nil {
		return video.Params{}, fmt.Errorf("inputs: %w", err)
	}
	return video.ParseParams(b)
}

func main() {
	fn.Run(func(ctx context.Context, c *fn.Call) error {
		p, err := params(c)
		if err != nil {
			return err
		}
		v, err := video.Generate(ctx, p)
		if err != nil {
			return err
		}
		gif, err := video.Preview(ctx, v)
		if err != nil {
			return err
		}
		name := p.Name()
		for _, out := range []struct {
			name  string
			value any
		}{
			{"split", p.Split},
			{"video_name", name},
			{"user_name", video.User},
			{"segment_time", p.SegmentSeconds()},
			{"target_type", p.TargetType},
			{"output_prefix", video.OutputPrefix},
			{"preview_name", video.OutputName("", name, "gif")},
		} {
			if err := c.OutputJSON(out.name, out.value); err != nil {
				return fmt.Errorf("output %s: %w", out.name, err)
			}
		}
		if err := c.Output("gif", gif); err != nil {
			return fmt.Errorf("output gif: %w", err)
		}
		if err := c.Output("video", v); err != nil {
			return fmt.Errorf("output video: %w", err)
		}
		return nil
	})
}
