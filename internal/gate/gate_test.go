package gate_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/gate"
	"github.com/merlonsec/merlon/internal/scan"
)

func finding(check string, sev scan.Severity, op string) scan.Finding {
	return scan.Finding{
		CheckID: check, Severity: sev, Confidence: scan.Confirmed, Operation: op,
		Category:    scan.API8Misconfiguration,
		Fingerprint: scan.Fingerprint(check, "http://127.0.0.1:1", op, ""),
	}
}

func report(fs ...scan.Finding) *scan.Report {
	r := &scan.Report{
		Findings: fs,
		Coverage: scan.Coverage{Operations: 2, Reached: 2, Succeeded: 2, Requests: 10},
	}
	seen := map[string]bool{}
	for _, f := range fs {
		if !seen[f.CheckID] {
			seen[f.CheckID] = true
			r.Checks = append(r.Checks, scan.CheckResult{ID: f.CheckID, Status: "ok"})
		}
		for i := range r.Checks {
			if r.Checks[i].ID == f.CheckID {
				r.Checks[i].Findings++
			}
		}
	}
	return r
}

var (
	cors    = finding("misconfig.cors", scan.High, "")
	headers = finding("misconfig.security-headers", scan.Low, "GET /items")
	errs    = finding("exposure.error-disclosure", scan.Medium, "GET /items/{id}")
	bola    = finding("authz.bola", scan.Critical, "GET /orders/{id}")
)

func mustFailOn(t *testing.T, s string) *gate.FailOn {
	t.Helper()
	f, err := gate.ParseFailOn(s)
	if err != nil {
		t.Fatalf("ParseFailOn(%q) = %v", s, err)
	}
	return &f
}

func mustRules(t *testing.T, s string) gate.Rules {
	t.Helper()
	r, err := gate.ParseRules(strings.NewReader(s), nil)
	if err != nil {
		t.Fatalf("ParseRules(%q) = %v", s, err)
	}
	return r
}

