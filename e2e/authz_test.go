package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/testbed/expressusers"
)

// authzConfig logs in alice and bob (users) and admin through the
// testbed's POST /login: the three identities the authz checks compare.
const authzConfig = `identities:
  - name: alice
    role: user
    login: {path: /login, body: {username: alice, password: alice-pw}, token: {json: access_token}}
    check: {path: /me}
  - name: bob
    role: user
    login: {path: /login, body: {username: bob, password: bob-pw}, token: {json: access_token}}
    check: {path: /me}
  - name: admin
    role: admin
    login: {path: /login, body: {username: admin, password: admin-pw}, token: {json: access_token}}
    check: {path: /me}
`

// scanAuthz scans app with the three identities, the authz and input
// checks only, and --active.
func scanAuthz(t *testing.T, app *expressusers.App) scan.Report {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "merlon.yaml")
	if err := os.WriteFile(cfg, []byte(authzConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, _ := scanReport(t, app.URL, "--config", cfg, "--checks", "authz,input", "--active")
	return rep
}

// findingAt returns the finding of check on op at loc.
func findingAt(rep scan.Report, check, op, loc string) (scan.Finding, bool) {
	for _, f := range rep.Findings {
		if f.CheckID == check && f.Operation == op && f.Location == loc {
			return f, true
		}
	}
	return scan.Finding{}, false
}

func TestAuthzVulnerable(t *testing.T) {
	t.Parallel()
	rep := scanAuthz(t, expressusers.Start(t, "vulnerable"))
	tests := []struct {
		name, check, op, loc string
		want                 scan.Confidence
	}{
		{"read another user's order", "authz.bola", "GET /orders/{id}", "id", scan.Confirmed},
		{"read another user's profile", "authz.bola", "GET /users/{id}/profile", "id", scan.Confirmed},
		{"change another user's order", "authz.bola", "PATCH /orders/{id}", "id", scan.Confirmed},
		{"delete another user's order", "authz.bola", "DELETE /orders/{id}", "id", scan.Confirmed},
		{"user lists all accounts", "authz.bfla", "GET /admin/users", "", scan.Confirmed},
		{"undocumented PUT on a public product", "authz.bfla", "PUT /products/{id}", "method swap", scan.Likely},
		{"quantity stored out of range", "input.validation", "PATCH /orders/{id}", "quantity", scan.Confirmed},
		{"invalid email stored", "input.validation", "PATCH /orders/{id}", "email", scan.Confirmed},
		{"invalid enum stored", "input.validation", "PATCH /orders/{id}", "status", scan.Confirmed},
		{"wrong type stored", "input.validation", "PATCH /orders/{id}", "product_id", scan.Likely},
		{"over-long string stored", "input.validation", "PATCH /orders/{id}", "note", scan.Likely},
		{"invalid date stored", "input.validation", "PATCH /orders/{id}", "delivery_date", scan.Likely},
		{"malformed JSON answered with a stack", "input.server-error", "POST /orders", "body", scan.Confirmed},
	}
	for _, tt := range tests {
		f, ok := findingAt(rep, tt.check, tt.op, tt.loc)
		if !ok {
			t.Errorf("%s: no %s finding on %s at %q; have:%s", tt.name, tt.check, tt.op, tt.loc, describeAuthn(rep))
			continue
		}
		if f.Confidence < tt.want {
			t.Errorf("%s: confidence = %v, want at least %v", tt.name, f.Confidence, tt.want)
		}
	}
	for _, f := range rep.Findings {
		if f.CheckID == "authz.bola" && strings.HasPrefix(f.Operation, "GET /products") {
			t.Errorf("public product reported as BOLA: %s %s", f.Operation, f.Title)
		}
	}
	// Evidence says who sent each request: the BOLA read shows the owner's
	// request and the intruder's.
	if f, ok := findingAt(rep, "authz.bola", "GET /orders/{id}", "id"); ok {
		who := map[string]bool{}
		for _, ev := range f.Evidence {
			who[ev.Request.Identity] = true
		}
		if !who["alice"] || !who["bob"] {
			t.Errorf("BOLA evidence identities = %v, want alice and bob", who)
		}
	}
	if f, ok := findingAt(rep, "input.server-error", "POST /orders", "body"); ok && !strings.Contains(f.Title, "stack trace") {
		t.Errorf("server error title = %q, want a stack trace named", f.Title)
	}
	for _, w := range rep.Warnings {
		if strings.Contains(w, "clean up") {
			t.Errorf("warning %q: objects left behind", w)
		}
	}
}

func TestAuthzFixed(t *testing.T) {
	t.Parallel()
	rep := scanAuthz(t, expressusers.Start(t, "fixed"))
	for _, f := range rep.Findings {
		t.Errorf("fixed twin: unexpected %s on %s at %q: %s", f.CheckID, f.Operation, f.Location, f.Title)
	}
	ran := 0
	for _, c := range rep.Checks {
		if strings.HasPrefix(c.ID, "authz.") || strings.HasPrefix(c.ID, "input.") {
			ran++
			if c.Status != "ok" {
				t.Errorf("check %s ended %s (%s)", c.ID, c.Status, c.Error)
			}
		}
	}
	if ran != 4 {
		t.Errorf("%d authz/input checks ran, want 4", ran)
	}
	if rep.Coverage.Succeeded == 0 {
		t.Errorf("coverage %+v: nothing succeeded, so a clean report proves nothing", rep.Coverage)
	}
}
