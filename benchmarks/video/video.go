// Package video is DataFlower's video benchmark: upload makes a test video
// (ffmpeg's testsrc pattern, so no data is shipped) and a GIF preview of its
// first seconds, then either split cuts it into at most MaxSegments segments,
// one transcode instance per segment converts it to the target type and
// merge joins them, or simple_process converts the whole video at once. The
// last step probes its output with ffprobe and returns a Result carrying the
// video and what ffprobe saw.
//
// Every step runs the ffmpeg or ffprobe program (Debian package ffmpeg) in
// a temporary directory. Encoders run on one thread with bit-exact flags, so
// the same Params give the same bytes on every run.
package video

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// MaxSegments bounds the number of segments split makes: the segment time
// grows when the video is longer than MaxSegments × segment_time. DataFlower
// cuts its video into at most four 5-second segments.
const MaxSegments = 4

// Defaults of Params: a 20-second 320×240 video at 10 frames a second, cut
// into 5-second segments and transcoded to AVI, as DataFlower's run (which
// used a 20-second video file).
const (
	DefaultDuration    = 20
	DefaultSegmentTime = 5
	DefaultWidth       = 320
	DefaultHeight      = 240
	DefaultFPS         = 10
	DefaultTarget      = "avi"
)

// Fixed names upload sends on: the user and the prefix of merged outputs,
// and the length of the GIF preview in seconds.
const (
	User           = "faasflow"
	OutputPrefix   = "merged"
	PreviewSeconds = 3
)

// Limits of Params, so that a mistaken input fails at once instead of
// running ffmpeg for minutes.
const (
	MaxDuration = 600
	MaxWidth    = 1920
	MaxHeight   = 1080
	MaxFPS      = 60
)

// Params are the inputs of the workflow: whether to split, and the video to
// generate. In the native workflow each is a workflow input of that name; in
// DataFlower's file they are the fields of the one input start (a JSON
// object, or null for the defaults).
type Params struct {
	// Split chooses the branch: split, transcode per segment and merge
	// (true), or simple_process on the whole video (false).
	Split bool `json:"split"`
	// Duration is the length of the video in whole seconds.
	Duration int `json:"duration"`
	// SegmentTime is the requested segment length in whole seconds;
	// SegmentSeconds gives the one used.
	SegmentTime int `json:"segment_time"`
	// Width and Height are the frame size in pixels (even numbers).
	Width  int `json:"width"`
	Height int `json:"height"`
	// FPS is the frame rate.
	FPS int `json:"fps"`
	// TargetType is the output type, a key of Targets.
	TargetType string `json:"target_type"`
}

// DefaultParams returns the defaults: split a 20-second 320×240 video at
// 10 frames a second into four segments and transcode them to AVI.
func DefaultParams() Params {
	return Params{Split: true, Duration: DefaultDuration, SegmentTime: DefaultSegmentTime,
		Width: DefaultWidth, Height: DefaultHeight, FPS: DefaultFPS, TargetType: DefaultTarget}
}

// ParseParams reads Params from a JSON object over the defaults: missing or
// null fields keep their defaults, and "null" gives the defaults. Unknown
// fields are errors, and the result is checked.
func ParseParams(data []byte) (Params, error) {
	p := DefaultParams()
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return p, fmt.Errorf("video parameters must be a JSON object or null: %w", err)
	}
	for name, v := range fields {
		if string(v) == "null" {
			delete(fields, name)
		}
	}
	clean, err := json.Marshal(fields)
	if err != nil {
		return p, fmt.Errorf("video parameters: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(clean))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return p, fmt.Errorf("video parameters %s: %w (fields: split, duration, segment_time, width, height, fps, target_type)", data, err)
	}
	return p, p.Check()
}

