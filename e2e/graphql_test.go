package e2e

import (
	"encoding/json"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/testbed/graphqlapp"
)

// familyScan runs an active scan of one check family and returns the
// JSON report.
func familyScan(t *testing.T, url, family string, extra ...string) scan.Report {
	t.Helper()
	args := append([]string{"scan", url, "--active", "--checks", family, "--format", "json"}, extra...)
	r := run(t, args...)
	if r.code > 1 {
		t.Fatalf("merlon %v: exit %d\n%s", args, r.code, r.stderr)
	}
	var rep scan.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, r.stdout)
	}
	return rep
}

func findingKeys(rep scan.Report) []string {
	var keys []string
	for _, f := range rep.Findings {
		keys = append(keys, f.CheckID+" "+f.Operation+" @ "+f.Location+" ["+f.Confidence.String()+"]")
	}
	sort.Strings(keys)
	return keys
}

func TestGraphQLVulnerable(t *testing.T) {
	t.Parallel()
	app := graphqlapp.New(graphqlapp.Vulnerable())
	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	rep := familyScan(t, srv.URL, "graphql")
	want := []string{
		"graphql.batching POST /graphql @ aliases [confirmed]",
		"graphql.batching POST /graphql @ array batch [confirmed]",
		"graphql.depth-limit POST /graphql @ depth [confirmed]",
		"graphql.field-suggestions GET /graphql @ errors [confirmed]",
		"graphql.introspection GET /graphql @ __schema [confirmed]",
		"graphql.mass-assignment POST /graphql @ createUser [confirmed]",
	}
	if got := findingKeys(rep); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, f := range rep.Findings {
		if f.Remediation == "" || len(f.Evidence) == 0 || !strings.HasPrefix(f.Evidence[0].Curl, "curl") {
			t.Errorf("%s: remediation or evidence missing", f.CheckID)
		}
	}
	if n := app.Users(); n != 2 {
		t.Errorf("users after the scan = %d, want the 2 seeded (probe users deleted)", n)
	}
}

func TestGraphQLClean(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(graphqlapp.New(graphqlapp.Clean()).Handler())
	defer srv.Close()
	rep := familyScan(t, srv.URL, "graphql")
	for _, k := range findingKeys(rep) {
		t.Errorf("unexpected finding on the clean twin: %s", k)
	}
	ran := 0
	for _, c := range rep.Checks {
		if strings.HasPrefix(c.ID, "graphql.") {
			ran++
			if c.Status == "error" {
				t.Errorf("check %s ended in error: %s", c.ID, c.Error)
			}
		}
	}
	if ran != 6 {
		t.Errorf("graphql checks in the report = %d, want 6", ran)
	}
}

func TestGraphQLPassiveSendsNoPost(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(graphqlapp.New(graphqlapp.Vulnerable()).Handler())
	defer srv.Close()
	r := run(t, "scan", srv.URL, "--checks", "graphql", "--format", "json")
	var rep scan.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, r.stderr)
	}
	got := findingKeys(rep)
	want := []string{
		"graphql.field-suggestions GET /graphql @ errors [confirmed]",
		"graphql.introspection GET /graphql @ __schema [confirmed]",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("passive findings =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// gqlIdentityFlags give the scan the testbed's admin (alice) and user
// (bob), the user first.
func gqlIdentityFlags() []string {
	return []string{
		"--identity", "bob:user:Authorization: Bearer " + graphqlapp.UserToken,
		"--identity", "alice:admin:Authorization: Bearer " + graphqlapp.AdminToken,
	}
}

// TestGraphQLBFLA: with an admin and a user identity, the vulnerable twin
// lets the user read adminStats and run deleteUser and setRole on an
// object the scanner created; the twin with role checks (introspection
// left on, so that the check runs in full) lets it do none of that.
func TestGraphQLBFLA(t *testing.T) {
	t.Parallel()
	withSchema := graphqlapp.Clean()
	withSchema.Introspection = true
	tests := []struct {
		name string
		opts graphqlapp.Options
		want []string
	}{
		{"vulnerable", graphqlapp.Vulnerable(), []string{
			"graphql.bfla GET /graphql @ adminStats [likely]",
			"graphql.bfla POST /graphql @ deleteUser [confirmed]",
			"graphql.bfla POST /graphql @ setRole [confirmed]",
		}},
		{"clean", withSchema, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app := graphqlapp.New(tt.opts)
			srv := httptest.NewServer(app.Handler())
			defer srv.Close()
			rep := familyScan(t, srv.URL, "graphql.bfla", gqlIdentityFlags()...)
			if got := findingKeys(rep); strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("findings =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
			if len(rep.Checks) != 1 || rep.Checks[0].Status != "ok" {
				t.Errorf("checks = %+v, want graphql.bfla ended ok", rep.Checks)
			}
			for _, f := range rep.Findings {
				if f.Severity != scan.High || f.CWE != 285 || f.Category != scan.API5BFLA || f.Remediation == "" || len(f.Evidence) < 2 {
					t.Errorf("%s at %s: severity %v, CWE %d, %s, %d evidence, remediation %q; want high, 285, API5, evidence and remediation",
						f.CheckID, f.Location, f.Severity, f.CWE, f.Category, len(f.Evidence), f.Remediation)
				}
			}
			if strings.Contains(strings.Join(rep.Warnings, "\n"), "graphql.bfla") {
				t.Errorf("warnings name objects left behind: %q", rep.Warnings)
			}
			if app.Users() != 2 || app.Role("1") != "admin" || app.Role("2") != "user" {
				t.Errorf("after the scan: %d users, alice %q, bob %q; want the 2 seeded users, unchanged", app.Users(), app.Role("1"), app.Role("2"))
			}
		})
	}
}

// TestGraphQLBFLAPassive: without --active only the privileged query is
// judged, and no mutation is sent.
func TestGraphQLBFLAPassive(t *testing.T) {
	t.Parallel()
	app := graphqlapp.New(graphqlapp.Vulnerable())
	srv := httptest.NewServer(app.Handler())
	defer srv.Close()
	r := run(t, append([]string{"scan", srv.URL, "--checks", "graphql.bfla", "--format", "json"}, gqlIdentityFlags()...)...)
	var rep scan.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, r.stderr)
	}
	want := "graphql.bfla GET /graphql @ adminStats [likely]"
	if got := strings.Join(findingKeys(rep), "\n"); got != want {
		t.Errorf("passive findings =\n%s\nwant\n%s", got, want)
	}
	if app.Users() != 2 || app.Role("2") != "user" {
		t.Errorf("a passive scan changed the users: %d, bob %q", app.Users(), app.Role("2"))
	}
}
