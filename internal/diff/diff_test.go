package diff_test

import (
	"slices"
	"testing"

	"github.com/merlonsec/merlon/internal/diff"
	"github.com/merlonsec/merlon/internal/scan"
)

func f(check, op string) scan.Finding {
	return scan.Finding{CheckID: check, Operation: op, Severity: scan.Medium,
		Fingerprint: scan.Fingerprint(check, "http://127.0.0.1:8080", op, "")}
}

func rep(fs ...scan.Finding) *scan.Report { return &scan.Report{Findings: fs} }

func ids(fs []scan.Finding) []string {
	out := []string{}
	for _, f := range fs {
		out = append(out, f.CheckID+" "+f.Operation)
	}
	return out
}

// withStatus records how check ended in r.
func withStatus(r *scan.Report, check, status string) *scan.Report {
	r.Checks = append(r.Checks, scan.CheckResult{ID: check, Status: status})
	return r
}

func TestCompare(t *testing.T) {
	a, b, c, d := f("misconfig.cors", ""), f("exposure.error-disclosure", "GET /a"), f("exposure.error-disclosure", "GET /b"), f("authz.bola", "GET /a")
	// The same weakness seen with other evidence is still the same finding.
	bAgain := b
	bAgain.Description = "seen again with another body"
	bAgain.Evidence = []scan.Evidence{{Note: "other"}}

	tests := []struct {
		name                 string
		old, new             *scan.Report
		wantNew, wantFixed   []string
		wantUnchanged        []string
		wantUnchangedFromNew bool
	}{
		{"identical", rep(a, b), rep(a, b), []string{}, []string{}, []string{"misconfig.cors ", "exposure.error-disclosure GET /a"}, false},
		{"one new", rep(a), rep(a, d), []string{"authz.bola GET /a"}, []string{}, []string{"misconfig.cors "}, false},
		{"one fixed", rep(a, b, c), rep(a, c), []string{}, []string{"exposure.error-disclosure GET /a"}, []string{"misconfig.cors ", "exposure.error-disclosure GET /b"}, false},
		{"same check other operation is new", rep(b), rep(c), []string{"exposure.error-disclosure GET /b"}, []string{"exposure.error-disclosure GET /a"}, []string{}, false},
		{"evidence changes do not matter", rep(b), rep(bAgain), []string{}, []string{}, []string{"exposure.error-disclosure GET /a"}, true},
		{"duplicates count once", rep(a, a), rep(d, d), []string{"authz.bola GET /a"}, []string{"misconfig.cors "}, []string{}, false},
		{"no old report", nil, rep(a), []string{"misconfig.cors "}, []string{}, []string{}, false},
		{"both empty", rep(), rep(), []string{}, []string{}, []string{}, false},
		{"check errored in old: its findings are not new", withStatus(rep(a), "authz.bola", "error"), rep(a, d), []string{}, []string{}, []string{"misconfig.cors "}, false},
		{"check cancelled in old: its findings are not new", withStatus(rep(a), "authz.bola", "cancelled"), rep(a, d), []string{}, []string{}, []string{"misconfig.cors "}, false},
		{"check errored in new: its old findings are not fixed", rep(a, b, d), withStatus(rep(a), "exposure.error-disclosure", "error"), []string{}, []string{"authz.bola GET /a"}, []string{"misconfig.cors "}, false},
		{"check errored in new still reports what it found", rep(a), withStatus(rep(a, d), "authz.bola", "error"), []string{"authz.bola GET /a"}, []string{}, []string{"misconfig.cors "}, false},
		{"check skipped in old: its findings are new", withStatus(rep(a), "authz.bola", "skipped"), rep(a, d), []string{"authz.bola GET /a"}, []string{}, []string{"misconfig.cors "}, false},
		{"an errored check still matches what both saw", withStatus(rep(b), "exposure.error-disclosure", "error"), withStatus(rep(b, c), "exposure.error-disclosure", "error"), []string{}, []string{}, []string{"exposure.error-disclosure GET /a"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := diff.Compare(tt.old, tt.new)
			if got := ids(r.New); !slices.Equal(got, tt.wantNew) {
				t.Errorf("New = %q, want %q", got, tt.wantNew)
			}
			if got := ids(r.Fixed); !slices.Equal(got, tt.wantFixed) {
				t.Errorf("Fixed = %q, want %q", got, tt.wantFixed)
			}
			if got := ids(r.Unchanged); !slices.Equal(got, tt.wantUnchanged) {
				t.Errorf("Unchanged = %q, want %q", got, tt.wantUnchanged)
			}
			compared := len(r.New) + len(r.Fixed) + len(r.Unchanged) + len(r.NotCompared)
			if all := len(union(tt.old, tt.new)); compared != all {
				t.Errorf("Compare() places %d findings, want each of the %d distinct ones in exactly one list", compared, all)
			}
			if tt.wantUnchangedFromNew && r.Unchanged[0].Description != bAgain.Description {
				t.Errorf("Unchanged holds the old scan's finding, want the new one's")
			}
		})
	}
}

// union returns the distinct fingerprints of both reports.
func union(rs ...*scan.Report) map[string]bool {
	m := map[string]bool{}
	for _, r := range rs {
		if r == nil {
			continue
		}
		for _, f := range r.Findings {
			m[f.Fingerprint] = true
		}
	}
	return m
}

func TestNotCompared(t *testing.T) {
	cors, bola, errs := f("misconfig.cors", ""), f("authz.bola", "GET /a"), f("exposure.error-disclosure", "GET /b")
	old := withStatus(rep(cors, errs), "authz.bola", "error")
	cur := withStatus(rep(cors, bola), "exposure.error-disclosure", "cancelled")
	r := diff.Compare(old, cur)
	if got, want := ids(r.NotCompared), []string{"authz.bola GET /a", "exposure.error-disclosure GET /b"}; !slices.Equal(got, want) {
		t.Errorf("NotCompared = %q, want %q", got, want)
	}
	want := []diff.Incomplete{{CheckID: "authz.bola", Scan: "old", Status: "error"}, {CheckID: "exposure.error-disclosure", Scan: "new", Status: "cancelled"}}
	if !slices.Equal(r.Incomplete, want) {
		t.Fatalf("Incomplete = %+v, want %+v", r.Incomplete, want)
	}
	for i, wantLine := range []string{
		"check authz.bola did not complete in the old scan (error); its findings in the new scan are not counted as new",
		"check exposure.error-disclosure did not complete in the new scan (cancelled); its findings in the old scan are not counted as fixed",
	} {
		if got := r.Incomplete[i].String(); got != wantLine {
			t.Errorf("Incomplete[%d].String() = %q, want %q", i, got, wantLine)
		}
	}
}
