package pdf

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"

	"github.com/merlonsec/merlon/internal/visible"
)

// encoder turns UTF-8 into the single-byte encoding (cp1252) of fpdf's core
// fonts. Target text is hostile: it may hold invalid UTF-8, terminal
// escapes, bidi overrides or runes no core font can draw. Control and
// invisible characters and invalid bytes become visible Go-style escapes
// (\x1b, \u202e, \xff), as in the other reports; other runes cp1252 lacks
// become '?'. Whatever the input, the PDF gets bytes it can hold.
//
// An encoder is not safe for concurrent use (fpdf's translator reuses a
// buffer); Render makes one per call.
type encoder struct {
	tr func(string) string
}

func newEncoder(f *fpdf.Fpdf) encoder {
	return encoder{tr: f.UnicodeTranslatorFromDescriptor("")}
}

// line encodes a one-line field: newlines become \n.
func (e encoder) line(s string) string { return e.encode(s, false) }

// lines encodes a multi-line field, keeping its line breaks.
func (e encoder) lines(s string) string {
	return e.encode(strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n"), true)
}

func (e encoder) encode(s string, multiline bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' && multiline:
			b.WriteByte('\n')
		case r == '\t':
			b.WriteString("  ")
		case r == '\n':
			b.WriteString(`\n`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case r < 0x80:
			b.WriteRune(r)
		case visible.Hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			c := e.tr(s[i : i+size])
			if c == "." {
				// The translator's mark for a rune cp1252 lacks.
				c = "?"
			}
			b.WriteString(c)
		}
		i += size
	}
	return b.String()
}