// Check reports whether p can be generated and transcoded.
func (p Params) Check() error {
	var errs []error
	if p.Duration < 1 || p.Duration > MaxDuration {
		errs = append(errs, fmt.Errorf("duration %d: must be 1 to %d seconds", p.Duration, MaxDuration))
	}
	if p.SegmentTime < 1 || p.SegmentTime > MaxDuration {
		errs = append(errs, fmt.Errorf("segment_time %d: must be 1 to %d seconds", p.SegmentTime, MaxDuration))
	}
	if p.Width < 16 || p.Width > MaxWidth || p.Width%2 != 0 {
		errs = append(errs, fmt.Errorf("width %d: must be an even number from 16 to %d", p.Width, MaxWidth))
	}
	if p.Height < 16 || p.Height > MaxHeight || p.Height%2 != 0 {
		errs = append(errs, fmt.Errorf("height %d: must be an even number from 16 to %d", p.Height, MaxHeight))
	}
	if p.FPS < 1 || p.FPS > MaxFPS {
		errs = append(errs, fmt.Errorf("fps %d: must be 1 to %d", p.FPS, MaxFPS))
	}
	if _, err := TargetOf(p.TargetType); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// SegmentSeconds is the segment length split uses: SegmentTime, made longer
// if needed so that the video has at most MaxSegments segments.
func (p Params) SegmentSeconds() int {
	return max(p.SegmentTime, (p.Duration+MaxSegments-1)/MaxSegments)
}

// Segments is the number of segments split makes.
func (p Params) Segments() int {
	s := p.SegmentSeconds()
	return (p.Duration + s - 1) / s
}

// Frames is the number of frames of the video.
func (p Params) Frames() int { return p.Duration * p.FPS }

// Name is the file name of the generated video,
// e.g. "testsrc-320x240-10fps-20s.mp4".
func (p Params) Name() string {
	return fmt.Sprintf("testsrc-%dx%d-%dfps-%ds.mp4", p.Width, p.Height, p.FPS, p.Duration)
}

// Target is an output type: its container and video codec.
type Target struct {
	// Muxer is ffmpeg's name of the container.
	Muxer string
	// Format and Codec are what ffprobe reports for the output
	// (format_name and the video stream's codec_name).
	Format, Codec string
	// Args are ffmpeg's output arguments that choose the encoder.
	Args []string
}

// Targets are the output types, by target_type. DataFlower transcodes to
// AVI.
var Targets = map[string]Target{
	"avi": {Muxer: "avi", Format: "avi", Codec: "mpeg4", Args: []string{"-c:v", "mpeg4", "-q:v", "5"}},
	"mkv": {Muxer: "matroska", Format: "matroska,webm", Codec: "mpeg4", Args: []string{"-c:v", "mpeg4", "-q:v", "5"}},
	"mp4": {Muxer: "mp4", Format: "mov,mp4,m4a,3gp,3g2,mj2", Codec: "h264",
		Args: []string{"-c:v", "libx264", "-preset", "ultrafast", "-crf", "28", "-pix_fmt", "yuv420p"}},
}

// TargetOf returns the Target of a target_type.
func TargetOf(targetType string) (Target, error) {
	t, ok := Targets[targetType]
	if !ok {
		names := make([]string, 0, len(Targets))
		for n := range Targets {
			names = append(names, n)
		}
		slices.Sort(names)
		return Target{}, fmt.Errorf("target_type %q: use one of %s", targetType, strings.Join(names, ", "))
	}
	return t, nil
}

// OutputName is the file name of the output of a video named videoName in
// targetType, with prefix and a dash before it if prefix is not empty:
// OutputName("merged", "a.mp4", "avi") is "merged-a.avi".
func OutputName(prefix, videoName, targetType string) string {
	name := strings.TrimSuffix(videoName, filepath.Ext(videoName)) + "." + targetType
	if prefix != "" {
		name = prefix + "-" + name
	}
	return name
}

// SegmentNames are the names of the segments of a video: "a-000.mp4",
// "a-001.mp4", … for "a.mp4".
func SegmentNames(videoName string, n int) []string {
	ext := filepath.Ext(videoName)
	stem := strings.TrimSuffix(videoName, ext)
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s-%03d%s", stem, i, ext)
	}
	return names
}

// CheckTools reports whether ffmpeg and ffprobe are installed, with what to
// do if they are not.
func CheckTools() error {
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := lookTool(tool); err != nil {
			return err
		}
	}
	return nil
}

func lookTool(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found (%w): the video benchmark needs ffmpeg and ffprobe; "+
			"install the Debian package ffmpeg (apt-get install -y ffmpeg) or run make deps", name, err)
	}
	return path, nil
}

// run runs tool with args in dir and returns its standard output. A failure
// names the command and ends with the last lines ffmpeg wrote.
func run(ctx context.Context, dir, tool string, args ...string) ([]byte, error) {
	path, err := lookTool(tool)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := stderr.Bytes()
		if len(msg) > 1000 {
			msg = msg[len(msg)-1000:]
		}
		return nil, fmt.Errorf("%s %s: %w: %s", tool, strings.Join(args, " "), err, bytes.TrimSpace(msg))
	}
	return stdout.Bytes(), nil
}

// ffmpeg runs ffmpeg quietly in dir.
func ffmpeg(ctx context.Context, dir string, args ...string) error {
	_, err := run(ctx, dir, "ffmpeg", append([]string{"-nostdin", "-hide_banner", "-loglevel", "error"}, args...)...)
	return err
}

