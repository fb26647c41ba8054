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
	if ran != 5 {
		t.Errorf("graphql checks in the report = %d, want 5", ran)
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
