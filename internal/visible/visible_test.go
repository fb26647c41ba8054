package visible

import "testing"

func TestLineAndText(t *testing.T) {
	tests := []struct {
		name, in, line, text string
	}{
		{"plain", "GET /users", "GET /users", "GET /users"},
		{"newline", "a\nb\n", `a\nb\n`, "a\nb"},
		{"crlf", "a\r\nb", `a\x0d\nb`, "a\nb"},
		{"escape sequence", "\x1b[2J", `\x1b[2J`, `\x1b[2J`},
		{"bidi override", "a\u202eb", `a\u202eb`, `a\u202eb`},
		{"zero width and soft hyphen", "a\u200bb\u00adc", `a\u200bb\u00adc`, `a\u200bb\u00adc`},
		{"invalid UTF-8", "a\xffb", `a\xffb`, `a\xffb`},
		{"tab stays", "a\tb", "a\tb", "a\tb"},
		{"other scripts stay", "naïve 日本", "naïve 日本", "naïve 日本"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Line(tt.in); got != tt.line {
				t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.line)
			}
			if got := Text(tt.in); got != tt.text {
				t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.text)
			}
		})
	}
}
