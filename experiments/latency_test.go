package experiments

import (
	"testing"
	"time"

	"github.com/faasflow/faasflow-go/api"
)

func TestFireTimesRampUp(t *testing.T) {
	tests := []struct {
		name    string
		cfg     LatencyConfig
		want    int
		wantGap map[int]time.Duration // request index → gap after it
	}{
		{name: "steady", cfg: LatencyConfig{RPM: 60, Duration: 10 * time.Second}, want: 10, wantGap: map[int]time.Duration{0: time.Second}},
		// 60 rpm with ramp-up: 0–16 s every 4 s (5), 20–38 s every 3 s (7),
		// 41–59 s every 2 s (10), then 61–69 s every second (9).
		{name: "ramp-up", cfg: LatencyConfig{RPM: 60, Duration: 70 * time.Second, RampUp: true}, want: 5 + 7 + 10 + 9,
			wantGap: map[int]time.Duration{0: 4 * time.Second, 5: 3 * time.Second, 12: 2 * time.Second, 22: time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tt.cfg.FireTimes()
			if len(got) != tt.want {
				t.Fatalf("%d requests, want %d: %v", len(got), tt.want, got)
			}
			for i, gap := range tt.wantGap {
				if d := got[i+1] - got[i]; d != gap {
					t.Errorf("gap after request %d = %s, want %s", i, d, gap)
				}
			}
		})
	}
}

func TestSummarizeLeavesOutWarmupAndErrors(t *testing.T) {
	reqs := []*Request{
		{Latency: 9, Status: api.StatusSucceeded, Warmup: true},
		{Latency: 1, Status: api.StatusSucceeded},
		{Latency: 3, Status: api.StatusSucceeded},
		{Latency: 2, Status: api.StatusSucceeded},
		{Status: api.StatusFailed},
	}
	s := Summarize(reqs)
	if s.Count != 3 || s.Errors != 1 || s.Avg != 2 || s.Min != 1 || s.Max != 3 || s.P50 != 2 {
		t.Fatalf("summary = %+v, want count 3, errors 1, avg 2, min 1, p50 2, max 3", s)
	}
}
