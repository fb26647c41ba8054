package scancmd

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/merlonsec/merlon/internal/pipeline"
)

// progress prints the scan's advance on stderr once the scan has run for a
// second: a self-updating line on a terminal, a line every few seconds
// otherwise (CI logs).
type progress struct {
	w     io.Writer
	tty   bool
	start time.Time

	mu       sync.Mutex
	last     time.Time
	shown    bool
	finished bool
}

func newProgress(w io.Writer, tty bool) *progress {
	return &progress{w: w, tty: tty, start: time.Now()}
}

func (p *progress) update(s pipeline.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if p.finished || now.Sub(p.start) < time.Second {
		return
	}
	every := 5 * time.Second
	if p.tty {
		every = 200 * time.Millisecond
	}
	if now.Sub(p.last) < every && s.Phase != "done" {
		return
	}
	p.last = now
	line := fmt.Sprintf("merlon: %s, %d requests", s.Phase, s.Requests)
	if s.ChecksTotal > 0 {
		line += fmt.Sprintf(", checks %d/%d", s.ChecksDone, s.ChecksTotal)
	}
	line += fmt.Sprintf(", %s", now.Sub(p.start).Round(time.Second))
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
	p.shown = true
}

func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.finished {
		return
	}
	p.finished = true
	if p.tty && p.shown {
		fmt.Fprint(p.w, "\r\033[K")
	}
}

// println prints a line of its own on stderr, clearing the progress line
// first on a terminal; the next update draws it again below.
func (p *progress) println(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.tty && p.shown && !p.finished {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintln(p.w, line)
}
