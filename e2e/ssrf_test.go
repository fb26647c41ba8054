package e2e

import (
	"strings"
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
	wantTwinFinding(t, fs, "ssrf.request-forgery", "GET /card", "query:source", scan.Confirmed)
	card := wantTwinFinding(t, fs, "unsafe.third-party-reflection", "GET /card", "query:source", scan.Confirmed)
	if card.CheckID != "" && (card.CWE != 79 || card.Category != scan.API10UnsafeConsumption || !strings.HasPrefix(card.Evidence[0].Matched, "<script>")) {
		t.Errorf("third-party reflection = CWE-%d %s matching %q, want CWE-79 API10:2023 matching the script element",
			card.CWE, card.Category, card.Evidence[0].Matched)
	}
	// /preview fetches the page too, but answers JSON: not reported.
	if len(fs) != 5 {
		t.Errorf("%d findings, want 5: %v", len(fs), twinKeys(fs))
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

// ssrfInternalArgs point the callback at a host the target cannot reach,
// as a public callback URL is from a target with no way out, so that only
// the internal-address payloads can prove the forgery.
var ssrfInternalArgs = []string{"--active", "--checks", "ssrf", "--callback-url", "http://merlon-callback.invalid"}

func TestSSRFInternalVulnerable(t *testing.T) {
	t.Parallel()
	fs := scanTwin(t, coverage.SSRFInternalVulnerable(), outbound, ssrfInternalArgs...)
	// The listener's loopback address, fetched: the listener saw it.
	wantTwinFinding(t, fs, "ssrf.request-forgery", "GET /fetch", "query:url", scan.Confirmed)
	// Loopback refused, the metadata address fetched and quoted.
	f := wantTwinFinding(t, fs, "ssrf.request-forgery", "GET /avatar", "query:image_url", scan.Likely)
	if f.CheckID != "" && (f.Confidence != scan.Likely || !strings.Contains(f.Description, "metadata")) {
		t.Errorf("/avatar finding = %v %q, want likely, through the metadata address", f.Confidence, f.Description)
	}
	if len(fs) != 2 {
		t.Errorf("%d findings, want 2: %v", len(fs), twinKeys(fs))
	}
}

func TestSSRFInternalClean(t *testing.T) {
	t.Parallel()
	if fs := scanTwin(t, coverage.SSRFInternalClean(), outbound, ssrfInternalArgs...); len(fs) != 0 {
		t.Errorf("clean twin has findings: %v", twinKeys(fs))
	}
}
