package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/checks"
	"github.com/merlonsec/merlon/internal/pipeline"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/store"
)

// TestMerlonScansItselfClean runs every passive check against the server,
// signed in with an API token and guided by its own /api/openapi.json, and
// wants nothing above info. Then the active mass-assignment check, run
// against the same server, must find nothing at all: the server-owned
// properties its reads carry (createdAt, status) are noted at info only
// because the write schemas forbid undeclared properties, and this proves
// the server keeps to that.
func TestMerlonScansItselfClean(t *testing.T) {
	if testing.Short() {
		t.Skip("scans the server; skipped with -short")
	}
	e := newEnv(t, false)
	ctx := context.Background()
	// Something to read, so the scan reaches real records.
	tg := &store.Target{Name: "example", URL: "https://api.example.com"}
	if err := e.st.CreateTarget(ctx, tg); err != nil {
		t.Fatal(err)
	}
	sc := &store.Scan{TargetID: tg.ID, RequestedBy: "cli"}
	if err := e.st.CreateScan(ctx, sc); err != nil {
		t.Fatal(err)
	}
	f := scan.Finding{CheckID: "misconfig.cors", Title: "CORS", Severity: scan.Low, Fingerprint: scan.Fingerprint("misconfig.cors", tg.URL, "", "")}
	if err := e.st.SaveReport(ctx, sc.ID, &scan.Report{Target: tg.URL, Findings: []scan.Finding{f}, Score: scan.Score{Overall: 90, Grade: "A"}}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	runCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	rep, err := pipeline.Run(runCtx, pipeline.Config{
		Target:      u,
		Spec:        srv.URL + "/api/openapi.json",
		Profile:     scan.Standard,
		Headers:     http.Header{"Authorization": {"Bearer " + e.token}},
		Checks:      checks.All(),
		ToolVersion: "test",
	})
	if err != nil {
		t.Fatalf("pipeline.Run against the server = %v", err)
	}
	if rep.Coverage.Succeeded < 10 {
		t.Errorf("the scan reached %d operations with a 2xx, want most of the API (coverage %+v)", rep.Coverage.Succeeded, rep.Coverage)
	}
	for _, f := range rep.Findings {
		if f.Severity > scan.Info {
			t.Errorf("finding on the server: %s %s %s at %s %s: %s", f.Severity, f.CheckID, f.Title, f.Operation, f.Location, f.Description)
		}
	}
	{
		var ma []scan.Check
		for _, c := range checks.All() {
			if c.Meta().ID == "property.mass-assignment" {
				ma = append(ma, c)
			}
		}
		if len(ma) != 1 {
			t.Fatalf("found %d property.mass-assignment checks, want 1", len(ma))
		}
		active, err := pipeline.Run(runCtx, pipeline.Config{
			Target: u, Spec: srv.URL + "/api/openapi.json", Profile: scan.Standard, Active: true,
			Headers: http.Header{"Authorization": {"Bearer " + e.token}}, Checks: ma, ToolVersion: "test",
		})
		if err != nil {
			t.Fatalf("active mass-assignment scan = %v", err)
		}
		for _, f := range active.Findings {
			t.Errorf("active finding on the server: %s %s %s at %s %s: %s", f.Severity, f.CheckID, f.Title, f.Operation, f.Location, f.Description)
		}
		t.Logf("active mass-assignment: %d requests", active.Coverage.Requests)
		if active.Coverage.Requests < 5 {
			t.Errorf("active mass-assignment sent %d requests, want it to probe the writable resources", active.Coverage.Requests)
		}
		if st := checkStatus(active, "property.mass-assignment"); st != "ok" {
			t.Errorf("active mass-assignment check ended %q, want ok", st)
		}
	}
	for _, f := range rep.Findings {
		t.Logf("  %s %s %s", f.Severity, f.CheckID, f.Title)
	}
	t.Logf("self-scan: score %d (%s), %d findings, coverage %+v", rep.Score.Overall, rep.Score.Grade, len(rep.Findings), rep.Coverage)
}

func checkStatus(r *scan.Report, id string) string {
	for _, c := range r.Checks {
		if c.ID == id {
			return c.Status
		}
	}
	return ""
}
