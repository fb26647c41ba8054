package e2e

import (
	"context"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/testbed/flaskinject"
)

// injectScan runs an active scan limited to the inject family, with a
// longer bound than run's: time-based probes on the jittery twin take a
// while.
func injectScan(t *testing.T, url string) scan.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, merlonBin, "scan", url, "--active", "--checks", "inject", "--format", "json")
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() > 1 {
		t.Fatalf("merlon scan %s: exit %d\n%s", url, ee.ExitCode(), ee.Stderr)
	} else if err != nil && !ok {
		t.Fatal(err)
	}
	var rep scan.Report
	if err := json.Unmarshal(out, &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out)
	}
	return rep
}

func TestInjectVulnerable(t *testing.T) {
	t.Parallel()
	app := flaskinject.Start(t, "vulnerable", flaskinject.Options{Postgres: true})
	rep := injectScan(t, app.URL)
	got := map[string]scan.Finding{}
	for _, f := range rep.Findings {
		got[f.CheckID+" "+f.Operation+" @ "+f.Location] = f
	}
	var want []string
	for _, db := range []string{"/sqlite", "/pg"} {
		want = append(want,
			"inject.sql GET "+db+"/items/by-name/{name} @ name (path)",
			"inject.sql GET "+db+"/items/{item_id} @ item_id (path)",
			"inject.sql GET "+db+"/items @ name (query)",
			"inject.sql POST "+db+"/items/find @ name (body)",
			"inject.sql POST "+db+"/items/find-id @ id (body)",
		)
	}
	want = append(want,
		"inject.nosql POST /mongo/login @ password (body)",
		"inject.nosql GET /mongo/products @ name (query)",
		"inject.command GET /tools/lookup @ host (query)",
		"inject.template GET /greeting @ name (query)",
	)
	for _, k := range want {
		f, ok := got[k]
		if !ok {
			t.Errorf("no finding %s", k)
			continue
		}
		if f.Confidence != scan.Confirmed || f.Category != scan.API8Misconfiguration || f.Remediation == "" || len(f.Evidence) < 3 {
			t.Errorf("%s = %v, %s, %d evidence, want confirmed API8 with remediation, baseline and proof", k, f.Confidence, f.Category, len(f.Evidence))
		}
		if !strings.HasPrefix(f.Evidence[1].Curl, "curl") {
			t.Errorf("%s: evidence has no curl line", k)
		}
	}
	if f := got["inject.sql GET /pg/items/by-name/{name} @ name (path)"]; !strings.Contains(f.Remediation, "psycopg2") {
		t.Errorf("PostgreSQL finding's remediation does not name psycopg2:\n%s", f.Remediation)
	}
	if f := got["inject.sql GET /sqlite/items/by-name/{name} @ name (path)"]; !strings.Contains(f.Remediation, "sqlite3") {
		t.Errorf("SQLite finding's remediation does not name sqlite3:\n%s", f.Remediation)
	}
	if len(rep.Findings) > len(want) {
		for _, f := range rep.Findings {
			t.Logf("finding: %s %s @ %s: %s", f.CheckID, f.Operation, f.Location, f.Title)
		}
		t.Errorf("%d findings, want %d", len(rep.Findings), len(want))
	}
}

func TestInjectCleanTwins(t *testing.T) {
	t.Parallel()
	for _, variant := range []string{"fixed", "jitter"} {
		t.Run(variant, func(t *testing.T) {
			t.Parallel()
			app := flaskinject.Start(t, variant, flaskinject.Options{Postgres: true})
			rep := injectScan(t, app.URL)
			for _, f := range rep.Findings {
				t.Errorf("unexpected finding on the %s twin: %s %s @ %s: %s", variant, f.CheckID, f.Operation, f.Location, f.Title)
			}
			for _, c := range rep.Checks {
				if strings.HasPrefix(c.ID, "inject.") && c.Status != "ok" {
					t.Errorf("check %s ended %s (%s), want ok", c.ID, c.Status, c.Error)
				}
			}
			if rep.Coverage.Reached == 0 {
				t.Errorf("coverage = %+v, want the twin's operations reached", rep.Coverage)
			}
		})
	}
}