func TestDecide(t *testing.T) {
	suppressedCors := cors
	suppressedCors.Suppressed = &scan.Suppression{Reason: "accepted", Expires: "2099-01-01"}
	erroredBaseline := report(headers)
	erroredBaseline.Checks = append(erroredBaseline.Checks, scan.CheckResult{ID: "misconfig.cors", Status: "error", Error: "timeout"})
	cancelledBaseline := report(headers)
	cancelledBaseline.Checks = append(cancelledBaseline.Checks, scan.CheckResult{ID: "misconfig.cors", Status: "cancelled"})
	// The new scan's check timed out after it found something: what it
	// found is real and new, because the baseline's check completed.
	erroredNow := report(headers, cors)
	erroredNow.Checks[1].Status, erroredNow.Checks[1].Error = "error", "timeout"

	tests := []struct {
		name     string
		rep      *scan.Report
		baseline *scan.Report
		rules    string
		failOn   string
		wantFail bool
		wantWhy  string // substring of the first reason, or of the first note when !wantFail
	}{
		{"no policy never fails", report(cors, bola), nil, "", "", false, ""},
		{"at threshold fails", report(headers, cors), nil, "", "high", true, "high misconfig.cors"},
		{"below threshold passes", report(headers, errs), nil, "", "high", false, ""},
		{"above threshold fails", report(bola), nil, "", "high", true, "critical authz.bola"},
		{"new without baseline counts everything as new", report(cors), nil, "", "new:high", true, "new high misconfig.cors"},
		{"same findings as baseline pass", report(headers, cors), report(headers, cors), "", "new:high", false, ""},
		{"new high fails", report(headers, cors), report(headers), "", "new:high", true, "new high misconfig.cors"},
		{"new low passes new:high", report(headers, cors), report(cors), "", "new:high", false, ""},
		{"fixed findings pass", report(headers), report(headers, cors, bola), "", "new:low", false, ""},
		{"suppressed new high passes", report(headers, suppressedCors), report(headers), "", "new:high", false, ""},
		{"warn rule passes", report(cors), nil, "misconfig.cors\tWARN\taccepted in staging", "high", false, "WARN"},
		{"warn on family passes", report(cors), nil, "misconfig\tWARN", "high", false, "WARN"},
		{"id rule beats family rule", report(cors), nil, "misconfig\tWARN\nmisconfig.cors\tFAIL", "", true, "FAIL"},
		{"fail rule on a low fails without fail-on", report(headers), nil, "misconfig.security-headers\tFAIL", "", true, "FAIL"},
		{"fail rule ignores the baseline", report(headers), report(headers), "misconfig.security-headers\tFAIL", "new:high", true, "FAIL"},
		{"fail rule skips suppressed", report(suppressedCors), nil, "misconfig.cors\tFAIL", "", false, ""},
		{"ignore rule passes", report(cors), nil, "misconfig.cors IGNORE", "low", false, ""},
		{"check errored in baseline is not new", report(headers, cors), erroredBaseline, "", "new:high", false, "did not finish in the baseline"},
		{"check cancelled in baseline is not new", report(headers, cors), cancelledBaseline, "", "new:high", false, "did not finish in the baseline"},
		{"errored baseline check does not excuse a plain threshold", report(headers, cors), erroredBaseline, "", "high", true, "high misconfig.cors"},
		{"what an errored check found is new against a complete baseline", erroredNow, report(headers), "", "new:high", true, "new high misconfig.cors"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fo *gate.FailOn
			if tt.failOn != "" {
				fo = mustFailOn(t, tt.failOn)
			}
			d := gate.Decide(tt.rep, tt.baseline, mustRules(t, tt.rules), fo)
			if d.Fail != tt.wantFail {
				t.Fatalf("Decide().Fail = %v, want %v (reasons %q, notes %q)", d.Fail, tt.wantFail, d.Reasons, d.Notes)
			}
			if d.Fail && len(d.Reasons) == 0 {
				t.Fatalf("Decide() fails without a reason")
			}
			if !d.Fail && len(d.Reasons) > 0 {
				t.Fatalf("Decide() passes with reasons %q", d.Reasons)
			}
			if tt.wantWhy == "" {
				return
			}
			lines := d.Notes
			if d.Fail {
				lines = d.Reasons
			}
			if len(lines) == 0 || !strings.Contains(lines[0], tt.wantWhy) {
				t.Errorf("Decide() reasons %q notes %q, want one mentioning %q", d.Reasons, d.Notes, tt.wantWhy)
			}
		})
	}
}

// TestNetworkErrorsNeverFlipTheGate: a scan whose every request failed has
// no finding, so Decide passes it, and Conclusive refuses it so that the
// CLI ends with a runtime failure instead of a pass.
func TestNetworkErrorsNeverFlipTheGate(t *testing.T) {
	dead := &scan.Report{
		Findings: []scan.Finding{},
		Coverage: scan.Coverage{Operations: 5, Reached: 0, Requests: 40, TransportError: 40},
		Checks: []scan.CheckResult{
			{ID: "misconfig.cors", Status: "error", Error: "dial tcp: connection refused"},
			{ID: "misconfig.security-headers", Status: "error", Error: "timeout"},
		},
	}
	baseline := report(headers)
	for _, fo := range []string{"info", "new:info"} {
		if d := gate.Decide(dead, baseline, mustRules(t, "misconfig\tFAIL"), mustFailOn(t, fo)); d.Fail {
			t.Errorf("Decide(unreachable scan, --fail-on %s) fails with %q, want no failure from network errors", fo, d.Reasons)
		}
	}
	if gate.Conclusive(dead) {
		t.Errorf("Conclusive(scan that reached nothing) = true, want false")
	}
	if !gate.Conclusive(report(headers)) {
		t.Errorf("Conclusive(scan that reached the API) = false, want true")
	}
	// Some requests timing out is not a failure either, when the rest worked.
	flaky := report(headers)
	flaky.Coverage.TransportError = 7
	if d := gate.Decide(flaky, report(headers), nil, mustFailOn(t, "new:low")); d.Fail {
		t.Errorf("Decide(flaky scan, same findings) fails with %q", d.Reasons)
	}
}

