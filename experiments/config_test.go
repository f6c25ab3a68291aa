package experiments

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestCheckedInFiles: the default and original experiment files load, list
// the five benchmarks, and carry the original's co-location levels.
func TestCheckedInFiles(t *testing.T) {
	for _, name := range []string{"default.yaml", "original.yaml"} {
		t.Run(name, func(t *testing.T) {
			f, err := LoadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, w := range f.Workflows {
				names = append(names, w.Name)
				if w.RPM <= 0 || !strings.HasPrefix(w.Dir, "benchmarks/") {
					t.Errorf("workflow %s: rpm %g, dir %q", w.Name, w.RPM, w.Dir)
				}
			}
			if want := []string{"wordcount", "svd", "video", "recognizer", "fileprocessing"}; !reflect.DeepEqual(names, want) {
				t.Fatalf("workflows %v, want %v", names, want)
			}
			want := map[string]map[string]float64{
				"low":       {"recognizer": 10, "video": 5, "wordcount": 10, "svd": 10},
				"mid":       {"recognizer": 20, "video": 10, "wordcount": 20, "svd": 20},
				"high":      {"recognizer": 40, "video": 20, "wordcount": 40, "svd": 40},
				"ultraHigh": {"recognizer": 60, "video": 30, "wordcount": 60, "svd": 60},
			}
			if !reflect.DeepEqual(f.Colocation.Levels, want) {
				t.Fatalf("levels %v, want the original's %v", f.Colocation.Levels, want)
			}
		})
	}
	f, err := LoadFile("default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// The default must let `make experiment latency` run every benchmark
	// in 10 minutes: leave at least 3 minutes for builds and deploys.
	if total := time.Duration(len(f.Workflows)) * f.Latency.Duration; total > 7*time.Minute {
		t.Fatalf("the latency runs of default.yaml take %s", total)
	}
	names, rates, err := f.LevelRates("mid")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(names, ",") != "recognizer,svd,video,wordcount" || rates["video"] != 10*f.Colocation.RateScale {
		t.Fatalf("mid level: %v %v", names, rates)
	}
}

func TestFileCheck(t *testing.T) {
	good := `
request_timeout: 10s
workflows:
  - {name: a, dir: x/a, rpm: 10, input: {seed: 1, size: {rows: 2}}}
latency: {duration: 10s, warmup: 2s}
throughput: {clients: 2, client_gap: 1s, duration: 10s, warmup: 2s}
colocation: {duration: 10s, warmup: 2s, rate_scale: 1, levels: {low: {a: 5}}}
`
	tests := []struct {
		name, replace, with, wantErr string
	}{
		{name: "good"},
		{name: "unknown field", replace: "request_timeout", with: "request_timeuot", wantErr: "request_timeuot"},
		{name: "no timeout", replace: "request_timeout: 10s", with: "request_timeout: 0s", wantErr: "request_timeout"},
		{name: "warm-up too long", replace: "latency: {duration: 10s, warmup: 2s}", with: "latency: {duration: 10s, warmup: 10s}", wantErr: "latency needs"},
		{name: "unknown level", replace: "levels: {low:", with: "levels: {lowish:", wantErr: `level "lowish"`},
		{name: "level names an unknown workflow", replace: "{low: {a: 5}}", with: "{low: {b: 5}}", wantErr: "workflow b"},
		{name: "ramp-up without window", replace: "warmup: 2s}\nthroughput", with: "warmup: 2s, ramp_up: true}\nthroughput", wantErr: "ramp_window"},
		{name: "no clients", replace: "clients: 2", with: "clients: 0", wantErr: "throughput needs"},
		{name: "no dir", replace: "dir: x/a, ", with: "", wantErr: "no dir"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := good
			if tt.replace != "" {
				if !strings.Contains(src, tt.replace) {
					t.Fatalf("test is wrong: %q not in the file", tt.replace)
				}
				src = strings.Replace(src, tt.replace, tt.with, 1)
			}
			path := filepath.Join(t.TempDir(), "x.yaml")
			os.WriteFile(path, []byte(src), 0o644)
			f, err := LoadFile(path)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				in, err := f.Workflows[0].JSONInput()
				if err != nil || string(in["size"]) != `{"rows":2}` || string(in["seed"]) != "1" {
					t.Fatalf("input as JSON: %s %s (%v)", in["seed"], in["size"], err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error %v, want one mentioning %q", err, tt.wantErr)
			}
		})
	}
}