// exact are output arguments that make encoders and muxers deterministic:
// one encoder thread, no version strings, no metadata copied.
var exact = []string{"-threads", "1", "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1", "-an", "-y"}

// withDir runs f in a new temporary directory and removes it afterwards.
func withDir[T any](what string, f func(dir string) (T, error)) (T, error) {
	dir, err := os.MkdirTemp("", "video-")
	if err != nil {
		var zero T
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	defer os.RemoveAll(dir)
	v, err := f(dir)
	if err != nil {
		return v, fmt.Errorf("%s: %w", what, err)
	}
	return v, nil
}

// Generate makes the test video of p: ffmpeg's testsrc pattern (a colour
// pattern with a running counter) as H.264 in MP4, with a key frame every
// second so that it can be cut at any whole second without re-encoding.
func Generate(ctx context.Context, p Params) ([]byte, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	return withDir("generate video", func(dir string) ([]byte, error) {
		src := fmt.Sprintf("testsrc=size=%dx%d:rate=%d:duration=%d", p.Width, p.Height, p.FPS, p.Duration)
		args := []string{"-f", "lavfi", "-i", src, "-c:v", "libx264", "-preset", "ultrafast", "-g", strconv.Itoa(p.FPS),
			"-pix_fmt", "yuv420p"}
		args = append(append(args, exact...), "-f", "mp4", "video.mp4")
		if err := ffmpeg(ctx, dir, args...); err != nil {
			return nil, err
		}
		return os.ReadFile(filepath.Join(dir, "video.mp4"))
	})
}

// Preview makes the GIF preview of a video: its first PreviewSeconds
// seconds at 5 frames a second, at most 160 pixels wide.
func Preview(ctx context.Context, video []byte) ([]byte, error) {
	return withDir("make GIF preview", func(dir string) ([]byte, error) {
		if err := os.WriteFile(filepath.Join(dir, "in"), video, 0o600); err != nil {
			return nil, err
		}
		args := []string{"-t", strconv.Itoa(PreviewSeconds), "-i", "in", "-vf", "fps=5,scale='min(160,iw)':-1:flags=lanczos"}
		args = append(append(args, exact...), "-f", "gif", "preview.gif")
		if err := ffmpeg(ctx, dir, args...); err != nil {
			return nil, err
		}
		return os.ReadFile(filepath.Join(dir, "preview.gif"))
	})
}

// Split cuts an MP4 video into segments of seconds each (the last may be
// shorter) without re-encoding; each segment is an MP4 video whose
// timestamps start at zero.
func Split(ctx context.Context, video []byte, seconds int) ([][]byte, error) {
	if seconds < 1 {
		return nil, fmt.Errorf("split video: segment time %d: must be at least 1 second", seconds)
	}
	return withDir("split video", func(dir string) ([][]byte, error) {
		if err := os.WriteFile(filepath.Join(dir, "in.mp4"), video, 0o600); err != nil {
			return nil, err
		}
		args := []string{"-i", "in.mp4", "-map", "0:v", "-c", "copy", "-f", "segment", "-segment_time", strconv.Itoa(seconds),
			"-segment_format", "mp4", "-reset_timestamps", "1"}
		args = append(append(args, exact...), "seg-%03d.mp4")
		if err := ffmpeg(ctx, dir, args...); err != nil {
			return nil, err
		}
		files, err := filepath.Glob(filepath.Join(dir, "seg-*.mp4"))
		if err != nil {
			return nil, err
		}
		slices.Sort(files)
		segs := make([][]byte, len(files))
		for i, f := range files {
			if segs[i], err = os.ReadFile(f); err != nil {
				return nil, err
			}
		}
		if len(segs) == 0 {
			return nil, errors.New("ffmpeg made no segments")
		}
		return segs, nil
	})
}

// Transcode converts a video to targetType.
func Transcode(ctx context.Context, video []byte, targetType string) ([]byte, error) {
	t, err := TargetOf(targetType)
	if err != nil {
		return nil, fmt.Errorf("transcode: %w", err)
	}
	return withDir("transcode to "+targetType, func(dir string) ([]byte, error) {
		if err := os.WriteFile(filepath.Join(dir, "in"), video, 0o600); err != nil {
			return nil, err
		}
		args := append([]string{"-i", "in", "-map", "0:v"}, t.Args...)
		args = append(append(args, exact...), "-f", t.Muxer, "out")
		if err := ffmpeg(ctx, dir, args...); err != nil {
			return nil, err
		}
		return os.ReadFile(filepath.Join(dir, "out"))
	})
}

// Concat joins videos of targetType (transcoded segments, in order) into
// one, without re-encoding.
func Concat(ctx context.Context, videos [][]byte, targetType string) ([]byte, error) {
	t, err := TargetOf(targetType)
	if err != nil {
		return nil, fmt.Errorf("concat: %w", err)
	}
	if len(videos) == 0 {
		return nil, errors.New("concat: no videos")
	}
	return withDir("concat videos", func(dir string) ([]byte, error) {
		var list strings.Builder
		for i, v := range videos {
			name := fmt.Sprintf("part-%03d.%s", i, targetType)
			if err := os.WriteFile(filepath.Join(dir, name), v, 0o600); err != nil {
				return nil, err
			}
			fmt.Fprintf(&list, "file '%s'\n", name)
		}
		if err := os.WriteFile(filepath.Join(dir, "list.txt"), []byte(list.String()), 0o600); err != nil {
			return nil, err
		}
		args := []string{"-f", "concat", "-safe", "0", "-i", "list.txt", "-map", "0:v", "-c", "copy"}
		args = append(append(args, exact...), "-f", t.Muxer, "out")
		if err := ffmpeg(ctx, dir, args...); err != nil {
			return nil, err
		}
		return os.ReadFile(filepath.Join(dir, "out"))
	})
}

// Info is what ffprobe reports of a video: its container, the codec, frame
// size and frame count of its first video stream, its duration in seconds
// and its size in bytes.
type Info struct {
	Format   string  `json:"format"`
	Codec    string  `json:"codec"`
	Width    int     `json:"width"`
	Height   int     `json:"height"`
	Frames   int     `json:"frames"`
	Duration float64 `json:"duration"`
	Size     int64   `json:"size"`
}

// Probe runs ffprobe on a video.
func Probe(ctx context.Context, video []byte) (Info, error) {
	return withDir("probe video", func(dir string) (Info, error) {
		if err := os.WriteFile(filepath.Join(dir, "in"), video, 0o600); err != nil {
			return Info{}, err
		}
		out, err := run(ctx, dir, "ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
			"-show_entries", "format=format_name,duration,size:stream=codec_name,width,height,nb_read_packets",
			"-of", "json", "in")
		if err != nil {
			return Info{}, err
		}
		var raw struct {
			Streams []struct {
				CodecName string `json:"codec_name"`
				Width     int    `json:"width"`
				Height    int    `json:"height"`
				Packets   string `json:"nb_read_packets"`
			} `json:"streams"`
			Format struct {
				FormatName string `json:"format_name"`
				Duration   string `json:"duration"`
				Size       string `json:"size"`
			} `json:"format"`
		}
		if err := json.Unmarshal(out, &raw); err != nil {
			return Info{}, fmt.Errorf("read ffprobe's output %.200q: %w", out, err)
		}
		if len(raw.Streams) == 0 {
			return Info{}, errors.New("no video stream")
		}
		s := raw.Streams[0]
		info := Info{Format: raw.Format.FormatName, Codec: s.CodecName, Width: s.Width, Height: s.Height}
		if info.Frames, err = strconv.Atoi(s.Packets); err != nil {
			return Info{}, fmt.Errorf("frame count %q: %w", s.Packets, err)
		}
		if info.Duration, err = strconv.ParseFloat(raw.Format.Duration, 64); err != nil {
			return Info{}, fmt.Errorf("duration %q: %w", raw.Format.Duration, err)
		}
		if info.Size, err = strconv.ParseInt(raw.Format.Size, 10, 64); err != nil {
			return Info{}, fmt.Errorf("size %q: %w", raw.Format.Size, err)
		}
		return info, nil
	})
}

// Result is the workflow's result, merged_video (split branch) or
// transcoded_video (simple_process branch): the output video, its name, how
// many segments it was made of, ffprobe's Info of it and its SHA-256. In
// JSON the video is base64.
type Result struct {
	Name     string `json:"name"`
	User     string `json:"user_name"`
	Segments int    `json:"segments"`
	Info
	SHA256 string `json:"sha256"`
	Video  []byte `json:"video"`
}

// NewResult probes video and makes its Result.
func NewResult(ctx context.Context, name, user string, segments int, video []byte) (*Result, error) {
	info, err := Probe(ctx, video)
	if err != nil {
		return nil, fmt.Errorf("output %s: %w", name, err)
	}
	sum := sha256.Sum256(video)
	return &Result{Name: name, User: user, Segments: segments, Info: info, SHA256: hex.EncodeToString(sum[:]), Video: video}, nil
}
