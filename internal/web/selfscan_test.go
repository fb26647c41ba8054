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

// TestMerlonScansItselfClean runs every passive check against the server
// as two accounts, each with an API token, guided by its own
// /api/openapi.json, and wants nothing above info. Then the active
// writing checks (mass assignment, BOLA and BFLA, which try one account's
// writes on the other's objects) must find nothing at all: the
// server-owned properties its reads carry (createdAt, status) are noted at
// info only because the write schemas forbid undeclared properties, and
// this proves the server keeps to that.
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
	// A second account, so that the authorization checks have someone
	// to compare the first with: each has an API token of its own.
	bob, err := AddUser(ctx, e.st, "bob@example.com", "another-long-password")
	if err != nil {
		t.Fatal(err)
	}
	bobToken, _, err := e.srv.createToken(ctx, bob, "bob's")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(e.h)
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	runCtx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	rep, err := pipeline.Run(runCtx, pipeline.Config{
		Target:  u,
		Spec:    srv.URL + "/api/openapi.json",
		Profile: scan.Standard,
		Identities: []scan.Identity{
			{Name: "admin", Role: "user", Headers: http.Header{"Authorization": {"Bearer " + e.token}}},
			{Name: "bob", Role: "user", Headers: http.Header{"Authorization": {"Bearer " + bobToken}}},
		},
		Checks:      checks.All(),
		ToolVersion: "test",
	})
	if err != nil {
		t.Fatalf("pipeline.Run against the server = %v", err)
	}
	// With two accounts the authorization checks compare them, rather
	// than skip for want of a second identity.
	for _, id := range []string{"authz.bola", "authz.bfla", "authn.unauthenticated-access"} {
		if st := checkStatus(rep, id); st != "ok" {
			t.Errorf("%s ended %q, want ok", id, st)
		}
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
		// The writing checks: mass assignment, and BOLA and BFLA, which
		// with --active also try one account's writes on the other's
		// objects (API tokens are per account).
		var ma []scan.Check
		for _, c := range checks.All() {
			switch c.Meta().ID {
			case "property.mass-assignment", "authz.bola", "authz.bfla":
				ma = append(ma, c)
			}
		}
		if len(ma) != 3 {
			t.Fatalf("found %d of the 3 writing checks", len(ma))
		}
		active, err := pipeline.Run(runCtx, pipeline.Config{
			Target: u, Spec: srv.URL + "/api/openapi.json", Profile: scan.Standard, Active: true,
			Identities: []scan.Identity{
				{Name: "admin", Role: "user", Headers: http.Header{"Authorization": {"Bearer " + e.token}}},
				{Name: "bob", Role: "user", Headers: http.Header{"Authorization": {"Bearer " + bobToken}}},
			},
			Checks: ma, ToolVersion: "test",
		})
		if err != nil {
			t.Fatalf("active mass-assignment scan = %v", err)
		}
		for _, f := range active.Findings {
			t.Errorf("active finding on the server: %s %s %s at %s %s: %s", f.Severity, f.CheckID, f.Title, f.Operation, f.Location, f.Description)
		}
		t.Logf("active writing checks: %d requests", active.Coverage.Requests)
		if active.Coverage.Requests < 5 {
			t.Errorf("the active checks sent %d requests, want them to probe the writable resources", active.Coverage.Requests)
		}
		for _, id := range []string{"property.mass-assignment", "authz.bola", "authz.bfla"} {
			if st := checkStatus(active, id); st != "ok" {
				t.Errorf("active %s ended %q, want ok", id, st)
			}
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
