package flaskdynamo

import (
	"errors"
	"github.com/merlonsec/merlon/testbed/internal/proc"
	"strings"
	"testing"
)

func TestStartUnknownVariant(t *testing.T) {
	proc.Require(t, Available())
	app, procs, err := start("nonesuch", Options{})
	if err == nil {
		for _, p := range procs {
			p.Stop()
		}
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
