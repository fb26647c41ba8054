package proc

import (
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestTailKeepsTheEnd(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"under the limit", []string{"ab", "c"}, "abc"},
		{"at the limit", []string{"abcd"}, "abcd"},
		{"over the limit", []string{"abc", "def"}, "cdef"},
		{"one long write", []string{"abcdefgh"}, "efgh"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &Tail{Max: 4}
			for _, s := range tc.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write(%q) = %d, %v, want %d, nil", s, n, err, len(s))
				}
			}
			if got := w.String(); got != tc.want {
				t.Errorf("tail after %q = %q, want %q", tc.writes, got, tc.want)
			}
		})
	}
}

// TestExitBeforeReady: a process that dies early is reported with
// ErrExited and its output, which the harnesses use to retry.
func TestExitBeforeReady(t *testing.T) {
	p, err := Launch("failing", exec.Command("/bin/sh", "-c", "echo cannot bind port >&2; exit 3"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	err = WaitFor(p, time.Now().Add(10*time.Second), func() bool { return false })
	if !errors.Is(err, ErrExited) {
		t.Fatalf("WaitFor = %v, want ErrExited", err)
	}
	if msg := WithOutput(err, p).Error(); !strings.Contains(msg, "cannot bind port") || !strings.Contains(msg, "failing output") {
		t.Errorf("WithOutput = %q, want the process's name and output", msg)
	}
}

// TestStopKillsTheGroup: Stop ends the child and anything it started.
func TestStopKillsTheGroup(t *testing.T) {
	p, err := Launch("sleeper", exec.Command("/bin/sh", "-c", "sleep 300 & sleep 300"))
	if err != nil {
		t.Fatal(err)
	}
	p.Stop()
	select {
	case <-p.Done():
	default:
		t.Fatal("process still running after Stop")
	}
}

func TestWaitForDeadline(t *testing.T) {
	p, err := Launch("sleeper", exec.Command("/bin/sh", "-c", "sleep 300"))
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	err = WaitFor(p, time.Now().Add(100*time.Millisecond), func() bool { return false })
	if err == nil || errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "not ready") {
		t.Errorf("WaitFor past the deadline = %v, want a not-ready error", err)
	}
}
