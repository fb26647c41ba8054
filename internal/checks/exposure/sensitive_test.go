package exposure_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/checks/exposure"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/testbed/coverage"
)

var exposureOps = checktest.WithOperations(checktest.Op("GET", "/users"), checktest.Op("GET", "/config"))

func TestSensitiveData(t *testing.T) {
	fs := checktest.Run(t, exposure.SensitiveData{}, coverage.ExposureVulnerable(), exposureOps)
	checktest.Only(t, fs, "exposure.sensitive-data")
	want := map[string]scan.Severity{
		"GET /users|password hash":          scan.High,
		"GET /users|payment card number":    scan.High,
		"GET /users|social security number": scan.High,
		"GET /users|personal contact data":  scan.Medium,
		"GET /config|secret":                scan.Critical,
		"GET /config|internal IP address":   scan.Low,
	}
	got := make(map[string]scan.Severity)
	for _, f := range fs {
		got[f.Operation+"|"+f.Location] = f.Severity
	}
	for k, sev := range want {
		if g, ok := got[k]; !ok || g != sev {
			t.Errorf("SensitiveData finding %s = %v (present %v), want %v", k, g, ok, sev)
		}
	}
	if len(fs) != len(want) {
		for _, f := range fs {
			t.Logf("have %s", checktest.Describe(f))
		}
		t.Errorf("SensitiveData = %d findings, want %d", len(fs), len(want))
	}
	b, err := json.Marshal(fs)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{coverage.LeakedStripeKey, coverage.LeakedGitHubKey, coverage.LeakedAWSKey, coverage.LeakedCard, coverage.LeakedSSN, coverage.LeakedBcrypt[7:]} {
		if strings.Contains(string(b), secret) {
			t.Errorf("findings hold %q in clear", secret)
		}
	}
	if !strings.Contains(string(b), "[Stripe live key …T3st]") {
		t.Errorf("findings do not show the masked tail of the keys")
	}
}

func TestSensitiveDataClean(t *testing.T) {
	checktest.None(t, checktest.Run(t, exposure.SensitiveData{}, coverage.ExposureClean(), exposureOps))
}

func TestDebugPages(t *testing.T) {
	fs := checktest.Run(t, exposure.DebugPages{}, coverage.ExposureVulnerable())
	got := checktest.Locations(checktest.Only(t, fs, "exposure.debug-pages"))
	want := []string{"/console", "/actuator/env", "/actuator/heapdump", "/actuator", exposure.UnknownPath}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("DebugPages locations = %q, want %q", got, want)
	}
	for _, f := range fs {
		if f.Confidence != scan.Confirmed || f.Evidence[0].Matched == "" {
			t.Errorf("%s: want confirmed with a matched signature", checktest.Describe(f))
		}
	}
}

func TestDebugPagesClean(t *testing.T) {
	checktest.None(t, checktest.Run(t, exposure.DebugPages{}, coverage.ExposureClean()))
}

// TestSensitiveDataWhere: personal data behind credentials ranks a step
// below the same data any anonymous caller gets; a secret stays critical
// wherever it leaks.
func TestSensitiveDataWhere(t *testing.T) {
	alice := scan.Identity{Name: "alice", Headers: http.Header{"Authorization": {"Bearer alice-token"}}}
	for _, tt := range []struct {
		name string
		opt  checktest.Option
		want map[string]scan.Severity
	}{
		{"identity", checktest.WithIdentities(alice), map[string]scan.Severity{
			"GET /users|password hash": scan.Medium, "GET /users|personal contact data": scan.Low, "GET /config|secret": scan.Critical}},
		{"-H credentials", checktest.WithHeader(http.Header{"Authorization": {"Bearer t0k3n"}}), map[string]scan.Severity{
			"GET /users|payment card number": scan.Medium, "GET /config|secret": scan.Critical}},
		{"-H without credentials", checktest.WithHeader(http.Header{"Accept-Language": {"en"}}), map[string]scan.Severity{
			"GET /users|payment card number": scan.High}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fs := checktest.Run(t, exposure.SensitiveData{}, coverage.ExposureVulnerable(), exposureOps, tt.opt)
			got := make(map[string]scan.Finding)
			for _, f := range fs {
				got[f.Operation+"|"+f.Location] = f
			}
			for k, sev := range tt.want {
				f, ok := got[k]
				if !ok || f.Severity != sev {
					t.Errorf("%s = %v (present %v), want %v", k, f.Severity, ok, sev)
				}
			}
			if f := got["GET /users|password hash"]; tt.name == "identity" && !strings.Contains(f.Description, "alice's credentials") {
				t.Errorf("description does not say whose credentials: %s", f.Description)
			}
		})
	}
}
