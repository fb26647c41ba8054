package markdown

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/merlonsec/merlon/internal/visible"
)

// Escape makes text that may come from the target inert in GitHub-flavoured
// Markdown, on one line, so that it can sit in a paragraph, a list item or
// a table cell. A hostile API plants such text in its responses and its
// spec, and a report posted as a pull-request comment must neither run its
// HTML, nor break the table it sits in, nor ping people with @mentions:
//
//   - &, <, > and " become HTML entities, so no tag is ever opened;
//   - Markdown punctuation that starts emphasis, links, images, code,
//     headings or strikethrough is backslash-escaped, as is | (a table cell
//     would end there), and so are -, +, = and the "1." of an ordered list
//     when they open the text, where they would start a block;
//   - @ is followed by a zero-width space (written &#8203;), so that no
//     user or team is mentioned and notified;
//   - line breaks become spaces;
//   - control characters, bidi overrides and invalid UTF-8 are written as
//     visible escapes (\x1b, \u202e, \xff), so the reader sees that the
//     target sent them.
func Escape(s string) string {
	lead := len(s) - len(strings.TrimLeft(s, " "))
	digits := lead
	for digits < len(s) && s[digits] >= '0' && s[digits] <= '9' {
		digits++
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\\x%02x`, s[i])
		case r == '\n' || r == '\t':
			b.WriteByte(' ')
		case r == '\r':
			if !strings.HasPrefix(s[i+1:], "\n") {
				b.WriteByte(' ')
			}
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '@':
			b.WriteString("@&#8203;")
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\\x%02x`, r)
		case visible.Hidden(r):
			fmt.Fprintf(&b, `\\u%04x`, r)
		case r < utf8.RuneSelf && strings.ContainsRune("\\`*_[]()!~#|{}", r),
			i == lead && strings.ContainsRune("-+=", r),
			i == digits && i > lead && (r == '.' || r == ')'):
			// The first set starts inline constructs anywhere; the
			// second starts a list, a heading underline or an ordered
			// list only at the start of the text.
			b.WriteByte('\\')
			b.WriteRune(r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

// Code writes s as an inline code span: Markdown, HTML and mentions inside
// are shown as typed. The fence is one backtick longer than the longest run
// of backticks in s. In a table cell (cell true), | is escaped as \|, which
// GitHub's table parser removes again before it renders the span; outside a
// table the same escape would show, so it is left alone. Line breaks and
// control characters are handled as Escape handles them.
func Code(s string, cell bool) string {
	s = flatten(s)
	if cell {
		s = strings.ReplaceAll(s, "|", `\|`)
	}
	if s == "" {
		return ""
	}
	fence := strings.Repeat("`", longestRun(s, '`')+1)
	if strings.HasPrefix(s, "`") || strings.HasSuffix(s, "`") || (strings.HasPrefix(s, " ") && strings.HasSuffix(s, " ")) {
		s = " " + s + " "
	}
	return fence + s + fence
}

// Block writes s as a fenced code block, kept line by line, with a fence
// longer than any run of backticks in s so that the target cannot close it.
func Block(lang, s string) string {
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n"), "\n")
	for i, l := range lines {
		lines[i] = flatten(l)
	}
	body := strings.Join(lines, "\n")
	fence := strings.Repeat("`", max(3, longestRun(body, '`')+1))
	return fence + lang + "\n" + body + "\n" + fence + "\n"
}

// flatten writes control characters, bidi overrides and invalid UTF-8 as
// visible escapes and line breaks as spaces, leaving everything else.
func flatten(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' || r == '\t':
			b.WriteByte(' ')
		case r == '\r':
			if !strings.HasPrefix(s[i+1:], "\n") {
				b.WriteByte(' ')
			}
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

func longestRun(s string, c byte) int {
	best, n := 0, 0
	for i := 0; i < len(s); i++ {
		if s[i] == c {
			n++
			best = max(best, n)
		} else {
			n = 0
		}
	}
	return best
}
