package loadtest

import (
	"fmt"
	"io"
	"time"
)

// progress writes a one-line status while a run goes on. On a terminal it rewrites the same line with \r; in a
// log or pipe it prints a line each time, since \r there only produces one unreadable line.
type progress struct {
	w        io.Writer
	tty      bool
	last     time.Duration
	lastReqs uint64
}

func newProgress(w io.Writer, tty bool) *progress { return &progress{w: w, tty: tty} }

// update prints elapsed time, requests so far, the request rate since the previous update and status counts.
func (p *progress) update(elapsed time.Duration, requests uint64, codes map[int]uint64) {
	if p.w == nil {
		return
	}
	rate := 0.0
	if dt := (elapsed - p.last).Seconds(); dt > 0 {
		rate = float64(requests-p.lastReqs) / dt
	}
	p.last, p.lastReqs = elapsed, requests
	p.print(fmt.Sprintf("load %5.1fs  requests %d  rate %.0f/s  %s", elapsed.Seconds(), requests, rate, statusLine(codes)))
}

func (p *progress) print(line string) {
	if p.tty {
		fmt.Fprintf(p.w, "\r%s\x1b[K", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}

// finish prints the final counts with the average rate of the whole run (the time since the last update may be too
// short for a meaningful current rate), so even a run shorter than the interval shows one line; on a terminal it
// then ends the line so whatever comes next starts on its own.
func (p *progress) finish(elapsed time.Duration, requests uint64, codes map[int]uint64) {
	if p.w == nil {
		return
	}
	avg := 0.0
	if s := elapsed.Seconds(); s > 0 {
		avg = float64(requests) / s
	}
	p.print(fmt.Sprintf("load %5.1fs  requests %d  average %.0f/s  %s", elapsed.Seconds(), requests, avg, statusLine(codes)))
	if p.tty {
		fmt.Fprintln(p.w)
	}
}
