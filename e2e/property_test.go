package e2e

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/testbed/flaskdynamo"
)

const massAssignment = "property.mass-assignment"

// scanReport runs `merlon scan url --format json` with extra args and
// decodes the report.
func scanReport(t *testing.T, url string, args ...string) (scan.Report, time.Duration) {
	t.Helper()
	start := time.Now()
	r := run(t, append([]string{"scan", url, "--format", "json"}, args...)...)
	took := time.Since(start)
	if r.code != 0 && r.code != 1 {
		t.Fatalf("merlon scan %s %v: exit %d\nstderr: %s", url, args, r.code, r.stderr)
	}
	var rep scan.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, r.stdout)
	}
	return rep, took
}

// find returns the mass-assignment finding on op at location.
func find(rep scan.Report, op, loc string) (scan.Finding, bool) {
	for _, f := range rep.Findings {
		if f.CheckID == massAssignment && f.Operation == op && f.Location == loc {
			return f, true
		}
	}
	return scan.Finding{}, false
}

func describe(rep scan.Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.CheckID, "property.") {
			b.WriteString("\n  " + f.CheckID + " " + f.Severity.String() + "/" + f.Confidence.String() + " " + f.Operation + " @ " + f.Location)
		}
	}
	return b.String()
}

// want asserts a confirmed CWE-915 finding with severity sev.
func want(t *testing.T, rep scan.Report, op, loc string, sev scan.Severity) scan.Finding {
	t.Helper()
	f, ok := find(rep, op, loc)
	switch {
	case !ok:
		t.Errorf("no %s finding on %s at %q; have:%s", massAssignment, op, loc, describe(rep))
	case f.Confidence != scan.Confirmed || f.Severity != sev || f.CWE != 915 || f.Category != scan.API3PropertyAuthorization:
		t.Errorf("%s @ %s = %v/%v CWE-%d %s, want %v/confirmed CWE-915 API3:2023", op, loc, f.Severity, f.Confidence, f.CWE, f.Category, sev)
	}
	return f
}

// noProof asserts no mass-assignment finding above possible.
func noProof(t *testing.T, rep scan.Report) {
	t.Helper()
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.CheckID, "property.") && f.Confidence > scan.Possible {
			t.Errorf("unexpected %s %v/%v finding on %s at %q", f.CheckID, f.Severity, f.Confidence, f.Operation, f.Location)
		}
	}
}

func TestPropertyVulnerable(t *testing.T) {
	t.Parallel()
	app := flaskdynamo.Start(t, "vulnerable")
	rep, took := scanReport(t, app.URL, "--active")
	t.Logf("active scan of the vulnerable testbed: %v, %d requests", took, rep.Coverage.Requests)
	for _, loc := range []string{"is_admin", "role", "credits", "owner", "verified", "profile.settings.role"} {
		want(t, rep, "POST /users", loc, scan.High)
		want(t, rep, "PATCH /users/{username}", loc, scan.High)
	}
	want(t, rep, "PATCH /users/{username}", "merlon_canary_* (unknown attribute)", scan.Medium)
	esc := want(t, rep, "GET /admin/stats", "X-User via PATCH /users/{username}", scan.Critical)
	if n := len(esc.Evidence); n < 5 || esc.Evidence[n-1].Response.Status != 200 || !strings.Contains(esc.Evidence[n-1].Request.URL, "/admin/stats") {
		t.Errorf("escalation evidence ends %v, want the admin call allowed", esc.Evidence)
	}
	if rep.Stack.Framework != "flask" || rep.Stack.Datastore != "dynamodb" {
		t.Errorf("stack = %+v, want flask + dynamodb", rep.Stack)
	}
	if f, _ := find(rep, "PATCH /users/{username}", "is_admin"); !strings.Contains(f.Remediation, "ExpressionAttributeValues") ||
		!strings.Contains(f.Remediation, "CREATE_FIELDS = {") {
		t.Errorf("remediation is not the flask-dynamodb text quoting fixed_routes.py:\n%.300s", f.Remediation)
	}
	// Clean-up: nothing the scan created is left.
	for _, w := range rep.Warnings {
		if strings.Contains(w, "clean up") {
			t.Errorf("warning %q, want every object cleaned up", w)
		}
	}
	resp, err := http.Get(app.URL + "/users")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct{ Users []map[string]any }
	json.NewDecoder(resp.Body).Decode(&list)
	if len(list.Users) != 0 {
		t.Errorf("users left after the scan: %v", list.Users)
	}
}

func TestPropertyShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		variant string
		check   func(t *testing.T, rep scan.Report)
	}{
		{"nested", func(t *testing.T, rep scan.Report) {
			want(t, rep, "PATCH /users/{username}", "profile.settings.role", scan.High)
			want(t, rep, "POST /users", "profile.settings.role", scan.High)
			if _, ok := find(rep, "PATCH /users/{username}", "is_admin"); ok {
				t.Errorf("nested: is_admin reported, but only profile is merged")
			}
		}},
		{"keychange", func(t *testing.T, rep scan.Report) {
			want(t, rep, "PATCH /users/{username}", "username (key)", scan.High)
			want(t, rep, "PATCH /users/{username}", "owner", scan.High)
		}},
		{"storeall", func(t *testing.T, rep scan.Report) {
			want(t, rep, "PATCH /users/{username}", "merlon_canary_* (unknown attribute)", scan.Medium)
			want(t, rep, "POST /users", "merlon_canary_* (unknown attribute)", scan.Medium)
			for _, f := range rep.Findings {
				if f.CheckID == massAssignment && f.Severity > scan.Medium {
					t.Errorf("storeall: %v finding at %q, want no privilege finding", f.Severity, f.Location)
				}
			}
		}},
		{"fixed", noProof},
		{"echo", noProof},
	}
	for _, tt := range tests {
		t.Run(tt.variant, func(t *testing.T) {
			app := flaskdynamo.Start(t, tt.variant)
			rep, _ := scanReport(t, app.URL, "--active")
			tt.check(t, rep)
		})
	}
}

