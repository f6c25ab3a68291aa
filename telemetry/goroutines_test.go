package telemetry

import (
	"runtime"
	"testing"
)

// TestMetricsGoroutines: /metrics carries go_goroutines, which the soak
// script (scripts/soak.sh) samples to catch goroutine leaks, and it follows
// the goroutines that come and go.
func TestMetricsGoroutines(t *testing.T) {
	m := NewMetrics()
	before, ok := scrape(t, m.Handler())["go_goroutines"]
	if !ok {
		t.Fatal("no go_goroutines sample in the exposition")
	}
	if before < 1 {
		t.Fatalf("go_goroutines = %v, want at least 1 (this test's own)", before)
	}
	const extra = 50
	stop := make(chan struct{})
	started := make(chan struct{}, extra)
	for range extra {
		go func() {
			started <- struct{}{}
			<-stop
		}()
	}
	for range extra {
		<-started
	}
	// Goroutines of earlier tests may still be ending: compare with the
	// runtime's count around the scrape rather than with before.
	lo := runtime.NumGoroutine()
	during := scrape(t, m.Handler())["go_goroutines"]
	hi := runtime.NumGoroutine()
	close(stop)
	if during < extra || during < float64(min(lo, hi)-2) || during > float64(max(lo, hi)+2) {
		t.Errorf("go_goroutines = %v with %d more goroutines running, want %d to %d (the runtime's count around the scrape)", during, extra, min(lo, hi), max(lo, hi))
	}
}
