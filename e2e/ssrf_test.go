package e2e

import (
	"testing"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/testbed/coverage"
)

var outbound = []string{"ssrf.", "unsafe."}

func TestOutboundVulnerable(t *testing.T) {
	t.Parallel()
	fs := scanTwin(t, coverage.UnsafeVulnerable(), outbound, "--active", "--checks", "ssrf,unsafe")
	f := wantTwinFinding(t, fs, "ssrf.request-forgery", "GET /preview", "query:url", scan.Confirmed)
	if f.CheckID != "" && (f.CWE != 918 || f.Category != scan.API7SSRF) {
		t.Errorf("ssrf = CWE-%d %s, want CWE-918 API7:2023", f.CWE, f.Category)
	}
	wantTwinFinding(t, fs, "unsafe.webhook-any-url", "POST /webhooks", "body:url", scan.Confirmed)
	wantTwinFinding(t, fs, "unsafe.open-redirect", "GET /login", "query:next", scan.Confirmed)
	if len(fs) != 3 {
		t.Errorf("%d findings, want 3: %v", len(fs), twinKeys(fs))
	}
}

func TestOutboundClean(t *testing.T) {
	t.Parallel()
	fs := scanTwin(t, coverage.UnsafeClean(), outbound, "--active", "--checks", "ssrf,unsafe")
	if len(fs) != 0 {
		t.Errorf("clean twin has findings: %v", twinKeys(fs))
	}
}

// TestOutboundPassiveSkips: without --active no callback listener runs,
// so the out-of-band checks do not run, and the passive open-redirect
// check still does.
func TestOutboundPassive(t *testing.T) {
	t.Parallel()
	fs := scanTwin(t, coverage.UnsafeVulnerable(), outbound, "--checks", "ssrf,unsafe")
	wantTwinFinding(t, fs, "unsafe.open-redirect", "GET /login", "query:next", scan.Confirmed)
	if len(fs) != 1 {
		t.Errorf("%d findings without --active, want 1: %v", len(fs), twinKeys(fs))
	}
}
