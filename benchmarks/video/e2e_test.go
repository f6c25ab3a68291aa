package video_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/agents/engine"
	"github.com/faasflow/faasflow-go/api"
	"github.com/faasflow/faasflow-go/benchmarks/video"
	"github.com/faasflow/faasflow-go/internal/testcluster"
)

// runTimes records the duration of every run (ed - st) by function.
type runTimes struct {
	mu    sync.Mutex
	times map[string][]float64
}

func (r *runTimes) Record(rec *engine.RunRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.times == nil {
		r.times = map[string][]float64{}
	}
	r.times[rec.Function] = append(r.times[rec.Function], rec.Ed-rec.St)
}

// take returns the run times recorded since the last call and forgets them.
func (r *runTimes) take() map[string][]float64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.times
	r.times = nil
	return t
}

// summary writes run times as "function n×avg" in a fixed order.
func summary(times map[string][]float64) string {
	names := make([]string, 0, len(times))
	for n := range times {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		var sum float64
		for _, s := range times[n] {
			sum += s
		}
		fmt.Fprintf(&b, " %s %d×%.3fs", n, len(times[n]), sum/float64(len(times[n])))
	}
	return b.String()
}

// endToEndCases are the invocations TestEndToEnd runs on both workflow files.
var endToEndCases = []struct {
	name   string
	params string // the video.Params as a JSON object
}{
	{name: "split", params: `{}`}, // DataFlower's: 20 s in four 5 s segments, to AVI
	{name: "no split", params: `{"split": false}`},
	{name: "split short mp4", params: `{"duration": 7, "segment_time": 3, "fps": 5, "target_type": "mp4"}`},
}

// TestEndToEnd deploys the native workflow on a cluster of three workers
// and runs it on both branches, checking each result with ffprobe; then it
// deploys DataFlower's video.workflow_info.yaml unchanged, bound to the
// same code by dataflower.bind.yaml, and checks that the same parameters
// (as the fields of its input start) give the same results.
func TestEndToEnd(t *testing.T) {
	if err := video.CheckTools(); err != nil {
		t.Fatal(err)
	}
	rec := &runTimes{}
	c := testcluster.Start(t, testcluster.Options{Workers: 3, Observer: rec})
	c.Deploy(t, ".", api.DeployRequest{})

	native := map[string]json.RawMessage{}
	for _, tt := range endToEndCases {
		t.Run("native/"+tt.name, func(t *testing.T) {
			p, err := video.ParseParams([]byte(tt.params))
			if err != nil {
				t.Fatal(err)
			}
			var fields map[string]json.RawMessage
			if err := json.Unmarshal([]byte(tt.params), &fields); err != nil {
				t.Fatal(err)
			}
			input := map[string]string{}
			for k, v := range fields {
				input[k] = string(v)
			}
			rec.take()
			start := time.Now()
			inv := c.Invoke(t, "video", input)
			t.Logf("invocation took %v:%s", time.Since(start).Round(time.Millisecond), summary(rec.take()))
			native[tt.name] = checkResult(t, inv, p)
		})
	}

	wf := testcluster.LoadBound(t, "../../workflow/testdata/dataflower/video.workflow_info.yaml", "dataflower.bind.yaml")
	c.DeployWorkflow(t, &api.DeployRequest{Workflow: wf})
	for _, tt := range endToEndCases {
		t.Run("dataflower/"+tt.name, func(t *testing.T) {
			p, err := video.ParseParams([]byte(tt.params))
			if err != nil {
				t.Fatal(err)
			}
			rec.take()
			start := time.Now()
			inv := c.Invoke(t, "video", map[string]string{"start": tt.params})
			t.Logf("invocation took %v:%s", time.Since(start).Round(time.Millisecond), summary(rec.take()))
			got := checkResult(t, inv, p)
			want, ok := native[tt.name]
			if !ok {
				t.Fatal("the native workflow gave no result to compare with")
			}
			if !bytes.Equal(got, want) {
				t.Errorf("DataFlower's file gave another result than the native one:\n got  %.300s\n want %.300s", got, want)
			}
		})
	}
}

// checkResult checks that inv succeeded with the one result key of p's
// branch, re-probes the video it carries and compares with p and with what
// the workflow reported. It returns the raw result value.
func checkResult(t *testing.T, inv *api.Invocation, p video.Params) json.RawMessage {
	t.Helper()
	if inv.Status != api.StatusSucceeded {
		t.Fatalf("status %s: %s", inv.Status, inv.Error)
	}
	key, name, segments := "transcoded_video", video.OutputName("", p.Name(), p.TargetType), 1
	if p.Split {
		key, name, segments = "merged_video", video.OutputName(video.OutputPrefix, p.Name(), p.TargetType), p.Segments()
	}
	var keys []string
	for k := range inv.Result {
		keys = append(keys, k)
	}
	if !slices.Equal(keys, []string{key}) {
		t.Fatalf("result keys %v, want [%s]", keys, key)
	}
	raw := inv.Result[key]
	var got video.Result
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("decode result %.200q: %v", raw, err)
	}
	if got.Name != name || got.User != video.User || got.Segments != segments {
		t.Errorf("result names %q of %q in %d segments, want %q of %q in %d", got.Name, got.User, got.Segments, name, video.User, segments)
	}
	sum := sha256.Sum256(got.Video)
	if h := hex.EncodeToString(sum[:]); h != got.SHA256 {
		t.Errorf("video's SHA-256 is %s, result says %s", h, got.SHA256)
	}
	info, err := video.Probe(context.Background(), got.Video)
	if err != nil {
		t.Fatalf("probe the result's video: %v", err)
	}
	if info != got.Info {
		t.Errorf("ffprobe says %+v, the result says %+v", info, got.Info)
	}
	target := video.Targets[p.TargetType]
	want := video.Info{Format: target.Format, Codec: target.Codec, Width: p.Width, Height: p.Height,
		Frames: p.Frames(), Duration: float64(p.Duration), Size: int64(len(got.Video))}
	if d := math.Abs(info.Duration - want.Duration); d > 1/float64(p.FPS)+1e-9 {
		t.Errorf("duration %v s, want %v s", info.Duration, want.Duration)
	}
	info.Duration = want.Duration
	if info != want {
		t.Errorf("ffprobe says %+v, want %+v", info, want)
	}
	return raw
}
