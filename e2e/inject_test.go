package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/testbed/flaskinject"
)

// injectScan runs an active scan limited to the inject family, with a
// longer bound than run's: time-based proofs take a while. It returns an
// error rather than failing t, so that scans can run side by side.
func injectScan(url string) (scan.Report, error) {
	var rep scan.Report
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, merlonBin, "scan", url, "--active", "--checks", "inject", "--format", "json")
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() > 1 {
		return rep, fmt.Errorf("merlon scan %s: exit %d\n%s", url, ee.ExitCode(), ee.Stderr)
	} else if err != nil && !ok {
		return rep, err
	}
	if err := json.Unmarshal(out, &rep); err != nil {
		return rep, fmt.Errorf("report is not JSON: %v\n%s", err, out)
	}
	return rep, nil
}

func TestInjectVulnerable(t *testing.T) {
	t.Parallel()
	app := flaskinject.Start(t, "vulnerable", flaskinject.Options{Postgres: true})
	rep, err := injectScan(app.URL)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]scan.Finding{}
	for _, f := range rep.Findings {
		got[f.CheckID+" "+f.Operation+" @ "+f.Location] = f
	}
	// Each finding, and the technique its title names: error-based
	// where the database error comes back, boolean where only found and
	// not found do, time-based where nothing does.
	want := map[string]string{}
	for _, db := range []string{"/sqlite", "/pg"} {
		errName := map[string]string{"/sqlite": "sqlite error", "/pg": "postgresql error"}[db]
		want["inject.sql GET "+db+"/items/by-name/{name} @ name (path)"] = errName
		want["inject.sql GET "+db+"/items/{item_id} @ item_id (path)"] = errName
		want["inject.sql GET "+db+"/items @ name (query)"] = errName
		want["inject.sql GET "+db+"/items/by-id @ id (query)"] = errName
		want["inject.sql POST "+db+"/items/find @ name (body)"] = errName
		want["inject.sql POST "+db+"/items/find-id @ id (body)"] = errName
		want["inject.sql GET "+db+"/blind/items @ fruit (query)"] = "(boolean)"
	}
	for k, v := range map[string]string{
		"inject.sql GET /pg/blind/audit @ fruit (query)":              "(time-based, postgresql)",
		"inject.sql GET /sqlite/items/current @ X-Item-Name (header)": "sqlite error",
		"inject.sql GET /sqlite/items/saved @ item (cookie)":          "sqlite error",
		"inject.sql POST /sqlite/items/query @ filter.name (body)":    "sqlite error",
		"inject.sql POST /sqlite/items/batch @ items[0].name (body)":  "sqlite error",
		"inject.nosql POST /mongo/login @ password (body)":            "NoSQL",
		"inject.nosql GET /mongo/products @ name (query)":             "NoSQL",
		"inject.command GET /tools/lookup @ host (query)":             "OS command injection in host",
		"inject.command GET /tools/ping @ host (query)":               "(time-based)",
		"inject.template GET /greeting @ name (query)":                "template injection",
		"inject.template GET /greeting/mako @ name (query)":           "template injection",
	} {
		want[k] = v
	}
	for k, title := range want {
		f, ok := got[k]
		if !ok {
			t.Errorf("no finding %s", k)
			continue
		}
		if !strings.Contains(f.Title, title) {
			t.Errorf("%s: title %q, want one with %q", k, f.Title, title)
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

// TestInjectCleanTwins scans the fixed twin and the jittery one side by
// side (the jittery one's spikes make it the longest scan of the three).
func TestInjectCleanTwins(t *testing.T) {
	t.Parallel()
	variants := []string{"fixed", "jitter"}
	reps := make([]scan.Report, len(variants))
	errs := make([]error, len(variants))
	var wg sync.WaitGroup
	for i, variant := range variants {
		app := flaskinject.Start(t, variant, flaskinject.Options{Postgres: true})
		wg.Go(func() { reps[i], errs[i] = injectScan(app.URL) })
	}
	wg.Wait()
	for i, variant := range variants {
		t.Run(variant, func(t *testing.T) {
			rep := reps[i]
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
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