func TestParseFailOn(t *testing.T) {
	tests := []struct {
		in      string
		want    gate.FailOn
		wantErr bool
	}{
		{"high", gate.FailOn{Severity: scan.High}, false},
		{"new:high", gate.FailOn{Severity: scan.High, NewOnly: true}, false},
		{"NEW:Medium", gate.FailOn{Severity: scan.Medium, NewOnly: true}, false},
		{" low ", gate.FailOn{Severity: scan.Low}, false},
		{"new:", gate.FailOn{}, true},
		{"old:high", gate.FailOn{}, true},
		{"severe", gate.FailOn{}, true},
	}
	for _, tt := range tests {
		got, err := gate.ParseFailOn(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseFailOn(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil && got.String() != strings.ToLower(strings.TrimSpace(tt.in)) {
			t.Errorf("ParseFailOn(%q).String() = %q", tt.in, got.String())
		}
	}
}

func TestParseRules(t *testing.T) {
	known := []string{"misconfig.cors", "misconfig.security-headers", "authz.bola"}
	good := "# Merlon rules\n\nmisconfig.cors\tIGNORE\tpublic API, no cookies\nauthz\tFAIL\nmisconfig.security-headers  warn  behind a proxy that adds them\n"
	rules, err := gate.ParseRules(strings.NewReader(good), known)
	if err != nil {
		t.Fatalf("ParseRules(good) = %v", err)
	}
	want := gate.Rules{
		{Match: "misconfig.cors", Action: gate.Ignore, Comment: "public API, no cookies", Line: 3},
		{Match: "authz", Action: gate.Fail, Line: 4},
		{Match: "misconfig.security-headers", Action: gate.Warn, Comment: "behind a proxy that adds them", Line: 5},
	}
	if !slices.Equal(rules, want) {
		t.Errorf("ParseRules(good) = %+v, want %+v", rules, want)
	}
	for id, act := range map[string]gate.Action{"misconfig.cors": gate.Ignore, "authz.bola": gate.Fail, "authz.bfla": gate.Fail, "exposure.x": gate.Default} {
		if got := rules.For(id); got != act {
			t.Errorf("For(%q) = %v, want %v", id, got, act)
		}
	}

	bad := []struct{ name, in, want string }{
		{"unknown action", "misconfig.cors\tBLOCK", `line 1: unknown action "BLOCK"`},
		{"missing action", "\nmisconfig.cors", "line 2: want"},
		{"unknown check", "misconfig.corz\tWARN", `unknown check or family "misconfig.corz"`},
		{"duplicate", "authz\tWARN\nAUTHZ\tFAIL", "already has a rule on line 1"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := gate.ParseRules(strings.NewReader(tt.in), known)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseRules(%q) = %v, want an error containing %q", tt.in, err, tt.want)
			}
		})
	}
}

