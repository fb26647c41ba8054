package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/testbed/expressusers"
)

// authnConfig is a merlon.yaml that logs alice (user) and admin in
// through the testbed's POST /login.
const authnConfig = `identities:
  - name: alice
    role: user
    login:
      path: /login
      body:
        username: alice
        password: alice-pw
      token:
        json: access_token
    check:
      path: /me
  - name: admin
    role: admin
    login:
      path: /login
      body:
        username: admin
        password: admin-pw
      token:
        json: access_token
    check:
      path: /me
`

// scanAuthn scans app with the login-flow identities, the authn checks
// only, and --active (for the brute-force check).
func scanAuthn(t *testing.T, app *expressusers.App) scan.Report {
	t.Helper()
	cfg := filepath.Join(t.TempDir(), "merlon.yaml")
	if err := os.WriteFile(cfg, []byte(authnConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	rep, _ := scanReport(t, app.URL, "--config", cfg, "--checks", "authn", "--active")
	return rep
}

// authnFindings returns the report's authn findings by check ID.
func authnFindings(rep scan.Report) map[string][]scan.Finding {
	out := make(map[string][]scan.Finding)
	for _, f := range rep.Findings {
		if strings.HasPrefix(f.CheckID, "authn.") {
			out[f.CheckID] = append(out[f.CheckID], f)
		}
	}
	return out
}

func describeAuthn(rep scan.Report) string {
	var b strings.Builder
	for _, f := range rep.Findings {
		b.WriteString("\n  " + f.CheckID + " " + f.Severity.String() + "/" + f.Confidence.String() + " " + f.Operation + " @ " + f.Location)
	}
	return b.String()
}

func TestAuthnVulnerable(t *testing.T) {
	t.Parallel()
	rep := scanAuthn(t, expressusers.Start(t, "vulnerable"))
	got := authnFindings(rep)
	tests := []struct {
		check      string
		op, loc    string
		sev        scan.Severity
		confidence scan.Confidence
	}{
		{"authn.unauthenticated-access", "GET /orders", "", scan.High, scan.Likely},
		{"authn.jwt-alg-none", "", "Authorization", scan.Critical, scan.Confirmed},
		{"authn.jwt-weak-secret", "", "Authorization", scan.Critical, scan.Confirmed},
		{"authn.jwt-expired-accepted", "", "Authorization", scan.High, scan.Confirmed},
		{"authn.jwt-no-expiry", "", "Authorization", scan.Medium, scan.Confirmed},
		{"authn.jwt-sensitive-claims", "", "Authorization", scan.Medium, scan.Confirmed},
		{"authn.login-brute-force", "POST /login", "username", scan.Medium, scan.Likely},
	}
	for _, tt := range tests {
		t.Run(tt.check, func(t *testing.T) {
			fs := got[tt.check]
			if len(fs) != 1 {
				t.Fatalf("%d %s findings, want 1; have:%s", len(fs), tt.check, describeAuthn(rep))
			}
			f := fs[0]
			if f.Operation != tt.op || f.Location != tt.loc || f.Severity != tt.sev || f.Confidence != tt.confidence {
				t.Errorf("%s = %s @ %q %v/%v, want %s @ %q %v/%v", tt.check, f.Operation, f.Location, f.Severity, f.Confidence,
					tt.op, tt.loc, tt.sev, tt.confidence)
			}
			if f.Category != scan.API2BrokenAuthentication || f.Remediation == "" {
				t.Errorf("%s: category %s, remediation %q; want API2:2023 and a remediation", tt.check, f.Category, f.Remediation)
			}
		})
	}
	if n := len(got["authn.jwt-signature-not-verified"]); n != 0 {
		t.Errorf("signature-not-verified reported %d times on a variant that checks HMAC signatures", n)
	}

	// Evidence says who sent what: the forged token went out as
	// anonymous, after the genuine one (sent the same way) was accepted
	// and no credentials at all were refused.
	if fs := got["authn.jwt-alg-none"]; len(fs) == 1 {
		ev := fs[0].Evidence
		if len(ev) != 3 {
			t.Fatalf("alg-none evidence has %d exchanges, want 3", len(ev))
		}
		for i, want := range []int{200, 401, 200} {
			if ev[i].Request.Identity != scan.Anonymous || ev[i].Response.Status != want {
				t.Errorf("alg-none evidence %d = %d as %q, want %d as anonymous", i, ev[i].Response.Status, ev[i].Request.Identity, want)
			}
		}
		if strings.Contains(ev[2].Request.Header.Get("Authorization"), "eyJ") {
			t.Errorf("forged token shown unredacted: %q", ev[2].Request.Header.Get("Authorization"))
		}
	}
	if fs := got["authn.jwt-sensitive-claims"]; len(fs) == 1 {
		f := fs[0]
		for _, claim := range []string{"email", "password_hash", "ssn"} {
			if !strings.Contains(f.Evidence[0].Matched, claim) {
				t.Errorf("sensitive claims %q do not name %s", f.Evidence[0].Matched, claim)
			}
		}
		if strings.Contains(f.Description, "@example") || strings.Contains(f.Evidence[0].Matched, "$2") {
			t.Errorf("sensitive-claims finding shows claim values: %s", f.Description)
		}
		if id := f.Evidence[0].Request.Identity; id != "alice" {
			t.Errorf("sensitive-claims evidence sent as %q, want alice", id)
		}
	}
	if fs := got["authn.jwt-weak-secret"]; len(fs) == 1 && strings.Contains(fs[0].Evidence[2].Matched, expressusers.WeakSecret) {
		t.Errorf("weak-secret evidence shows the whole secret: %q", fs[0].Evidence[2].Matched)
	}
}

func TestAuthnUnverifiedSignature(t *testing.T) {
	t.Parallel()
	rep := scanAuthn(t, expressusers.Start(t, "unverified"))
	fs := authnFindings(rep)["authn.jwt-signature-not-verified"]
	if len(fs) != 1 || fs[0].Confidence != scan.Confirmed || fs[0].Severity != scan.Critical {
		t.Fatalf("want one critical/confirmed authn.jwt-signature-not-verified; have:%s", describeAuthn(rep))
	}
}

func TestAuthnFixed(t *testing.T) {
	t.Parallel()
	rep := scanAuthn(t, expressusers.Start(t, "fixed"))
	for id, fs := range authnFindings(rep) {
		for _, f := range fs {
			t.Errorf("unexpected %s %v/%v on %q at %q: %s", id, f.Severity, f.Confidence, f.Operation, f.Location, f.Description)
		}
	}
	if rep.Coverage.Requests == 0 {
		t.Errorf("the scan sent no request")
	}
	// Silence counts only from checks that ran to the end.
	ran := 0
	for _, c := range rep.Checks {
		if !strings.HasPrefix(c.ID, "authn.") {
			continue
		}
		ran++
		if c.Status != "ok" {
			t.Errorf("check %s ended %s (%s), want ok", c.ID, c.Status, c.Error)
		}
	}
	if ran < 8 {
		t.Errorf("%d authn checks ran, want all 8", ran)
	}
}

func TestJWTWordlistFlag(t *testing.T) {
	r := run(t, "scan", "http://127.0.0.1:1", "--jwt-wordlist", filepath.Join(t.TempDir(), "missing.txt"))
	if r.code != 2 || !strings.Contains(r.stderr, "--jwt-wordlist") {
		t.Errorf("missing wordlist: exit %d, stderr %q; want 2 naming --jwt-wordlist", r.code, r.stderr)
	}
}

// TestAuthnHeaderToken: a user who passes a token with -H instead of an
// identity gets the same JWT checks; the token never shows in the output.
func TestAuthnHeaderToken(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		variant string
		want    bool
	}{{"unverified", true}, {"fixed", false}} {
		t.Run(tt.variant, func(t *testing.T) {
			t.Parallel()
			app := expressusers.Start(t, tt.variant)
			tok := app.Login(t, "alice", "alice-pw")
			r := run(t, "scan", app.URL, "--format", "json", "--checks", "authn.jwt-signature-not-verified",
				"-H", "Authorization: Bearer "+tok)
			if r.code != 0 && r.code != 1 {
				t.Fatalf("exit %d\nstderr: %s", r.code, r.stderr)
			}
			if strings.Contains(r.stdout+r.stderr, tok) {
				t.Errorf("output shows the token passed with -H")
			}
			var rep scan.Report
			if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
				t.Fatalf("report is not JSON: %v", err)
			}
			fs := authnFindings(rep)["authn.jwt-signature-not-verified"]
			if got := len(fs) == 1 && fs[0].Confidence == scan.Confirmed; got != tt.want {
				t.Fatalf("confirmed signature-not-verified = %v, want %v; have:%s", got, tt.want, describeAuthn(rep))
			}
		})
	}
}
