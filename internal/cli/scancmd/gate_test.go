package scancmd

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/cli/cmdutil"
	"github.com/merlonsec/merlon/internal/scan"
)

func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func savedReport(t *testing.T, target string, cov scan.Coverage, fs ...scan.Finding) []byte {
	t.Helper()
	if fs == nil {
		fs = []scan.Finding{}
	}
	data, err := json.Marshal(&scan.Report{SchemaVersion: scan.SchemaVersion, Target: target, Coverage: cov, Findings: fs, Score: scan.Score{Grade: "B"}})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestLoadPolicyBadFiles(t *testing.T) {
	dir := t.TempDir()
	target, _ := url.Parse("http://127.0.0.1:8080")
	reached := scan.Coverage{Operations: 3, Reached: 3, Succeeded: 3, Requests: 20}
	good := writeFile(t, dir, "good.json", string(savedReport(t, "http://127.0.0.1:8080", reached)))
	other := writeFile(t, dir, "other.json", string(savedReport(t, "http://127.0.0.1:9999", reached)))
	dead := writeFile(t, dir, "dead.json", string(savedReport(t, "http://127.0.0.1:8080", scan.Coverage{Operations: 3, Requests: 20, TransportError: 20})))
	notReport := writeFile(t, dir, "not.json", `{"hello":"world"}`)
	badYAML := writeFile(t, dir, "bad.yaml", "- check: [misconfig.cors\n")
	badDate := writeFile(t, dir, "date.yaml", "- check: misconfig.cors\n  reason: fine\n  expires: 31/12/2030\n")
	noReason := writeFile(t, dir, "reason.yaml", "- check: misconfig.cors\n  expires: 2030-12-31\n")
	badAction := writeFile(t, dir, "rules.tsv", "misconfig.cors\tBLOCK\n")
	badCheck := writeFile(t, dir, "rules2.tsv", "misconfig.corz\tWARN\n")
	goodSup := writeFile(t, dir, "sup.yaml", "- check: misconfig.cors\n  reason: fine\n  expires: 2030-12-31\n")
	goodRules := writeFile(t, dir, "rules3.tsv", "misconfig\tWARN\tbehind a proxy\n")
	missing := filepath.Join(dir, "nope")

	tests := []struct {
		name string
		opts Options
		want string // "" means valid
	}{
		{"all good", Options{FailOn: "new:high", Baseline: good, Suppressions: goodSup, Rules: goodRules}, ""},
		{"bad fail-on prefix", Options{FailOn: "old:high"}, "--fail-on"},
		{"missing baseline", Options{Baseline: missing}, "does not exist"},
		{"baseline not a report", Options{Baseline: notReport}, "not a Merlon JSON report"},
		{"baseline of another target", Options{Baseline: other}, "scanned http://127.0.0.1:9999"},
		{"baseline that reached nothing", Options{Baseline: dead}, "proves nothing (none of the 3 operations got an HTTP answer"},
		{"missing suppressions", Options{Suppressions: missing}, "--suppressions: " + missing + " does not exist"},
		{"malformed yaml", Options{Suppressions: badYAML}, "--suppressions"},
		{"bad date", Options{Suppressions: badDate}, "is not a date"},
		{"no reason", Options{Suppressions: noReason}, "reason is required"},
		{"missing rules", Options{Rules: missing}, "--rules"},
		{"unknown action", Options{Rules: badAction}, `unknown action "BLOCK"`},
		{"unknown check in rules", Options{Rules: badCheck}, "misconfig.corz"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _ := testIO()
			tt.opts.IO = ios
			p, err := tt.opts.loadPolicy(target)
			if tt.want == "" {
				if err != nil || p == nil {
					t.Fatalf("loadPolicy() = %v, want a policy", err)
				}
				return
			}
			if cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("loadPolicy() = %v (exit %d), want a usage error mentioning %q", err, cmdutil.ExitCode(err), tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is not one line: %q", err)
			}
		})
	}
}