// TestPropertyPassive: without --active nothing is written and nothing
// goes past possible... except the spec analysis, which may say likely.
func TestPropertyPassive(t *testing.T) {
	t.Parallel()
	app := flaskdynamo.Start(t, "vulnerable")
	rep, _ := scanReport(t, app.URL)
	seen := false
	for _, f := range rep.Findings {
		for _, e := range f.Evidence {
			if scan.IsWrite(e.Request.Method) && e.Request.Method != http.MethodOptions {
				t.Errorf("%s evidence has a %s request without --active", f.CheckID, e.Request.Method)
			}
		}
		if f.CheckID == massAssignment {
			t.Errorf("active check ran without --active: %s", f.Location)
		}
		if f.CheckID == "property.mass-assignment-surface" {
			seen = true
			if f.Confidence > scan.Possible {
				t.Errorf("surface finding %q is %v, want possible", f.Location, f.Confidence)
			}
		}
	}
	if !seen {
		t.Errorf("no surface finding on the vulnerable testbed; have:%s", describe(rep))
	}
}

// TestPropertyWithoutSpec: discovery alone, with --active, finds the
// write operations and proves mass assignment.
func TestPropertyWithoutSpec(t *testing.T) {
	t.Parallel()
	app := flaskdynamo.StartWith(t, "vulnerable", flaskdynamo.Options{NoSpec: true})
	// A real API has data: one user, created as any client would.
	resp, err := http.Post(app.URL+"/users", "application/json", bytes.NewReader([]byte(`{"username":"alice","email":"alice@example.com"}`)))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	rep, took := scanReport(t, app.URL, "--active")
	t.Logf("active scan without a spec: %v, %d requests", took, rep.Coverage.Requests)
	if rep.Spec != nil {
		t.Errorf("spec = %+v, want none", rep.Spec)
	}
	want(t, rep, "PATCH /users/{username}", "is_admin", scan.High)
	want(t, rep, "POST /users", "is_admin", scan.High)
	if alice := app.GetUser(t, "alice"); alice == nil || alice["is_admin"] != false {
		t.Errorf("alice = %v after the scan, want her untouched", alice)
	}
}

// TestPropertySelfEscalation: with an identity, the chain also runs on
// the identity's own record (/me): the identity makes itself an
// administrator, and its record gets its original values back. The fixed
// twin allows nothing of the kind.
func TestPropertySelfEscalation(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		variant string
		want    bool
	}{{"vulnerable", true}, {"fixed", false}} {
		t.Run(tt.variant, func(t *testing.T) {
			t.Parallel()
			app := flaskdynamo.Start(t, tt.variant)
			resp, err := http.Post(app.URL+"/users", "application/json",
				bytes.NewReader([]byte(`{"username":"carol","email":"carol@example.com"}`)))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			rep, _ := scanReport(t, app.URL, "--active", "--checks", "property.mass-assignment",
				"--identity", "carol:user:X-User: carol")
			f, found := find(rep, "GET /admin/stats", "carol via PATCH /me")
			if found != tt.want {
				t.Fatalf("self escalation reported = %v, want %v; have:%s", found, tt.want, describe(rep))
			}
			if found {
				if f.Severity != scan.Critical || f.Confidence != scan.Confirmed {
					t.Errorf("self escalation = %v/%v, want critical/confirmed", f.Severity, f.Confidence)
				}
				for _, e := range f.Evidence {
					if e.Request.Identity != "carol" {
						t.Errorf("evidence %s %s sent as %q, want carol", e.Request.Method, e.Request.URL, e.Request.Identity)
					}
				}
			}
			if !tt.want {
				noProof(t, rep)
			}
			carol := app.GetUser(t, "carol")
			if carol == nil || carol["is_admin"] != false || carol["role"] != "user" {
				t.Errorf("carol after the scan = %v, want is_admin false and role user, as before", carol)
			}
		})
	}
}

// TestDemoProvesMassAssignment: merlon demo, active by default, shows the
// confirmed mass assignment and the escalation chain.
func TestDemoProvesMassAssignment(t *testing.T) {
	t.Parallel()
	r := run(t, "demo", "--format", "json")
	if r.code != 0 {
		t.Fatalf("demo: exit %d\nstderr: %s", r.code, r.stderr)
	}
	var rep scan.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("demo report is not JSON: %v", err)
	}
	want(t, rep, "PATCH /api/users/{username}", "is_admin", scan.High)
	want(t, rep, "GET /api/admin/stats", "X-User via PATCH /api/users/{username}", scan.Critical)
}
