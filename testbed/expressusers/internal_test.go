package expressusers

import (
	"errors"
	"github.com/merlonsec/merlon/testbed/internal/proc"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func TestStartUnknownVariant(t *testing.T) {
	proc.Require(t, Available())
	app, p, err := start("nonesuch")
	if err == nil {
		p.Stop()
		t.Fatalf("start(nonesuch) = %v, want an error", app)
	}
	if !errors.Is(err, proc.ErrExited) {
		t.Errorf("start(nonesuch) error = %v, want it to wrap proc.ErrExited", err)
	}
	// The app's own complaint must reach the failure message.
	if !strings.Contains(err.Error(), "unknown MERLON_VARIANT") {
		t.Errorf("start(nonesuch) error = %v, want the app's output naming the bad variant", err)
	}
}

// TestShortSecretRefused: the fixed variant will not sign with a key short
// enough to guess.
func TestShortSecretRefused(t *testing.T) {
	proc.Require(t, Available())
	cmd := exec.Command("node", "app.js")
	cmd.Dir = Dir()
	cmd.Env = append(os.Environ(), "MERLON_VARIANT=fixed", "PORT=0", "JWT_SECRET=short")
	p, err := proc.Launch("express app", cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Stop()
	select {
	case <-p.Done():
	case <-time.After(readyTimeout):
		t.Fatal("app with a 5-character JWT_SECRET still runs, want it to exit")
	}
	if p.ExitErr() == nil || !strings.Contains(p.Output(), "JWT_SECRET must be at least 32 characters") {
		t.Errorf("app with a short JWT_SECRET: exit %v, output %q; want a failure naming JWT_SECRET", p.ExitErr(), p.Output())
	}
}
