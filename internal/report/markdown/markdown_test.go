package markdown_test

import (
	"bytes"
	"flag"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/report/markdown"
	"github.com/merlonsec/merlon/internal/report/reporttest"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/score"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func render(t *testing.T, rep *scan.Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := (markdown.Renderer{}).Render(&buf, rep); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return buf.String()
}

func TestGolden(t *testing.T) {
	for name, rep := range map[string]func() *scan.Report{
		"fixture":   reporttest.Fixture,
		"unreached": reporttest.Unreached,
	} {
		t.Run(name, func(t *testing.T) {
			got := render(t, rep())
			reporttest.Golden(t, filepath.Join("testdata", name+".golden"), []byte(got), *update)
		})
	}
}

func TestFixtureContent(t *testing.T) {
	out := render(t, reporttest.Fixture())
	for _, want := range []string{
		"## Merlon API security report: grade F (50/100)",
		"| 6 | **1** | **1** | **1** | **2** | **1** |",
		"| **critical** | Mass assignment of isAdmin | `PATCH /users/{id}` | possible |",
		"| **high** | Another user's order is readable | `GET /orders/{id}` | confirmed |",
		"| **low** | Security headers missing | whole target | confirmed |",
		"<details>",
		"<summary>All 6 findings, with evidence and fixes</summary>",
		"[CWE-639](https://cwe.mitre.org/data/definitions/639.html)",
		"curl -X GET 'https://api.shop.test/v1/orders/7' -H 'Authorization: Bearer [REDACTED:bob]'",
		"**Fix** Check that the caller owns the object",
		"- `input.sqli`: parse response of GET /v1/search: invalid character '\\\\x1b\\[2J",
		"**Checks** 9: 6 ok, 1 errored, 1 skipped, 1 cancelled",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, markdown.UnreachedWarning) {
		t.Errorf("a graded report carries the unreached warning")
	}
	// The critical finding comes first in the table and in the full list.
	if i, j := strings.Index(out, "Mass assignment"), strings.Index(out, "Security headers"); i > j {
		t.Errorf("critical finding listed after a low one")
	}
	if i, j := strings.Index(out, "#### 1. Mass assignment of isAdmin"), strings.Index(out, "#### 6. Deprecated"); i < 0 || j < i {
		t.Errorf("full list is not numbered most severe first")
	}
}

func TestUnreachedIsProminent(t *testing.T) {
	out := render(t, reporttest.Unreached())
	head, _, _ := strings.Cut(out, "**Target**")
	for _, want := range []string{"not graded", "> [!CAUTION]", markdown.UnreachedWarning, "It reached 0 of 14 operations"} {
		if !strings.Contains(head, want) {
			t.Errorf("the report's head lacks %q:\n%s", want, head)
		}
	}
	if strings.Contains(out, "No findings.\n") {
		t.Errorf("an unreached scan says \"No findings.\" as if clean")
	}
	if !strings.Contains(out, "No findings, but nothing was tested.") {
		t.Errorf("an unreached scan does not say nothing was tested")
	}
	if strings.Contains(out, "grade N/A (0/100)") || strings.Contains(out, "/100") {
		t.Errorf("an ungraded report shows a score")
	}
}

func TestInterrupted(t *testing.T) {
	rep := reporttest.Fixture()
	rep.Interrupted = true
	if out := render(t, rep); !strings.Contains(out, "**The scan was interrupted**") {
		t.Errorf("an interrupted report does not say so")
	}
}

func TestTopIsCapped(t *testing.T) {
	rep := reporttest.Fixture()
	base := rep.Findings[0]
	for i := range 14 {
		f := base
		f.Title = fmt.Sprintf("extra %02d", i)
		rep.Findings = append(rep.Findings, f)
	}
	out := render(t, rep)
	table, _, _ := strings.Cut(out, "<details>")
	if got := strings.Count(table, "\n| **"); got != 10 {
		t.Errorf("top table has %d rows, want 10", got)
	}
	if !strings.Contains(table, "… and 10 more findings in the full list below.") {
		t.Errorf("the summary does not point to the rest")
	}
	if !strings.Contains(out, "<summary>All 20 findings") || !strings.Contains(out, "#### 20. ") {
		t.Errorf("the full list does not hold all 20 findings")
	}
}

// TestHostileTargetText plants markup, table breakers and mentions in every
// target-controlled field and checks that none survives raw outside the
// code spans that show operations as typed.
func TestHostileTargetText(t *testing.T) {
	rep := reporttest.Fixture()
	const evil = "x | y\n<b>bold</b> @octocat #12 `tick` [link](javascript:alert(1)) ![i](http://e/i.png)"
	const evilOp = "GET /a|b/<b>x</b>/@octocat"
	for i := range rep.Findings {
		f := &rep.Findings[i]
		f.Title += evil
		f.Operation = evilOp
		f.Location += evil
		f.Description = "- " + evil + "\n1. " + evil
	}
	rep.Warnings = append(rep.Warnings, evil+reporttest.HostileHTML)
	out := render(t, rep)
	for _, span := range []string{markdown.Code(evilOp, true), markdown.Code(evilOp, false)} {
		if !strings.Contains(out, span) {
			t.Errorf("output does not show the operation as the code span %s", span)
		}
	}
	prose := strings.ReplaceAll(strings.ReplaceAll(out, markdown.Code(evilOp, true), ""), markdown.Code(evilOp, false), "")
	for _, bad := range []string{"<script", "<img", "<b>", "@octocat", "](javascript:", "![i]", " `tick`",
		reporttest.HostileANSI, "\x1b", "\u202e", "\u009b", "\xff"} {
		if strings.Contains(prose, bad) {
			t.Errorf("output carries %q raw", bad)
		}
	}
	// A description cannot open a list of its own.
	for _, want := range []string{"\n\\- x \\| y<br>", "<br>1\\. x \\| y<br>"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks the escaped description line %q", want)
		}
	}
	// Every table row keeps its four cells: no | from the target splits one.
	_, table, _ := strings.Cut(out, "| severity | finding | operation | confidence |\n|---|---|---|---|\n")
	table, _, _ = strings.Cut(table, "\n\n")
	for _, row := range strings.Split(table, "\n") {
		if cells := splitCells(row); cells != 5 {
			t.Errorf("table row has %d cell separators, want 5: %s", cells, row)
		}
	}
}

