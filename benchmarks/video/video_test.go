package video

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"
)

// needTools fails the test, saying what to install, unless ffmpeg and
// ffprobe are installed.
func needTools(t *testing.T) {
	t.Helper()
	if err := CheckTools(); err != nil {
		t.Fatal(err)
	}
}

func TestParseParams(t *testing.T) {
	def := DefaultParams()
	tests := []struct {
		name    string
		in      string
		want    Params
		wantErr string
	}{
		{name: "null gives the defaults", in: `null`, want: def},
		{name: "empty object gives the defaults", in: `{}`, want: def},
		{name: "null fields keep their defaults", in: `{"split": null, "fps": null}`, want: def},
		{name: "fields", in: `{"split": false, "duration": 7, "segment_time": 2, "width": 64, "height": 48, "fps": 5, "target_type": "mkv"}`,
			want: Params{Split: false, Duration: 7, SegmentTime: 2, Width: 64, Height: 48, FPS: 5, TargetType: "mkv"}},
		{name: "unknown field", in: `{"seconds": 3}`, wantErr: `unknown field "seconds"`},
		{name: "not an object", in: `3`, wantErr: "must be a JSON object"},
		{name: "wrong type", in: `{"split": "yes"}`, wantErr: "split"},
		{name: "odd width", in: `{"width": 321}`, wantErr: "width 321: must be an even number"},
		{name: "zero duration", in: `{"duration": 0}`, wantErr: "duration 0"},
		{name: "long duration", in: `{"duration": 601}`, wantErr: "duration 601"},
		{name: "fps", in: `{"fps": 61}`, wantErr: "fps 61"},
		{name: "target", in: `{"target_type": "mov"}`, wantErr: `target_type "mov": use one of avi, mkv, mp4`},
		{name: "every problem", in: `{"duration": -1, "height": 7}`, wantErr: "height 7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseParams([]byte(tt.in))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestSegments(t *testing.T) {
	tests := []struct {
		duration, segmentTime int
		wantSeconds, wantN    int
	}{
		{20, 5, 5, 4}, // DataFlower's
		{20, 10, 10, 2},
		{7, 5, 5, 2},
		{3, 5, 5, 1},
		{20, 2, 5, 4}, // at most four segments
		{21, 5, 6, 4}, // 6+6+6+3
		{600, 5, 150, 4},
		{1, 1, 1, 1},
	}
	for _, tt := range tests {
		p := DefaultParams()
		p.Duration, p.SegmentTime = tt.duration, tt.segmentTime
		if got := p.SegmentSeconds(); got != tt.wantSeconds {
			t.Errorf("%d s in segments of %d s: got segment time %d, want %d", tt.duration, tt.segmentTime, got, tt.wantSeconds)
		}
		if got := p.Segments(); got != tt.wantN {
			t.Errorf("%d s in segments of %d s: got %d segments, want %d", tt.duration, tt.segmentTime, got, tt.wantN)
		}
	}
}

func TestNames(t *testing.T) {
	p := DefaultParams()
	if got, want := p.Name(), "testsrc-320x240-10fps-20s.mp4"; got != want {
		t.Errorf("Name() = %q, want %q", got, want)
	}
	if got, want := OutputName("merged", p.Name(), "avi"), "merged-testsrc-320x240-10fps-20s.avi"; got != want {
		t.Errorf("OutputName = %q, want %q", got, want)
	}
	if got, want := OutputName("", "a.mp4", "gif"), "a.gif"; got != want {
		t.Errorf("OutputName = %q, want %q", got, want)
	}
	if got, want := strings.Join(SegmentNames("a.mp4", 3), " "), "a-000.mp4 a-001.mp4 a-002.mp4"; got != want {
		t.Errorf("SegmentNames = %q, want %q", got, want)
	}
}

func TestMissingTools(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	for _, err := range []error{CheckTools(), func() error { _, err := Probe(context.Background(), nil); return err }()} {
		if err == nil {
			t.Fatal("no error without ffmpeg on PATH")
		}
		for _, want := range []string{"not found", "Debian package ffmpeg", "make deps"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not say %q", err, want)
			}
		}
	}
}

// TestPipeline runs both branches of the workflow in this process on a
// small video, for each target type, and checks what ffprobe sees.
func TestPipeline(t *testing.T) {
	needTools(t)
	ctx := context.Background()
	p := Params{Split: true, Duration: 7, SegmentTime: 2, Width: 96, Height: 64, FPS: 5, TargetType: "avi"}
	src, err := Generate(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Generate(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(src, again) {
		t.Error("two videos generated from the same parameters differ")
	}
	gif, err := Preview(ctx, src)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := Probe(ctx, gif); err != nil || info.Codec != "gif" || info.Frames != 5*PreviewSeconds {
		t.Errorf("preview: %+v, %v; want %d frames of gif", info, err, 5*PreviewSeconds)
	}
	segs, err := Split(ctx, src, p.SegmentSeconds())
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != p.Segments() {
		t.Fatalf("got %d segments, want %d", len(segs), p.Segments())
	}
	for _, target := range []string{"avi", "mkv", "mp4"} {
		t.Run(target, func(t *testing.T) {
			want := Info{Format: Targets[target].Format, Codec: Targets[target].Codec, Width: p.Width, Height: p.Height,
				Frames: p.Frames(), Duration: float64(p.Duration)}
			parts := make([][]byte, len(segs))
			for i, s := range segs {
				if parts[i], err = Transcode(ctx, s, target); err != nil {
					t.Fatal(err)
				}
			}
			merged, err := Concat(ctx, parts, target)
			if err != nil {
				t.Fatal(err)
			}
			whole, err := Transcode(ctx, src, target)
			if err != nil {
				t.Fatal(err)
			}
			for name, v := range map[string][]byte{"merged": merged, "whole": whole} {
				got, err := Probe(ctx, v)
				if err != nil {
					t.Fatalf("%s: %v", name, err)
				}
				checkInfo(t, name, got, want, int64(len(v)), p.FPS)
			}
		})
	}
}

// checkInfo compares ffprobe's view of a video with the expected one; the
// duration may differ by a frame.
func checkInfo(t *testing.T, what string, got, want Info, size int64, fps int) {
	t.Helper()
	if math.Abs(got.Duration-want.Duration) > 1/float64(fps)+1e-9 {
		t.Errorf("%s: duration %v s, want %v", what, got.Duration, want.Duration)
	}
	got.Duration = want.Duration
	want.Size = size
	if got != want {
		t.Errorf("%s: ffprobe says %+v, want %+v", what, got, want)
	}
}
