package e2e

import (
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/testbed/coverage"
)

// scanTwin serves h on 127.0.0.1, scans it with its /openapi.json and
// extra args, and returns the findings whose check ID starts with one of
// families (e.g. "resource.").
func scanTwin(t *testing.T, h http.Handler, families []string, args ...string) []scan.Finding {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	rep, _ := scanReport(t, srv.URL, append([]string{"--spec", srv.URL + "/openapi.json"}, args...)...)
	var out []scan.Finding
	for _, f := range rep.Findings {
		for _, fam := range families {
			if strings.HasPrefix(f.CheckID, fam) {
				out = append(out, f)
			}
		}
	}
	return out
}

// twinKeys lists findings as "check-id operation@location", sorted.
func twinKeys(fs []scan.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.CheckID+" "+f.Operation+"@"+f.Location)
	}
	sort.Strings(out)
	return out
}

// wantTwinFinding asserts a finding of check on op at loc (either may be
// "" to match any) with at least confidence conf.
func wantTwinFinding(t *testing.T, fs []scan.Finding, check, op, loc string, conf scan.Confidence) scan.Finding {
	t.Helper()
	for _, f := range fs {
		if f.CheckID == check && (op == "" || f.Operation == op) && (loc == "" || f.Location == loc) {
			if f.Confidence < conf {
				t.Errorf("%s %s@%s confidence = %v, want at least %v", check, op, loc, f.Confidence, conf)
			}
			if len(f.Evidence) == 0 || f.Remediation == "" || f.Fingerprint == "" {
				t.Errorf("%s %s@%s lacks evidence, remediation or fingerprint", check, op, loc)
			}
			return f
		}
	}
	t.Errorf("no %s finding on %q at %q; have %v", check, op, loc, twinKeys(fs))
	return scan.Finding{}
}

func TestResourceVulnerable(t *testing.T) {
	t.Parallel()
	fs := scanTwin(t, coverage.ResourceVulnerable(), []string{"resource."}, "--active", "--checks", "resource")
	wantTwinFinding(t, fs, "resource.no-rate-limit", "", "", scan.Likely)
	wantTwinFinding(t, fs, "resource.no-rate-limit-headers", "", "", scan.Likely)
	f := wantTwinFinding(t, fs, "resource.unbounded-page-size", "GET /items", "limit", scan.Likely)
	if f.CWE != 770 || f.Category != scan.API4ResourceConsumption {
		t.Errorf("unbounded-page-size = CWE-%d %s, want CWE-770 API4:2023", f.CWE, f.Category)
	}
	wantTwinFinding(t, fs, "resource.oversized-responses", "GET /export", "", scan.Likely)
	wantTwinFinding(t, fs, "resource.no-request-size-limit", "POST /items", "", scan.Likely)
	if len(fs) != 5 {
		t.Errorf("%d resource findings, want 5: %v", len(fs), twinKeys(fs))
	}
}

func TestResourceClean(t *testing.T) {
	t.Parallel()
	fs := scanTwin(t, coverage.ResourceClean(), []string{"resource."}, "--active", "--checks", "resource")
	if len(fs) != 0 {
		t.Errorf("clean twin has resource findings: %v", twinKeys(fs))
	}
}
