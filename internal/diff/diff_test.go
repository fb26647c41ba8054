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
			if tt.wantUnchangedFromNew && r.Unchanged[0].Description != bAgain.Description {
				t.Errorf("Unchanged holds the old scan's finding, want the new one's")
			}
		})
	}
}
