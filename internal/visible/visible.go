// Package visible makes text from a scanned target safe to read on a page.
// Escaping for markup stops hostile text from running, but not from hiding
// or reordering what the reader sees; the HTML report and the dashboard
// both pass target text through here before their templates escape it.
package visible

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// visible makes target text safe to read, before html/template escapes it
// for markup. Escaping alone stops markup from running, but it does not
// stop a hostile response from hiding or reordering what the reader sees:
// a bidi override can make one URL look like another, and control bytes
// vanish on screen. So every control character, bidi or line-separator
// rune and invalid UTF-8 byte is written as a visible Go-style escape
// (\x1b, \u202e, \xff). Tabs stay. Newlines stay when multiline is set,
// otherwise they become \n, so one-line fields stay on one line.
func visible(s string, multiline bool) string {
	if plain(s, multiline) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' && multiline, r == '\t':
			b.WriteRune(r)
		case r == '\r' && multiline && strings.HasPrefix(s[i+1:], "\n"):
			// CRLF line ends read as plain line ends.
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case Hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Line is visible for one-line fields: titles, URLs, header values.
func Line(s string) string { return visible(s, false) }

// Text is visible for multi-line fields: bodies and descriptions.
func Text(s string) string { return visible(strings.TrimRight(s, "\r\n"), true) }

// plain reports whether s is printable ASCII (plus newlines when allowed),
// the common case that needs no work.
func plain(s string, multiline bool) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\t' || (c == '\n' && multiline) {
			continue
		}
		if c < 0x20 || c >= 0x7f {
			return false
		}
	}
	return true
}

// Hidden reports non-ASCII runes that are invisible or change how the text
// around them is shown: C1 controls (U+009B is an 8-bit CSI to a
// terminal), the soft hyphen, zero-width and bidirectional marks and
// overrides, line and paragraph separators, and the byte order mark.
// Every report format writes them as escapes.
func Hidden(r rune) bool {
	switch {
	case r >= 0x80 && r <= 0x9f,
		r == 0xad,
		r == 0x061c,
		r >= 0x200b && r <= 0x200f,
		r >= 0x2028 && r <= 0x202e,
		r >= 0x2060 && r <= 0x2069,
		r == 0xfeff:
		return true
	}
	return false
}
