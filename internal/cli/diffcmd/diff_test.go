package diffcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/cli/cmdutil"
	"github.com/merlonsec/merlon/internal/report/reporttest"
	"github.com/merlonsec/merlon/internal/scan"
)

func save(t *testing.T, dir, name string, r *scan.Report) string {
	t.Helper()
	data, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// pair saves two scans of the fixture's target: the new one fixed the
// first finding and has a new one whose title and operation are hostile.
func pair(t *testing.T) (oldPath, newPath string, fixed, added scan.Finding) {
	t.Helper()
	dir := t.TempDir()
	old := reporttest.Fixture()
	cur := reporttest.Fixture()
	fixed = cur.Findings[0]
	added = scan.Finding{
		CheckID: "exposure.error-disclosure", Title: "Stack trace " + reporttest.HostileHTML + reporttest.HostileANSI,
		Severity: scan.High, Confidence: scan.Confirmed, Category: scan.API8Misconfiguration,
		Operation: "GET /x|y`" + reporttest.HostileBytes,
	}
	added.Fingerprint = scan.Fingerprint(added.CheckID, cur.Target, added.Operation, "")
	cur.Findings = append(cur.Findings[1:], added)
	return save(t, dir, "old.json", old), save(t, dir, "new.json", cur), fixed, added
}

func run(t *testing.T, o *Options) (string, string, error) {
	t.Helper()
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	o.IO = &cmdutil.IO{In: strings.NewReader(""), Out: out, ErrOut: errOut}
	err := Run(context.Background(), o)
	return out.String(), errOut.String(), err
}

func TestText(t *testing.T) {
	oldPath, newPath, fixed, _ := pair(t)
	n := len(reporttest.Fixture().Findings) - 1
	out, _, err := run(t, &Options{Old: oldPath, New: newPath, Format: "text"})
	if err != nil {
		t.Fatalf("Run() = %v, want nil (no --fail-on-new)", err)
	}
	for _, want := range []string{"1 new, 1 fixed", "New (1)", "Fixed (1)", "Unchanged (" + itoa(n) + ")", "HIGH      exposure.error-disclosure", fixed.CheckID} {
		if !strings.Contains(out, want) {
			t.Errorf("text diff lacks %q:\n%s", want, out)
		}
	}
	if strings.ContainsAny(out, "\x1b\r\u202e\u009b") || strings.Contains(out, "\xff") {
		t.Errorf("text diff lets control characters through:\n%q", out)
	}
	if !strings.Contains(out, `\x1b[2J`) {
		t.Errorf("text diff hides what the target sent; want it escaped visibly:\n%s", out)
	}
	// New comes before Fixed, which comes before Unchanged.
	if i, j, k := strings.Index(out, "New ("), strings.Index(out, "Fixed ("), strings.Index(out, "Unchanged ("); !(i < j && j < k) {
		t.Errorf("sections out of order:\n%s", out)
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func TestMarkdown(t *testing.T) {
	oldPath, newPath, _, _ := pair(t)
	out, _, err := run(t, &Options{Old: oldPath, New: newPath, Format: "markdown"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"### Merlon diff: 1 new, 1 fixed", "#### New (1)", "#### Fixed (1)", "<details><summary>Unchanged", "&lt;script&gt;", "| high | `exposure.error-disclosure` |"} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown diff lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "<script>") || strings.Contains(out, "<img") {
		t.Errorf("markdown diff lets target HTML through:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "| high | `exposure") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != 5 {
			t.Errorf("a pipe from the target breaks the table row: %q", line)
		}
	}
}

func TestJSON(t *testing.T) {
	oldPath, newPath, fixed, added := pair(t)
	out, _, err := run(t, &Options{Old: oldPath, New: newPath, Format: "json"})
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Summary struct{ New, Fixed, Unchanged int }
		OldScan struct{ Target, Grade string }
		New     []scan.Finding
		Fixed   []scan.Finding
	}
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("json diff does not parse: %v\n%s", err, out)
	}
	if got.Summary.New != 1 || got.Summary.Fixed != 1 || got.Summary.Unchanged != len(reporttest.Fixture().Findings)-1 {
		t.Errorf("summary = %+v", got.Summary)
	}
	if len(got.New) != 1 || got.New[0].Fingerprint != added.Fingerprint || len(got.Fixed) != 1 || got.Fixed[0].Fingerprint != fixed.Fingerprint {
		t.Errorf("new = %+v, fixed = %+v", got.New, got.Fixed)
	}
	if got.OldScan.Target != reporttest.Target || got.OldScan.Grade == "" {
		t.Errorf("oldScan = %+v", got.OldScan)
	}
	if strings.Contains(out, "<script>") {
		t.Errorf("json diff writes raw HTML")
	}
}

func TestFailOnNew(t *testing.T) {
	oldPath, newPath, _, _ := pair(t)
	tests := []struct {
		name     string
		old, new string
		failOn   string
		wantErr  error
		wantCode int
	}{
		{"no threshold", oldPath, newPath, "", nil, 0},
		{"new high at high", oldPath, newPath, "high", cmdutil.ErrFindings, 1},
		{"new high below critical", oldPath, newPath, "critical", nil, 0},
		{"same scan twice", newPath, newPath, "info", nil, 0},
		{"reversed: the one new is low", newPath, oldPath, "medium", nil, 0},
		{"reversed: low at low", newPath, oldPath, "low", cmdutil.ErrFindings, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := run(t, &Options{Old: tt.old, New: tt.new, Format: "text", FailOnNew: tt.failOn})
			if !errors.Is(err, tt.wantErr) || cmdutil.ExitCode(err) != tt.wantCode {
				t.Errorf("Run() = %v (exit %d), want exit %d", err, cmdutil.ExitCode(err), tt.wantCode)
			}
		})
	}
}

func TestUsageErrors(t *testing.T) {
	oldPath, newPath, _, _ := pair(t)
	tests := []struct {
		name string
		o    Options
		want string
	}{
		{"bad format", Options{Old: oldPath, New: newPath, Format: "html"}, "unknown diff format"},
		{"bad severity", Options{Old: oldPath, New: newPath, Format: "text", FailOnNew: "severe"}, "--fail-on-new"},
		{"missing old", Options{Old: filepath.Join(t.TempDir(), "gone.json"), New: newPath, Format: "text"}, "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := run(t, &tt.o)
			if cmdutil.ExitCode(err) != cmdutil.ExitUsage || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run() = %v, want a usage error mentioning %q", err, tt.want)
			}
		})
	}
	ios := &cmdutil.IO{In: strings.NewReader(""), Out: &bytes.Buffer{}, ErrOut: &bytes.Buffer{}}
	cmd := NewCmd(ios, func(context.Context, *Options) error { return nil })
	cmd.SetArgs([]string{"only-one.json"})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.Execute(); cmdutil.ExitCode(err) != cmdutil.ExitUsage {
		t.Errorf("diff with one argument = %v, want a usage error", err)
	}
}

func TestDifferentTargetsWarn(t *testing.T) {
	dir := t.TempDir()
	a := reporttest.Fixture()
	b := reporttest.Fixture()
	b.Target = "https://staging.shop.test/v1"
	_, errOut, err := run(t, &Options{Old: save(t, dir, "a.json", a), New: save(t, dir, "b.json", b), Format: "text"})
	if err != nil || !strings.Contains(errOut, "different targets") {
		t.Errorf("Run() = %v, stderr %q; want a warning about different targets", err, errOut)
	}
}

// TestIncompleteChecks: a check that timed out in one scan makes neither
// new nor fixed findings, in either direction, and the output says why.
func TestIncompleteChecks(t *testing.T) {
	dir := t.TempDir()
	complete := reporttest.Fixture()
	// The BOLA check timed out: it reported nothing.
	timedOut := reporttest.Fixture()
	var bola scan.Finding
	kept := timedOut.Findings[:0]
	for _, f := range timedOut.Findings {
		if f.CheckID == "authz.bola" {
			bola = f
			continue
		}
		kept = append(kept, f)
	}
	timedOut.Findings = kept
	for i, c := range timedOut.Checks {
		if c.ID == "authz.bola" {
			timedOut.Checks[i] = scan.CheckResult{ID: c.ID, Status: "error", Error: "context deadline exceeded"}
		}
	}
	if bola.CheckID == "" {
		t.Fatal("the fixture has no authz.bola finding")
	}
	completePath, timedOutPath := save(t, dir, "complete.json", complete), save(t, dir, "timedout.json", timedOut)

	tests := []struct {
		name     string
		old, new string
		wantLine string
	}{
		{"errored in the old scan: nothing is new", timedOutPath, completePath,
			"check authz.bola did not complete in the old scan (error); its findings in the new scan are not counted as new"},
		{"errored in the new scan: nothing is fixed", completePath, timedOutPath,
			"check authz.bola did not complete in the new scan (error); its findings in the old scan are not counted as fixed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := run(t, &Options{Old: tt.old, New: tt.new, Format: "text", FailOnNew: "info"})
			if err != nil {
				t.Errorf("Run(--fail-on-new info) = %v (exit %d), want exit 0: the only difference is a check that did not complete", err, cmdutil.ExitCode(err))
			}
			for _, want := range []string{"0 new, 0 fixed", "1 not compared", "note: " + tt.wantLine, "Not compared (1)", "authz.bola"} {
				if !strings.Contains(out, want) {
					t.Errorf("text diff lacks %q:\n%s", want, out)
				}
			}

			md, _, err := run(t, &Options{Old: tt.old, New: tt.new, Format: "markdown"})
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"1 not compared", "#### Not compared (1)", "did not complete in the"} {
				if !strings.Contains(md, want) {
					t.Errorf("markdown diff lacks %q:\n%s", want, md)
				}
			}

			js, _, err := run(t, &Options{Old: tt.old, New: tt.new, Format: "json"})
			if err != nil {
				t.Fatal(err)
			}
			var got struct {
				Summary     struct{ New, Fixed, NotCompared int }
				NotCompared []scan.Finding
				Incomplete  []struct{ CheckID, Scan, Status string }
			}
			if err := json.Unmarshal([]byte(js), &got); err != nil {
				t.Fatalf("json diff does not parse: %v", err)
			}
			if got.Summary.New != 0 || got.Summary.Fixed != 0 || got.Summary.NotCompared != 1 ||
				len(got.NotCompared) != 1 || got.NotCompared[0].Fingerprint != bola.Fingerprint {
				t.Errorf("json summary = %+v, notCompared = %d findings; want 0 new, 0 fixed, the BOLA finding not compared", got.Summary, len(got.NotCompared))
			}
			found := false
			for _, inc := range got.Incomplete {
				found = found || inc.CheckID == "authz.bola" && inc.Status == "error"
			}
			if !found {
				t.Errorf("json incomplete = %+v, want authz.bola with status error", got.Incomplete)
			}
		})
	}
}
