// Package mdtext splits the little Markdown that Merlon's remediation
// texts use into blocks a template renders with every string escaped. The
// HTML report and the dashboard show remediation the same way, and neither
// ever passes remediation text through as markup.
package mdtext

import (
	"strings"

	"github.com/merlonsec/merlon/internal/visible"
)

// A Block is one block of a remediation text: a paragraph, a list or a
// code fence. Remediation texts are Markdown written by Merlon's remedy
// package, but a report read back from JSON may carry anything, so the
// blocks hold plain strings and the template escapes every one of them:
// no part of a remediation ever reaches the page as markup.
type Block struct {
	Kind  string   // "p", "ul", "ol" or "pre"
	Spans []Span   // for "p"
	Items [][]Span // for "ul" and "ol"
	Code  string   // for "pre"
}

// A Span is a run of inline text: plain, `code` or **strong**.
type Span struct {
	Text   string
	Code   bool
	Strong bool
}

// Parse splits a remediation text into blocks. It knows the little
// Markdown the remediation texts use: paragraphs, "-", "*" and "1." list
// items (indented lines continue an item), ``` fences, `code` and **bold**.
// Anything else is kept as text.
func Parse(src string) []Block {
	var (
		blocks []Block
		para   []string
		items  []string
		kind   string // list kind while items is not empty
		fence  []string
		fenced bool
	)
	flushPara := func() {
		if len(para) > 0 {
			blocks = append(blocks, Block{Kind: "p", Spans: inline(strings.Join(para, " "))})
			para = nil
		}
	}
	flushList := func() {
		if len(items) > 0 {
			b := Block{Kind: kind}
			for _, it := range items {
				b.Items = append(b.Items, inline(it))
			}
			blocks = append(blocks, b)
			items = nil
		}
	}
	lines := strings.Split(strings.ReplaceAll(src, "\r\n", "\n"), "\n")
	for _, l := range lines {
		trimmed := strings.TrimSpace(l)
		if fenced {
			if strings.HasPrefix(trimmed, "```") {
				blocks = append(blocks, Block{Kind: "pre", Code: visible.Text(strings.Join(fence, "\n"))})
				fence, fenced = nil, false
				continue
			}
			fence = append(fence, l)
			continue
		}
		switch {
		case strings.HasPrefix(trimmed, "```"):
			flushPara()
			flushList()
			fenced = true
		case trimmed == "":
			flushPara()
			flushList()
		case listItem(trimmed) != "":
			flushPara()
			k, text := listKind(trimmed), listItem(trimmed)
			if len(items) > 0 && k != kind {
				flushList()
			}
			kind = k
			items = append(items, text)
		case len(items) > 0 && l != trimmed:
			// An indented line continues the last list item.
			items[len(items)-1] += " " + trimmed
		default:
			flushList()
			para = append(para, strings.TrimLeft(trimmed, "# "))
		}
	}
	if fenced {
		// An unclosed fence still shows its code.
		blocks = append(blocks, Block{Kind: "pre", Code: visible.Text(strings.Join(fence, "\n"))})
	}
	flushPara()
	flushList()
	return blocks
}

// listItem returns the text of a list item line, or "" if l is none.
func listItem(l string) string {
	if len(l) > 2 && (l[0] == '-' || l[0] == '*') && l[1] == ' ' {
		return strings.TrimSpace(l[2:])
	}
	i := 0
	for i < len(l) && l[i] >= '0' && l[i] <= '9' {
		i++
	}
	if i > 0 && i < 4 && strings.HasPrefix(l[i:], ". ") && len(l) > i+2 {
		return strings.TrimSpace(l[i+2:])
	}
	return ""
}

func listKind(l string) string {
	if l[0] == '-' || l[0] == '*' {
		return "ul"
	}
	return "ol"
}

// inline splits text into plain, `code` and **strong** spans. An unpaired
// marker is kept as text.
func inline(s string) []Span {
	var spans []Span
	add := func(sp Span) {
		if sp.Text != "" {
			sp.Text = visible.Line(sp.Text)
			spans = append(spans, sp)
		}
	}
	for s != "" {
		tick := strings.IndexByte(s, '`')
		star := strings.Index(s, "**")
		switch {
		case tick >= 0 && (star < 0 || tick < star):
			end := strings.IndexByte(s[tick+1:], '`')
			if end < 0 {
				add(Span{Text: s})
				return spans
			}
			add(Span{Text: s[:tick]})
			add(Span{Text: s[tick+1 : tick+1+end], Code: true})
			s = s[tick+2+end:]
		case star >= 0:
			end := strings.Index(s[star+2:], "**")
			if end < 0 {
				add(Span{Text: s})
				return spans
			}
			add(Span{Text: s[:star]})
			add(Span{Text: s[star+2 : star+2+end], Strong: true})
			s = s[star+4+end:]
		default:
			add(Span{Text: s})
			return spans
		}
	}
	return spans
}