// TestDecideUnreachedScanIsRuntimeFailure: when every request failed, a
// gate neither passes (exit 0) nor fails on findings (exit 1): exit 3.
func TestDecideUnreachedScanIsRuntimeFailure(t *testing.T) {
	high := scan.Finding{CheckID: "misconfig.cors", Severity: scan.High, Fingerprint: "abc"}
	dead := &scan.Report{Findings: []scan.Finding{}, Coverage: scan.Coverage{Operations: 4, Requests: 12, TransportError: 12}}
	alive := &scan.Report{Findings: []scan.Finding{high}, Coverage: scan.Coverage{Operations: 4, Reached: 4, Succeeded: 4, Requests: 12}}
	ios, _, _ := testIO()
	p, err := (&Options{IO: ios, FailOn: "high"}).loadPolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := p.decide(&buf, dead, false); cmdutil.ExitCode(err) != cmdutil.ExitRuntime {
		t.Errorf("decide(unreached scan) = %v (exit %d), want exit 3", err, cmdutil.ExitCode(err))
	}
	if err := p.decide(&buf, alive, false); !errors.Is(err, cmdutil.ErrFindings) {
		t.Errorf("decide(high finding, --fail-on high) = %v, want ErrFindings", err)
	}
	if !strings.Contains(buf.String(), "merlon: gate: fails on high misconfig.cors") {
		t.Errorf("stderr = %q, want the reason for failing", buf.String())
	}
	// Without any gate, an unreached scan is left to the report's N/A grade.
	none, _ := (&Options{IO: ios}).loadPolicy(nil)
	if err := none.decide(&buf, dead, false); err != nil {
		t.Errorf("decide(no gate) = %v, want nil", err)
	}
}

// TestDecideInconclusiveOrPartial: a gate never passes a scan that saw no
// operation answer 2xx, nor an unfinished one without a failing finding;
// an unfinished scan's findings still fail it.
func TestDecideInconclusiveOrPartial(t *testing.T) {
	high := scan.Finding{CheckID: "misconfig.cors", Severity: scan.High, Fingerprint: "abc"}
	ok := scan.Coverage{Operations: 4, Reached: 4, Succeeded: 3, Requests: 40}
	budget := ok
	budget.BudgetExhausted = true
	tests := []struct {
		name string
		rep  scan.Report
		code int
		msg  string
	}{
		{"complete, nothing found", scan.Report{Coverage: ok}, cmdutil.ExitOK, ""},
		{"every operation 404", scan.Report{Coverage: scan.Coverage{Operations: 4, Reached: 4, Requests: 40}}, cmdutil.ExitRuntime, "none of the 4 operations answered 2xx"},
		{"no operation", scan.Report{Coverage: scan.Coverage{Requests: 40}}, cmdutil.ExitRuntime, "no operation to test"},
		{"time budget, nothing found", scan.Report{Coverage: ok, Interrupted: true}, cmdutil.ExitRuntime, "--max-time"},
		{"request budget, nothing found", scan.Report{Coverage: budget}, cmdutil.ExitRuntime, "--max-requests"},
		{"time budget, high found", scan.Report{Coverage: ok, Interrupted: true, Findings: []scan.Finding{high}}, cmdutil.ExitFindings, ""},
		{"request budget, high found", scan.Report{Coverage: budget, Findings: []scan.Finding{high}}, cmdutil.ExitFindings, ""},
	}
	ios, _, _ := testIO()
	p, err := (&Options{IO: ios, FailOn: "high"}).loadPolicy(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := p.decide(&buf, &tt.rep, false)
			if got := cmdutil.ExitCode(err); got != tt.code {
				t.Errorf("decide(%s) = %v (exit %d), want exit %d", tt.name, err, got, tt.code)
			}
			if tt.msg != "" && (err == nil || !strings.Contains(err.Error(), tt.msg)) {
				t.Errorf("decide(%s) = %v, want it to mention %q", tt.name, err, tt.msg)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("decide(%s) = %q, want one line", tt.name, err)
			}
		})
	}
}
