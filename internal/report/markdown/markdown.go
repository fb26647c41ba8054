// Package markdown renders a scan report as GitHub-flavoured Markdown for
// pull-request comments and job summaries: the grade, the counts and the
// top findings fit on one screen, and the full list sits collapsed in a
// <details> block below.
//
// Everything that came from the target or its spec goes through Escape,
// Code or Block: a comment is rendered as HTML by the code host, so a
// hostile API must not be able to inject markup, break a table or mention
// people through the text it returns.
package markdown

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/score"
)

// Renderer writes the Markdown report. The zero value is ready to use.
type Renderer struct{}

// maxTop is how many findings the summary table shows; the rest are in the
// collapsed full list.
const maxTop = 10

// UnreachedWarning is the first line of the warning an ungraded report
// carries, for tests and CI scripts to look for.
const UnreachedWarning = "This scan proves nothing: it is NOT a clean result."

// Render writes rep as Markdown to w in a single write.
func (Renderer) Render(w io.Writer, rep *scan.Report) error {
	if rep == nil {
		return errors.New("render markdown: nil report")
	}
	var p printer
	p.report(rep)
	if _, err := w.Write(p.buf.Bytes()); err != nil {
		return fmt.Errorf("render markdown: %w", err)
	}
	return nil
}

type printer struct{ buf bytes.Buffer }

func (p *printer) printf(format string, args ...any) { fmt.Fprintf(&p.buf, format, args...) }
func (p *printer) line(s string)                     { p.buf.WriteString(s); p.buf.WriteByte('\n') }

func (p *printer) report(r *scan.Report) {
	ungraded := r.Score.Grade == score.Ungraded || !score.Conclusive(r.Coverage)
	if ungraded {
		p.line("## Merlon API security report: not graded")
		p.line("")
		p.line("> [!CAUTION]")
		p.line("> **" + UnreachedWarning + "**")
		p.line("> Why: " + Escape(score.Unproven(r)) + ".")
		p.printf("> It reached %d of %s, %d answered 2xx (%s failed at the transport level).\n",
			r.Coverage.Reached, plural(r.Coverage.Operations, "operation"), r.Coverage.Succeeded, plural(r.Coverage.TransportError, "request"))
	} else if score.Partial(r) {
		p.printf("## Merlon API security report: grade %s (partial; %d/100 at best)\n", Escape(r.Score.Grade), r.Score.Overall)
	} else {
		p.printf("## Merlon API security report: grade %s (%d/100)\n", Escape(r.Score.Grade), r.Score.Overall)
	}
	if r.Interrupted {
		p.line("")
		p.line("> [!WARNING]")
		p.line("> **The scan was interrupted** before every check finished: the findings are partial and the score is not final.")
	}
	p.line("")
	p.summary(r)
	p.line("")
	p.counts(r)
	p.top(r)
	p.details(r)
	p.checks(r)
	if len(r.Warnings) > 0 {
		p.line("")
		p.line("**Warnings**")
		p.line("")
		for _, w := range r.Warnings {
			p.line("- " + Escape(w))
		}
	}
}

func (p *printer) summary(r *scan.Report) {
	p.printf("**Target** %s", Code(r.Target, false))
	if s := r.Spec; s != nil {
		kind := "OpenAPI"
		if strings.HasPrefix(s.Version, "2") {
			kind = "Swagger"
		}
		p.printf(" · **Spec** %s (%s %s)", Code(s.Source, false), kind, Escape(s.Version))
	} else {
		p.printf(" · **Spec** none (operations discovered)")
	}
	mode := "read-only"
	if r.Active {
		mode = "active"
	}
	p.printf(" · **Profile** %s, %s\n", Escape(cmp.Or(string(r.Profile), "unknown")), mode)
	c := r.Coverage
	p.printf("**Coverage** %d of %s reached, %d answered 2xx, %s, %s\n",
		c.Reached, plural(c.Operations, "operation"), c.Succeeded,
		plural(c.Requests, "request"), plural(c.TransportError, "transport error"))
	if c.BudgetExhausted {
		p.line("**The request budget ran out**: some checks sent less than they would have.")
	}
}

func (p *printer) counts(r *scan.Report) {
	counts := r.Counts()
	sevs := scan.Severities()
	head := make([]string, len(sevs))
	cells := make([]string, len(sevs))
	for i, s := range sevs {
		head[i] = s.String()
		cells[i] = fmt.Sprint(counts[s])
		if counts[s] > 0 {
			cells[i] = "**" + cells[i] + "**"
		}
	}
	p.line("| findings | " + strings.Join(head, " | ") + " |")
	p.line("|---:|" + strings.Repeat(":---:|", len(sevs)))
	p.line(fmt.Sprintf("| %d | ", len(r.Findings)) + strings.Join(cells, " | ") + " |")
}