func TestParseSuppressions(t *testing.T) {
	good := `
- fingerprint: ` + strings.ToUpper(cors.Fingerprint) + `
  reason: public API, no cookies
  expires: 2030-06-30
- check: misconfig.security-headers
  operation: get /items
  reason: the CDN adds them
  expires: "2030-01-01"
`
	sups, err := gate.ParseSuppressions(strings.NewReader(good))
	if err != nil {
		t.Fatalf("ParseSuppressions(good) = %v", err)
	}
	if len(sups) != 2 || sups[0].Fingerprint != cors.Fingerprint || sups[1].Operation != "GET /items" || sups[0].Expires != "2030-06-30" {
		t.Fatalf("ParseSuppressions(good) = %+v", sups)
	}
	if !sups[0].Matches(cors) || sups[0].Matches(headers) || !sups[1].Matches(headers) || sups[1].Matches(errs) {
		t.Errorf("Matches disagrees with the entries: %+v", sups)
	}
	if empty, err := gate.ParseSuppressions(strings.NewReader("")); err != nil || len(empty) != 0 {
		t.Errorf("ParseSuppressions(empty) = %v, %v; want none, nil", empty, err)
	}

	bad := []struct{ name, in, want string }{
		{"no reason", "- check: misconfig.cors\n  expires: 2030-01-01\n", "suppression 1: reason is required"},
		{"no expiry", "- check: misconfig.cors\n  reason: x\n", "suppression 1: expires"},
		{"bad date", "- check: misconfig.cors\n  reason: x\n  expires: 2030-13-01\n", `expires "2030-13-01" is not a date`},
		{"us date", "- check: misconfig.cors\n  reason: x\n  expires: 06/30/2030\n", "is not a date"},
		{"matches nothing", "- reason: x\n  expires: 2030-01-01\n", "needs a fingerprint or a check"},
		{"unknown field", "- check: misconfig.cors\n  reason: x\n  expires: 2030-01-01\n  until: never\n", "until"},
		{"malformed yaml", "- check: [misconfig.cors\n", "parse suppressions"},
		{"not a list", "check: misconfig.cors\n", "parse suppressions"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := gate.ParseSuppressions(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParseSuppressions(%q) = %v, want an error containing %q", tt.in, err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestApply(t *testing.T) {
	now := time.Date(2030, 6, 15, 12, 0, 0, 0, time.UTC)
	sups := []gate.Suppression{
		{Fingerprint: cors.Fingerprint, Reason: "public API", Expires: "2030-06-15"},                       // last day: applies
		{Check: "exposure.error-disclosure", Reason: "old", Expires: "2030-06-14"},                         // expired yesterday
		{Check: "misconfig.security-headers", Operation: "GET /other", Reason: "x", Expires: "2031-01-01"}, // other operation
	}
	rep := report(cors, headers, errs, bola)
	warnings := gate.Apply(rep, mustRules(t, "authz.bola\tIGNORE"), sups, now)

	var ids []string
	for _, f := range rep.Findings {
		ids = append(ids, f.CheckID)
	}
	if want := []string{"misconfig.cors", "misconfig.security-headers", "exposure.error-disclosure"}; !slices.Equal(ids, want) {
		t.Errorf("findings after Apply = %v, want %v (IGNORE drops authz.bola)", ids, want)
	}
	if s := rep.Findings[0].Suppressed; s == nil || s.Reason != "public API" || s.Expires != "2030-06-15" {
		t.Errorf("cors suppression = %+v, want the file's reason and expiry", s)
	}
	if rep.Findings[1].Suppressed != nil || rep.Findings[2].Suppressed != nil {
		t.Errorf("expired or non-matching suppressions applied: %+v", rep.Findings)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "expired on 2030-06-14") || !slices.Contains(rep.Warnings, warnings[0]) {
		t.Errorf("warnings = %q (report %q), want one about the expired suppression", warnings, rep.Warnings)
	}
	for _, c := range rep.Checks {
		if c.ID == "authz.bola" && c.Findings != 0 {
			t.Errorf("check authz.bola still counts %d findings after IGNORE", c.Findings)
		}
	}
	// The score counts headers (low) and errs (medium), not the suppressed
	// high or the ignored critical.
	if rep.Score.Grade != "B" || rep.Score.Overall != 89 {
		t.Errorf("score after Apply = %d %s, want 89 B (low + medium only)", rep.Score.Overall, rep.Score.Grade)
	}
	if got := len(gate.Counted(rep.Findings)); got != 2 {
		t.Errorf("Counted() = %d findings, want 2", got)
	}
}

// TestApplyKeepsPartial: scoring the report again does not hide that the
// scan was cut short.
func TestApplyKeepsPartial(t *testing.T) {
	rep := report(headers)
	rep.Score.Partial = true
	gate.Apply(rep, mustRules(t, "authz.bola\tIGNORE"), nil, time.Now())
	if !rep.Score.Partial {
		t.Errorf("Score.Partial = false after Apply, want true")
	}
	rep = report(headers)
	rep.Coverage.BudgetExhausted = true
	gate.Apply(rep, gate.Rules{}, nil, time.Now())
	if !rep.Score.Partial {
		t.Errorf("budget-cut report: Score.Partial = false after Apply, want true")
	}
}
