package e2e

import (
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/testbed/coverage"
)

// exposureChecks are the checks the exposure and misconfiguration twins
// are built for.
const exposureChecks = "exposure,misconfig.dangerous-methods"

// keys lists "check location" for every finding of the report, sorted.
func keys(rep scan.Report) []string {
	var ks []string
	for _, f := range rep.Findings {
		ks = append(ks, f.CheckID+" "+f.Operation+" "+f.Location)
	}
	sort.Strings(ks)
	return ks
}

func TestExposureVulnerable(t *testing.T) {
	srv := httptest.NewServer(coverage.ExposureVulnerable())
	defer srv.Close()
	rep, _ := scanReport(t, srv.URL, "--checks", exposureChecks)
	got := strings.Join(keys(rep), "\n")
	for _, want := range []string{
		"exposure.sensitive-data GET /config secret",
		"exposure.sensitive-data GET /config internal IP address",
		"exposure.sensitive-data GET /users password hash",
		"exposure.sensitive-data GET /users payment card number",
		"exposure.sensitive-data GET /users social security number",
		"exposure.sensitive-data GET /users personal contact data",
		"exposure.debug-pages  /console",
		"exposure.debug-pages  /actuator/env",
		"exposure.debug-pages  /actuator/heapdump",
		"exposure.debug-pages  /actuator",
	} {
		if !strings.Contains(got+"\n", want+"\n") {
			t.Errorf("findings lack %q; have\n%s", want, got)
		}
	}
	// Whatever the report format, what leaked must not be in it.
	for _, format := range []string{"json", "text", "sarif", "markdown"} {
		r := run(t, "scan", srv.URL, "--checks", exposureChecks, "--format", format)
		for _, secret := range []string{coverage.LeakedStripeKey, coverage.LeakedGitHubKey, coverage.LeakedAWSKey, coverage.LeakedCard, coverage.LeakedSSN, coverage.LeakedBcrypt[7:]} {
			if strings.Contains(r.stdout, secret) {
				t.Errorf("%s report holds %q in clear", format, secret)
			}
		}
	}
}

func TestExposureClean(t *testing.T) {
	srv := httptest.NewServer(coverage.ExposureClean())
	defer srv.Close()
	rep, _ := scanReport(t, srv.URL, "--checks", exposureChecks, "--active")
	if len(rep.Findings) != 0 {
		t.Errorf("clean twin has findings:\n%s", strings.Join(keys(rep), "\n"))
	}
	for _, c := range rep.Checks {
		if c.Status != "ok" {
			t.Errorf("check %s ended %s (%s %s), want ok", c.ID, c.Status, c.Error, c.Reason)
		}
	}
}

func TestDangerousMethods(t *testing.T) {
	vuln := httptest.NewServer(coverage.MisconfigVulnerable())
	defer vuln.Close()
	clean := httptest.NewServer(coverage.MisconfigClean())
	defer clean.Close()
	tests := []struct {
		name string
		url  string
		args []string
		want string
	}{
		{"vulnerable passive", vuln.URL, nil, "misconfig.dangerous-methods  TRACE possible\nmisconfig.dangerous-methods  WebDAV possible"},
		{"vulnerable active", vuln.URL, []string{"--active"}, "misconfig.dangerous-methods  TRACE confirmed\nmisconfig.dangerous-methods  WebDAV possible"},
		{"clean passive", clean.URL, nil, ""},
		{"clean active", clean.URL, []string{"--active"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, _ := scanReport(t, tt.url, append([]string{"--checks", "misconfig.dangerous-methods"}, tt.args...)...)
			var got []string
			for _, f := range rep.Findings {
				got = append(got, f.CheckID+" "+f.Operation+" "+f.Location+" "+f.Confidence.String())
			}
			sort.Strings(got)
			if g := strings.Join(got, "\n"); g != tt.want {
				t.Errorf("findings =\n%s\nwant\n%s", g, tt.want)
			}
		})
	}
}

// TestExposureFullScan: a scan with every check names each debug or
// management path once; exposure.debug-pages owns them, and
// inventory.exposed-files, which asks for files at the same kind of
// paths, does not repeat them.
func TestExposureFullScan(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(coverage.ExposureVulnerable())
	defer srv.Close()
	rep, _ := scanReport(t, srv.URL, "--spec", srv.URL+"/openapi.json")
	by := map[string][]string{}
	for _, f := range rep.Findings {
		if f.Operation == "" && strings.HasPrefix(f.Location, "/") {
			by[f.Location] = append(by[f.Location], f.CheckID)
		}
	}
	for _, p := range []string{"/actuator", "/actuator/env", "/actuator/heapdump", "/console"} {
		if got := by[p]; len(got) != 1 || got[0] != "exposure.debug-pages" {
			t.Errorf("findings on %s = %v, want exactly one, from exposure.debug-pages", p, got)
		}
	}
	for p, ids := range by {
		if len(ids) > 1 {
			t.Errorf("%s reported %d times: %v", p, len(ids), ids)
		}
	}
}

func TestCORSVulnerable(t *testing.T) {
	t.Parallel()
	fs := scanTwin(t, coverage.CORSVulnerable(), []string{"misconfig.cors"}, "--checks", "misconfig.cors")
	for _, c := range []struct {
		loc string
		sev scan.Severity
	}{
		{"Access-Control-Allow-Origin: null", scan.High},  // null origin with credentials
		{"Access-Control-Allow-Credentials", scan.Medium}, // * with credentials
		{"Access-Control-Allow-Origin", scan.Low},         // any origin reflected, no credentials
	} {
		f := wantTwinFinding(t, fs, "misconfig.cors", "", c.loc, scan.Confirmed)
		if f.CheckID != "" && f.Severity != c.sev {
			t.Errorf("misconfig.cors %s severity = %v, want %v", c.loc, f.Severity, c.sev)
		}
	}
	if len(fs) != 3 {
		t.Errorf("%d CORS findings, want 3: %v", len(fs), twinKeys(fs))
	}
}

func TestCORSClean(t *testing.T) {
	t.Parallel()
	if fs := scanTwin(t, coverage.CORSClean(), []string{"misconfig."}, "--checks", "misconfig.cors"); len(fs) != 0 {
		t.Errorf("clean twin has CORS findings: %v", twinKeys(fs))
	}
}
