package experiments

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Progress counts the requests of a run as they go: sent, completed, failed
// and timed out. Runs going on at once may share one. Its zero value
// counts but shows nothing; Show draws it.
type Progress struct {
	sent, done, errors, timeouts atomic.Int64
}

// Counts is a snapshot of a Progress.
type Counts struct {
	Sent, Done, Errors, Timeouts int64
}

// Counts returns the current counts.
func (p *Progress) Counts() Counts {
	return Counts{Sent: p.sent.Load(), Done: p.done.Load(), Errors: p.errors.Load(), Timeouts: p.timeouts.Load()}
}

// Show draws the progress on w until the returned stop function is
// called, which draws it a last time. On a terminal it is a bar redrawn in
// place four times a second; otherwise a plain line every lineEvery.
// planned is the number of requests the run will send (0 when unknown, as
// in a closed loop), duration how long it fires.
func (p *Progress) Show(w io.Writer, terminal bool, planned int, duration, lineEvery time.Duration) (stop func()) {
	start := time.Now()
	every := lineEvery
	if terminal {
		every = 250 * time.Millisecond
	}
	draw := func(final bool) {
		c := p.Counts()
		elapsed := time.Since(start)
		if terminal {
			fmt.Fprintf(w, "\r%s\x1b[K", barLine(c, elapsed, duration, planned))
			if final {
				fmt.Fprintln(w)
			}
			return
		}
		fmt.Fprintln(w, plainLine(c, elapsed, duration, planned))
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				draw(false)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
			draw(true)
		})
	}
}

// barLine is the terminal form: a bar of the elapsed share of the
// duration, then the counts.
func barLine(c Counts, elapsed, duration time.Duration, planned int) string {
	const width = 24
	frac := 1.0
	if duration > 0 {
		frac = min(1, float64(elapsed)/float64(duration))
	}
	n := int(frac * width)
	bar := strings.Repeat("=", n) + strings.Repeat(" ", width-n)
	if n > 0 && n < width {
		bar = strings.Repeat("=", n-1) + ">" + strings.Repeat(" ", width-n)
	}
	return fmt.Sprintf("  [%s] %s/%s  sent %s  done %d  errors %d  timeouts %d",
		bar, roundSeconds(elapsed), roundSeconds(duration), sentOf(c.Sent, planned), c.Done, c.Errors, c.Timeouts)
}

// plainLine is the form for logs and pipes.
func plainLine(c Counts, elapsed, duration time.Duration, planned int) string {
	return fmt.Sprintf("  %s of %s: sent %s, done %d, errors %d, timeouts %d",
		roundSeconds(elapsed), roundSeconds(duration), sentOf(c.Sent, planned), c.Done, c.Errors, c.Timeouts)
}

func sentOf(sent int64, planned int) string {
	if planned > 0 {
		return fmt.Sprintf("%d/%d", sent, planned)
	}
	return fmt.Sprint(sent)
}

func roundSeconds(d time.Duration) string { return d.Round(time.Second).String() }