func (p *printer) top(r *scan.Report) {
	p.line("")
	if len(r.Findings) == 0 {
		if score.Conclusive(r.Coverage) {
			p.line("No findings.")
		} else {
			p.line("No findings, but nothing was tested.")
		}
		return
	}
	fs := scan.ByReadingOrder(r.Findings)
	title := "Top findings"
	if len(fs) <= maxTop {
		title = "Findings"
	}
	p.line("### " + title)
	p.line("")
	p.line("| severity | finding | operation | confidence |")
	p.line("|---|---|---|---|")
	for _, f := range fs[:min(len(fs), maxTop)] {
		op := "whole target"
		if f.Operation != "" {
			op = Code(f.Operation, true)
		}
		p.printf("| **%s** | %s | %s | %s |\n", f.Severity, Escape(f.Title), op, f.Confidence)
	}
	if more := len(fs) - maxTop; more > 0 {
		p.printf("\n… and %s in the full list below.\n", plural(more, "more finding"))
	}
}

func (p *printer) details(r *scan.Report) {
	if len(r.Findings) == 0 {
		return
	}
	p.line("")
	p.line("<details>")
	p.printf("<summary>All %s, with evidence and fixes</summary>\n", plural(len(r.Findings), "finding"))
	for i, f := range scan.ByReadingOrder(r.Findings) {
		p.line("")
		p.finding(i+1, f)
	}
	p.line("")
	p.line("</details>")
}

func (p *printer) finding(n int, f scan.Finding) {
	p.printf("#### %d. %s\n\n", n, Escape(f.Title))
	meta := []string{"**" + f.Severity.String() + "**", f.Confidence.String()}
	if f.CWE > 0 {
		meta = append(meta, fmt.Sprintf("[CWE-%d](https://cwe.mitre.org/data/definitions/%d.html)", f.CWE, f.CWE))
	}
	if f.Category != "" {
		meta = append(meta, strings.TrimSpace(Escape(string(f.Category))+" "+Escape(f.Category.Name())))
	}
	if f.CheckID != "" {
		meta = append(meta, "check "+Code(f.CheckID, false))
	}
	p.line(strings.Join(meta, " · "))
	p.line("")
	where := "the whole target"
	if f.Operation != "" {
		where = Code(f.Operation, false)
	}
	if f.Location != "" {
		where += ", " + Escape(f.Location)
	}
	p.line("**Where** " + where)
	if d := paragraph(f.Description); d != "" {
		p.line("")
		p.line(d)
	}
	if fix := paragraph(f.Remediation); fix != "" {
		p.line("")
		p.line("**Fix** " + fix)
	}
	var curls []string
	for _, ev := range f.Evidence {
		if ev.Curl != "" {
			if who := SentAs(ev.Request.Identity); who != "" {
				curls = append(curls, "# "+who)
			}
			curls = append(curls, ev.Curl)
		}
	}
	if len(curls) > 0 {
		p.line("")
		p.line("Reproduce (fill in redacted secrets first):")
		p.line("")
		p.buf.WriteString(Block("sh", strings.Join(curls, "\n")))
	}
}

// SentAs names the identity that sent a request, as "sent as alice" or
// "sent as anonymous (no credentials)", on one line; "" when the request
// carried only the global headers. The evidence of an authorization
// finding means little without it: the same request is a finding when bob
// sends it and the baseline when alice does.
func SentAs(id string) string {
	id = strings.Join(strings.Fields(id), " ")
	switch id {
	case "":
		return ""
	case scan.Anonymous:
		return "sent as anonymous (no credentials)"
	}
	return "sent as " + id
}

// paragraph escapes multi-line text, keeping its line breaks as <br>.
func paragraph(s string) string {
	s = strings.TrimSpace(strings.ReplaceAll(s, "\r\n", "\n"))
	if s == "" {
		return ""
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = Escape(l)
	}
	return strings.Join(lines, "<br>")
}

func (p *printer) checks(r *scan.Report) {
	by := map[string][]scan.CheckResult{}
	for _, c := range r.Checks {
		by[c.Status] = append(by[c.Status], c)
	}
	if len(r.Checks) == 0 {
		return
	}
	p.line("")
	p.printf("**Checks** %d: %d ok, %d errored, %d skipped, %d cancelled\n",
		len(r.Checks), len(by["ok"]), len(by["error"]), len(by["skipped"]), len(by["cancelled"]))
	if len(by["error"]) > 0 {
		p.line("")
		p.line("Checks that errored (what they look for was **not tested**):")
		p.line("")
		for _, c := range by["error"] {
			p.printf("- %s: %s\n", Code(c.ID, false), Escape(cmp.Or(c.Error, "unknown error")))
		}
	}
	if rest := append(slices.Clone(by["skipped"]), by["cancelled"]...); len(rest) > 0 {
		p.line("")
		for _, c := range rest {
			why := c.Status
			if c.Reason != "" {
				why += ": " + c.Reason
			}
			p.printf("- %s (%s)\n", Code(c.ID, false), Escape(why))
		}
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
