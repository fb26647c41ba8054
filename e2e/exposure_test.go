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
const exposureChecks = "exposure.sensitive-data,exposure.debug-pages,misconfig.dangerous-methods"

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
