package e2e

import (
	"testing"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/testbed/coverage"
)

func TestInventoryVulnerable(t *testing.T) {
	t.Parallel()
	fs := scanTwin(t, coverage.InventoryVulnerable(), []string{"inventory."}, "--checks", "inventory")
	wantTwinFinding(t, fs, "inventory.old-versions", "", "/v1", scan.Likely)
	wantTwinFinding(t, fs, "inventory.deprecated-live", "GET /v2/reports/legacy", "", scan.Confirmed)
	wantTwinFinding(t, fs, "inventory.undocumented-endpoints", "", "/internal", scan.Likely)
	wantTwinFinding(t, fs, "inventory.undocumented-endpoints", "", "/v2/users/1/admin", scan.Likely)
	wantTwinFinding(t, fs, "inventory.undocumented-endpoints", "", "/v2/orders", scan.Likely)
	for _, c := range []struct {
		path string
		sev  scan.Severity
	}{{"/.env", scan.High}, {"/.git/config", scan.High}, {"/.git/HEAD", scan.High}} {
		f := wantTwinFinding(t, fs, "inventory.exposed-files", "", c.path, scan.Confirmed)
		if f.CheckID != "" && (f.Severity != c.sev || f.CWE != 538) {
			t.Errorf("exposed %s = %v CWE-%d, want %v CWE-538", c.path, f.Severity, f.CWE, c.sev)
		}
	}
	for _, f := range fs {
		if f.CheckID == "inventory.no-versioning" {
			t.Errorf("versioned API reported as unversioned")
		}
		// The twin's /actuator is exposure.debug-pages' to report.
		if f.Location == "/actuator" {
			t.Errorf("inventory reported %s on /actuator, which exposure.debug-pages owns", f.CheckID)
		}
	}
	if len(fs) != 8 {
		t.Errorf("%d inventory findings, want 8: %v", len(fs), twinKeys(fs))
	}
}

func TestInventoryUnversioned(t *testing.T) {
	t.Parallel()
	fs := scanTwin(t, coverage.InventoryUnversioned(), []string{"inventory."}, "--checks", "inventory")
	wantTwinFinding(t, fs, "inventory.no-versioning", "", "", scan.Likely)
	if len(fs) != 1 {
		t.Errorf("%d inventory findings, want 1: %v", len(fs), twinKeys(fs))
	}
}

// TestInventoryClean scans a soft-404 server: every unknown path answers
// 200, so each finding here would be a false positive of the baseline
// logic.
func TestInventoryClean(t *testing.T) {
	t.Parallel()
	fs := scanTwin(t, coverage.InventoryClean(), []string{"inventory."}, "--checks", "inventory")
	if len(fs) != 0 {
		t.Errorf("clean twin has inventory findings: %v", twinKeys(fs))
	}
}