// splitCells counts the cell separators of a GitHub table row: pipes not
// preceded by a backslash.
func splitCells(row string) int {
	n := 0
	for i := range len(row) {
		if i > 0 && row[i-1] == '\\' {
			continue
		}
		if row[i] == '|' {
			n++
		}
	}
	return n
}

func TestEscape(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "Mass assignment of isAdmin", "Mass assignment of isAdmin"},
		{"html", "<script>x</script>", "&lt;script&gt;x&lt;/script&gt;"},
		{"pipe", "a|b", `a\|b`},
		{"newline", "a\r\nb\nc", "a b c"},
		{"emphasis and links", "*a* _b_ [c](d)", `\*a\* \_b\_ \[c\]\(d\)`},
		{"mention", "@team", "@&#8203;team"},
		{"ampersand", "a&amp;", "a&amp;amp;"},
		{"list start", "- 1. # h", `\- 1. \# h`},
		{"ordered list start", "  12. x-y", `  12\. x-y`},
		{"mid-text punctuation", "max-age=1. a+b", "max-age=1. a+b"},
		{"ansi", "\x1b[31m", `\\x1b\[31m`},
		{"invalid utf8", "\xff", `\\xff`},
		{"bidi", "a\u202eb", `a\\u202eb`},
		{"unicode kept", "café ✓", "café ✓"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := markdown.Escape(tt.in); got != tt.want {
				t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestCode(t *testing.T) {
	tests := []struct {
		in   string
		cell bool
		want string
	}{
		{"GET /users/{id}", false, "`GET /users/{id}`"},
		{"a|b", true, "`a\\|b`"},
		{"a|b", false, "`a|b`"},
		{"a`b", false, "``a`b``"},
		{"`a", false, "`` `a ``"},
		{"<b>", false, "`<b>`"},
		{"a\nb\x1b", false, "`a b\\x1b`"},
		{"", false, ""},
	}
	for _, tt := range tests {
		if got := markdown.Code(tt.in, tt.cell); got != tt.want {
			t.Errorf("Code(%q, %v) = %q, want %q", tt.in, tt.cell, got, tt.want)
		}
	}
}

func TestBlockFenceCannotBeClosed(t *testing.T) {
	got := markdown.Block("sh", "echo ```\nrm -rf /\n````")
	if !strings.HasPrefix(got, "`````sh\n") || !strings.HasSuffix(got, "\n`````\n") {
		t.Errorf("Block fence is not longer than the target's backticks:\n%s", got)
	}
}

func TestEmptyReport(t *testing.T) {
	out := render(t, &scan.Report{Score: scan.Score{Grade: score.Ungraded}})
	if !strings.Contains(out, markdown.UnreachedWarning) {
		t.Errorf("an empty report is not flagged as proving nothing:\n%s", out)
	}
}

func TestNil(t *testing.T) {
	if err := (markdown.Renderer{}).Render(&bytes.Buffer{}, nil); err == nil {
		t.Errorf("Render(nil) = nil, want an error")
	}
}

// TestEvidenceIdentity: each reproduced request is preceded by the
// identity that sent it; one sent with only the global headers is not.
func TestEvidenceIdentity(t *testing.T) {
	out := render(t, reporttest.Fixture())
	for _, want := range []string{
		"# sent as alice\ncurl -X GET 'https://api.shop.test/v1/orders/7' -H 'Authorization: Bearer [REDACTED:alice]'\n" +
			"# sent as bob\ncurl -X GET 'https://api.shop.test/v1/orders/7' -H 'Authorization: Bearer [REDACTED:bob]'\n",
		"# sent as anonymous (no credentials)\ncurl -X GET 'https://api.shop.test/v1/products/%27'",
		"```sh\ncurl -X PATCH 'https://api.shop.test/v1/users/41'",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestSentAs(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{scan.Anonymous, "sent as anonymous (no credentials)"},
		{"alice", "sent as alice"},
		{"ad\nmin", "sent as ad min"},
	}
	for _, tt := range tests {
		if got := markdown.SentAs(tt.in); got != tt.want {
			t.Errorf("SentAs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestBannerSaysWhy: a scan whose every operation answered, none with
// 2xx, is not graded, and the banner gives that cause, not "reached
// nothing"; a budget-cut scan's grade is marked partial.
func TestBannerSaysWhy(t *testing.T) {
	rep := reporttest.Fixture()
	rep.Coverage.Reached, rep.Coverage.Succeeded = rep.Coverage.Operations, 0
	rep.Score.Grade = "N/A"
	out := render(t, rep)
	if !strings.Contains(out, "Why: none of the") || !strings.Contains(out, "answered 2xx") {
		t.Errorf("banner does not say no operation answered 2xx:\n%.600s", out)
	}
	rep = reporttest.Fixture()
	rep.Coverage.BudgetExhausted = true
	if out := render(t, rep); !strings.Contains(out, "(partial; ") {
		t.Errorf("a budget-cut report's heading is not marked partial:\n%.200s", out)
	}
}
