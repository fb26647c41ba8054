package text

import (
	"slices"
	"testing"

	"github.com/merlonsec/merlon/internal/visible"
)

func TestClean(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"plain", "GET /users/{id}", "GET /users/{id}"},
		{"unicode kept", "café ✓ 日本", "café ✓ 日本"},
		{"csi", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"osc title", "\x1b]0;pwned\x07", `\x1b]0;pwned\x07`},
		{"newline and cr", "a\r\nb", `a\x0d\x0ab`},
		{"tab", "a\tb", "a  b"},
		{"del", "a\x7fb", `a\x7fb`},
		{"invalid utf8", "a\xff\xfeb", `a\xff\xfeb`},
		{"c1 csi", "a\u009b2J", `a\u009b2J`},
		{"bidi override", "abc\u202edef", `abc\u202edef`},
		{"bidi isolate", "\u2066x\u2069", `\u2066x\u2069`},
		{"line separator", "a\u2028b", `a\u2028b`},
		{"nul", "a\x00b", `a\x00b`},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := clean(tt.in); got != tt.want {
				t.Errorf("clean(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCleanLines(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"one", []string{"one"}},
		{"a\r\nb\n", []string{"a", "b"}},
		{"a\n\x1b[2Jb", []string{"a", `\x1b[2Jb`}},
		{"a\rb", []string{`a\x0db`}},
	}
	for _, tt := range tests {
		if got := cleanLines(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("cleanLines(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestTrunc(t *testing.T) {
	tests := []struct {
		in   string
		n    int
		want string
	}{
		{"abcdef", 10, "abcdef"},
		{"abcdef", 6, "abcdef"},
		{"abcdef", 4, "abc…"},
		{"日本語テキスト", 3, "日本…"},
		{"abcdef", 0, "abcdef"},
	}
	for _, tt := range tests {
		if got := trunc(tt.in, tt.n); got != tt.want {
			t.Errorf("trunc(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"plain", "\x1b[2J", "\xff", "\u009b", "a\u202eb", "\r\n\t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := clean(s)
		for _, r := range got {
			if r < 0x20 || r == 0x7f || visible.Hidden(r) {
				t.Fatalf("clean(%q) = %q keeps control %U", s, got, r)
			}
		}
		if clean(got) != got {
			t.Fatalf("clean is not idempotent on %q", s)
		}
	})
}
