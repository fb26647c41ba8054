package reportcmd

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/cli/cmdutil"
	"github.com/merlonsec/merlon/internal/report/reporttest"
)

func testIO(in string) (*cmdutil.IO, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &cmdutil.IO{In: strings.NewReader(in), Out: out, ErrOut: errOut}, out, errOut
}

func savedFixture(t *testing.T) (string, []byte) {
	t.Helper()
	data, err := json.MarshalIndent(reporttest.Fixture(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "scan.json")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p, data
}

func TestFlags(t *testing.T) {
	ios, _, _ := testIO("")
	var got *Options
	cmd := NewCmd(ios, func(_ context.Context, o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"scan.json", "-f", "json", "-o", "out.json", "-v"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got.Input != "scan.json" || got.Format != "json" || got.Output != "out.json" || !got.Verbose {
		t.Errorf("parsed options = %+v", *got)
	}
	cmd = NewCmd(ios, func(context.Context, *Options) error { return nil })
	cmd.SetArgs([]string{})
	cmd.SilenceErrors, cmd.SilenceUsage = true, true
	if err := cmd.Execute(); cmdutil.ExitCode(err) != cmdutil.ExitUsage {
		t.Errorf("report without arguments = %v, want a usage error", err)
	}
}

func TestRenderSavedReport(t *testing.T) {
	path, data := savedFixture(t)

	// Text goes to stdout, with the fixture's grade and findings in it.
	ios, out, _ := testIO("")
	if err := Run(context.Background(), &Options{IO: ios, Input: path, Format: "text"}); err != nil {
		t.Fatalf("Run(text) = %v", err)
	}
	fix := reporttest.Fixture()
	for _, want := range []string{fix.Score.Grade, "authz.bola", "property.mass-assignment", "CWE-639"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("text rendering lacks %q", want)
		}
	}

	// JSON to a file round-trips the saved report.
	dst := filepath.Join(t.TempDir(), "again.json")
	ios, out, _ = testIO("")
	if err := Run(context.Background(), &Options{IO: ios, Input: path, Format: "json", Output: dst}); err != nil {
		t.Fatalf("Run(json -o) = %v", err)
	}
	if out.Len() != 0 {
		t.Errorf("stdout = %q, want nothing with -o", out.String())
	}
	again, err := os.ReadFile(dst)
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	json.Unmarshal(data, &a)
	json.Unmarshal(again, &b)
	if ja, _ := json.Marshal(a); string(ja) != string(mustMarshal(t, b)) {
		t.Errorf("json re-rendering differs from the saved report:\n%s\n%s", data, again)
	}

	// "-" reads stdin.
	ios, out, _ = testIO(string(data))
	if err := Run(context.Background(), &Options{IO: ios, Input: "-", Format: "json"}); err != nil || !strings.Contains(out.String(), `"authz.bola"`) {
		t.Errorf("Run(-) = %v, output %d bytes", err, out.Len())
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	path, _ := savedFixture(t)
	notJSON := filepath.Join(dir, "x.json")
	os.WriteFile(notJSON, []byte("<html>"), 0o644)
	notReport := filepath.Join(dir, "y.json")
	os.WriteFile(notReport, []byte(`{"a":1}`), 0o644)
	future := filepath.Join(dir, "z.json")
	os.WriteFile(future, []byte(`{"schemaVersion":"2"}`), 0o644)

	tests := []struct {
		name, input, format, output string
		code                        int
		want                        string
	}{
		{"missing file", filepath.Join(dir, "nope.json"), "text", "", 2, "does not exist"},
		{"not json", notJSON, "text", "", 2, "x.json"},
		{"not a report", notReport, "text", "", 2, "not a Merlon JSON report"},
		{"other major version", future, "text", "", 2, "schemaVersion"},
		{"unknown format", path, "xml", "", 2, "unknown format"},
		{"unwritable output", path, "json", filepath.Join(dir, "no", "such", "dir", "r.json"), 3, "write report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ios, _, _ := testIO("")
			err := Run(context.Background(), &Options{IO: ios, Input: tt.input, Format: tt.format, Output: tt.output})
			if code := cmdutil.ExitCode(err); code != tt.code || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run() = %v (exit %d), want exit %d mentioning %q", err, code, tt.code, tt.want)
			}
		})
	}
}
