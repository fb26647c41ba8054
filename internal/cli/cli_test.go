package cli

import (
	"bytes"
	"strings"
	"testing"
)

// TestErrorsAreOneLine: every error Main prints is a single line, with the
// help hint for usage errors folded into it.
func TestErrorsAreOneLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"unknown command", []string{"frobnicate"}, 2, "merlon: unknown command \"frobnicate\" for merlon (see 'merlon --help')"},
		{"unknown flag", []string{"scan", "http://127.0.0.1:1", "--frobnicate"}, 2, "merlon: unknown flag: --frobnicate (see 'merlon scan --help')"},
		{"no target", []string{"scan"}, 2, "(see 'merlon scan --help')"},
		{"no scheme", []string{"scan", "127.0.0.1:8080"}, 2, "has no scheme; use http://127.0.0.1:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Main(tt.args, strings.NewReader(""), &out, &errOut)
			if code != tt.code {
				t.Errorf("Main(%q) = %d, want %d", tt.args, code, tt.code)
			}
			got := errOut.String()
			if strings.Count(got, "\n") != 1 || !strings.HasPrefix(got, "merlon: ") {
				t.Errorf("Main(%q) stderr = %q, want one 'merlon: …' line", tt.args, got)
			}
			if !strings.Contains(got, tt.want) {
				t.Errorf("Main(%q) stderr = %q, want it to contain %q", tt.args, got, tt.want)
			}
		})
	}
}
