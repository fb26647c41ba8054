package scancmd

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/cli/cmdutil"
)

func testIO() (*cmdutil.IO, *bytes.Buffer, *bytes.Buffer) {
	out, errOut := &bytes.Buffer{}, &bytes.Buffer{}
	return &cmdutil.IO{In: strings.NewReader(""), Out: out, ErrOut: errOut}, out, errOut
}

// TestFlags checks parsing alone: the run function is replaced.
func TestFlags(t *testing.T) {
	ios, _, _ := testIO()
	var got *Options
	cmd := NewCmd(ios, func(_ context.Context, o *Options) error { got = o; return nil })
	cmd.SetArgs([]string{"https://api.example.com", "--spec", "api.yaml", "-H", "Authorization: Bearer x",
		"-H", "X-Tenant: 7", "--active", "-f", "json", "-o", "r.json", "--fail-on", "high", "--rate", "5",
		"-c", "3", "--timeout", "2s", "--max-requests", "99", "--max-time", "1m", "--checks", "misconfig,API8",
		"--skip-checks", "misconfig.cors", "--profile", "quick", "-q"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	want := Options{Target: "https://api.example.com", Spec: "api.yaml", Headers: []string{"Authorization: Bearer x", "X-Tenant: 7"},
		Active: true, Format: "json", Output: "r.json", FailOn: "high", Rate: 5, Concurrency: 3, Timeout: 2 * time.Second,
		MaxRequests: 99, MaxTime: time.Minute, Checks: []string{"misconfig", "API8"}, SkipChecks: []string{"misconfig.cors"},
		Profile: "quick", Quiet: true}
	got.IO = nil
	if got.Target != want.Target || got.Spec != want.Spec || strings.Join(got.Headers, "|") != strings.Join(want.Headers, "|") ||
		got.Active != want.Active || got.Format != want.Format || got.Output != want.Output || got.FailOn != want.FailOn ||
		got.Rate != want.Rate || got.Concurrency != want.Concurrency || got.Timeout != want.Timeout ||
		got.MaxRequests != want.MaxRequests || got.MaxTime != want.MaxTime || strings.Join(got.Checks, ",") != "misconfig,API8" ||
		strings.Join(got.SkipChecks, ",") != "misconfig.cors" || got.Profile != want.Profile || got.Quiet != want.Quiet {
		t.Errorf("parsed options = %+v\nwant %+v", *got, want)
	}
}

func TestValidate(t *testing.T) {
	base := func() *Options {
		ios, _, _ := testIO()
		return &Options{IO: ios, Target: "http://127.0.0.1:8080", Profile: "standard", Format: "text", Concurrency: 8, Timeout: time.Second}
	}
	tests := []struct {
		name   string
		modify func(*Options)
		want   string // "" means valid
	}{
		{"valid", func(o *Options) {}, ""},
		{"bad scheme", func(o *Options) { o.Target = "gopher://x" }, "unsupported scheme"},
		{"bad port", func(o *Options) { o.Target = "http://127.0.0.1:99999" }, "invalid port"},
		{"bad profile", func(o *Options) { o.Profile = "huge" }, "unknown profile"},
		{"bad format", func(o *Options) { o.Format = "xml" }, "unknown format"},
		{"bad fail-on", func(o *Options) { o.FailOn = "severe" }, "unknown severity"},
		{"negative rate", func(o *Options) { o.Rate = -1 }, "--rate"},
		{"zero concurrency", func(o *Options) { o.Concurrency = 0 }, "--concurrency"},
		{"zero timeout", func(o *Options) { o.Timeout = 0 }, "--timeout"},
		{"unknown check", func(o *Options) { o.Checks = []string{"nope"} }, "unknown check"},
		{"nothing left", func(o *Options) { o.Checks = []string{"misconfig.cors"}; o.SkipChecks = []string{"misconfig"} }, "no check"},
		{"header without colon", func(o *Options) { o.Headers = []string{"Authorization Bearer abcdefghijkl"} }, "invalid header"},
		{"header with newline", func(o *Options) { o.Headers = []string{"X-A: b\r\nX-B: c"} }, "line break"},
		{"base-url bad", func(o *Options) { o.BaseURL = "nope" }, "--base-url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := base()
			tt.modify(o)
			_, err := o.validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("validate() = %v, want nil", err)
				}
				return
			}
			var ue *cmdutil.UsageError
			if err == nil || !errors.As(err, &ue) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("validate() = %v, want a usage error mentioning %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "abcdefghijkl") {
				t.Errorf("error leaks the header value: %v", err)
			}
		})
	}
}

func TestExitCodes(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{cmdutil.ErrFindings, 1},
		{cmdutil.Usagef("bad"), 2},
		{errors.New("boom"), 3},
		{cmdutil.ErrInterrupted, 130},
	}
	for _, tt := range tests {
		if got := cmdutil.ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
