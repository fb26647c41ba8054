package pdf

import (
	"os"
	"strings"
	"testing"

	"github.com/go-pdf/fpdf"

	"github.com/merlonsec/merlon/internal/scan"
)

func TestEncoder(t *testing.T) {
	e := newEncoder(fpdf.New("P", "mm", "A4", ""))
	tests := []struct {
		name, in, want string
		multiline      bool
	}{
		{"ascii", "GET /users/{id} (ok)", "GET /users/{id} (ok)", false},
		{"latin1", "café", "caf\xe9", false},
		{"cp1252 extras", "€ … — ’", "\x80 \x85 \x97 \x92", false},
		{"no glyph", "漢 🔥", "? ?", false},
		{"invalid utf-8", "a\xffb\xc0", `a\xffb\xc0`, false},
		{"terminal escape", "\x1b[2J\a", `\x1b[2J\x07`, false},
		{"c1 and bidi", "\u009b\u202eabc\u200b", `\u009b\u202eabc\u200b`, false},
		{"soft hyphen", "in\u00advisible", `in\u00advisible`, false},
		{"newline on one line", "a\nb\r\n", `a\nb\x0d\n`, false},
		{"newline kept", "a\r\nb\n\n", "a\nb", true},
		{"tab", "a\tb", "a  b", false},
		{"dot stays a dot", "v1.2.", "v1.2.", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got string
			if tt.multiline {
				got = e.lines(tt.in)
			} else {
				got = e.line(tt.in)
			}
			if got != tt.want {
				t.Errorf("encode(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// TestComplianceComplete checks every OWASP category has a mapping, and
// that docs/reports.md documents exactly the table the code uses.
func TestComplianceComplete(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/reports.md")
	if err != nil {
		t.Fatalf("read the reports doc: %v", err)
	}
	for _, c := range scan.Categories() {
		ctl, ok := compliance(c)
		if !ok || ctl.PCI == "" || ctl.SOC2 == "" {
			t.Errorf("compliance(%s) = %+v, %v; want PCI DSS and SOC 2 controls", c, ctl, ok)
			continue
		}
		row := "| " + string(c) + " " + c.Name() + " | " + ctl.PCI + " | " + ctl.SOC2 + " |"
		if !strings.Contains(string(doc), row) {
			t.Errorf("docs/reports.md lacks the mapping row\n%s", row)
		}
	}
	if _, ok := compliance("API11:2023"); ok {
		t.Errorf("compliance(API11:2023) reports a mapping for an unknown category")
	}
}
