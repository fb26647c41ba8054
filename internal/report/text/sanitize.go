package text

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/merlonsec/merlon/internal/visible"
)

// clean makes text that may come from the target safe to print on a
// terminal, on one line. Escape sequences could clear the screen, retitle
// the window, hide lines or fake output, so every control character (C0,
// DEL, C1, line separators, bidi overrides) and every invalid UTF-8 byte is
// written as a visible Go-style escape (\x1b, \u202e) instead of being
// dropped: the reader sees that the target sent it, and the terminal
// interprets none of it. Tabs become two spaces.
func clean(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\t':
			b.WriteString("  ")
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case visible.Hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// isPlain reports whether s is printable ASCII, the common case.
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// cleanLines splits target text into lines (dropping a CR before each LF)
// and cleans each one, so multi-line bodies keep their shape.
func cleanLines(s string) []string {
	s = strings.TrimRight(s, "\r\n")
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = clean(strings.TrimSuffix(l, "\r"))
	}
	return lines
}

// trunc shortens s to at most n runes, marking the cut with an ellipsis.
// n <= 0 leaves s whole.
func trunc(s string, n int) string {
	if n <= 0 || utf8.RuneCountInString(s) <= n {
		return s
	}
	i, count := 0, 0
	for i = range s {
		if count == n-1 {
			break
		}
		count++
	}
	return s[:i] + "…"
}
