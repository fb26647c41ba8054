package llm

import (
	"net/url"
	"runtime"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
)

// TestSessionPerTarget: one target gets one session however many checks
// ask, another target its own, and a session goes when its target does,
// so a long-lived check list does not collect them.
func TestSessionPerTarget(t *testing.T) {
	f := NewFamily(Config{})
	u, _ := url.Parse("http://127.0.0.1:1")
	a, b := &scan.Target{BaseURL: u}, &scan.Target{BaseURL: u}
	if f.session(a) != f.session(a) {
		t.Errorf("session(a) twice = two sessions, want one")
	}
	if f.session(a) == f.session(b) {
		t.Errorf("session(a) = session(b), want one per target")
	}
	if n := f.len(); n != 2 {
		t.Fatalf("sessions = %d, want 2", n)
	}
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	a, b = nil, nil
	for deadline := time.Now().Add(5 * time.Second); f.len() > 0 && time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	if n := f.len(); n != 0 {
		t.Errorf("sessions after the targets were collected = %d, want 0", n)
	}
}
