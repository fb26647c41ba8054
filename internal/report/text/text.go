// Package text renders a scan report for people reading a terminal: the
// grade first, then what to fix, most severe first, with just enough
// evidence to believe each finding and a curl line to reproduce it.
//
// Everything that came from the target or its spec passes through clean
// before it is printed, because a hostile API could otherwise drive the
// reader's terminal with escape sequences planted in its responses.
package text

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/score"
)

// Renderer writes the text report.
type Renderer struct {
	// Color adds ANSI colour: severities in colour, the grade in bold.
	Color bool
	// Verbose shows every exchange with its headers and whole bodies;
	// otherwise each finding shows a few exchanges trimmed to a few lines.
	Verbose bool
}

// Limits of the excerpt shown without Verbose.
const (
	maxExchanges = 3   // exchanges per finding
	maxBodyLines = 4   // response body lines per exchange
	maxLineRunes = 160 // runes per line of target text
	maxCurlRunes = 600 // a longer curl line is cut; Verbose shows it whole
)

// The headline of an ungraded report, what tests and users grep for. The
// line after it says why, in score.Inconclusive's words.
const ungradedHeadline = "WARNING: this scan proves nothing — it is NOT a clean result."

// bannerWidth is where the ungraded banner's lines wrap.
const bannerWidth = 72

// SGR codes.
const (
	sgrBold    = "1"
	sgrDim     = "2"
	sgrGreen   = "32"
	sgrYellow  = "33"
	sgrCyan    = "36"
	sgrBoldRed = "1;31"
	sgrBoldYel = "1;33"
	sgrBoldGrn = "1;32"
	sgrBoldMag = "1;35"
)

// Render writes rep as text to w in a single write.
func (t *Renderer) Render(w io.Writer, rep *scan.Report) error {
	if rep == nil {
		return errors.New("render text: nil report")
	}
	p := &printer{Renderer: *t}
	p.report(rep)
	if _, err := w.Write(p.buf.Bytes()); err != nil {
		return fmt.Errorf("render text: %w", err)
	}
	return nil
}

type printer struct {
	Renderer
	buf bytes.Buffer
	// fixes maps a remediation text to the first finding that showed it, so
	// that a check with many findings prints its (often long) fix once.
	fixes map[string]int
}

func (p *printer) printf(format string, args ...any) { fmt.Fprintf(&p.buf, format, args...) }
func (p *printer) line(s string)                     { p.buf.WriteString(s); p.buf.WriteByte('\n') }

// paint wraps s in an SGR code when colour is on. s must already be clean.
func (p *printer) paint(code, s string) string {
	if !p.Color || s == "" {
		return s
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// cut trims target text to one screen line unless Verbose.
func (p *printer) cut(s string) string {
	if p.Verbose {
		return clean(s)
	}
	return trunc(clean(s), maxLineRunes)
}

func (p *printer) report(r *scan.Report) {
	why := score.Inconclusive(r.Coverage)
	if why == "" && r.Score.Grade == score.Ungraded {
		why = "the report marks the scan ungraded"
	}
	ungraded := why != ""
	partial := score.Partial(r)
	p.header(r)
	p.grade(r, ungraded, partial)
	if ungraded {
		rule := "  " + p.paint(sgrBoldRed, strings.Repeat("!", bannerWidth))
		p.line("")
		p.line(rule)
		p.line("  " + p.paint(sgrBoldRed, ungradedHeadline))
		for _, l := range wrap(upperFirst(why)+".", bannerWidth) {
			p.line("  " + p.paint(sgrBoldRed, l))
		}
		p.line(rule)
	}
	if partial {
		first := "INTERRUPTED: the scan stopped before every check finished;"
		if !r.Interrupted {
			first = "PARTIAL: the request budget ran out before every check finished;"
		}
		p.line("")
		p.line("  " + p.paint(sgrBoldYel, first))
		p.line("  " + p.paint(sgrBoldYel, "the findings are partial and the score is not final."))
	}
	p.categories(r, ungraded)
	p.findings(r, ungraded)
	p.coverage(r)
	p.checks(r.Checks)
	var warnings []string
	for _, w := range r.Warnings {
		// The banner has already said it.
		if !ungraded || !strings.Contains(w, why) {
			warnings = append(warnings, w)
		}
	}
	if len(warnings) > 0 {
		p.line("")
		p.line(p.paint(sgrBold, "Warnings"))
		for _, w := range warnings {
			p.line("  - " + p.paint(sgrYellow, p.cut(w)))
		}
	}
}

// upperFirst capitalises the first letter of an ASCII sentence.
func upperFirst(s string) string {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// wrap breaks clean text into lines of at most width runes, at spaces.
func wrap(s string, width int) []string {
	var lines []string
	var cur strings.Builder
	n := 0
	for _, w := range strings.Fields(clean(s)) {
		wn := len([]rune(w))
		if n > 0 && n+1+wn > width {
			lines = append(lines, cur.String())
			cur.Reset()
			n = 0
		}
		if n > 0 {
			cur.WriteByte(' ')
			n++
		}
		cur.WriteString(w)
		n += wn
	}
	if n > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}

func (p *printer) header(r *scan.Report) {
	tool := cmp.Or(r.Tool.Name, "merlon")
	if tool == "merlon" {
		tool = "Merlon"
	}
	p.line(p.paint(sgrBold, clean(strings.TrimSpace(tool+" "+r.Tool.Version))+" API security report"))
	p.printf("  Target    %s\n", clean(r.Target))
	if s := r.Spec; s != nil {
		kind := "OpenAPI"
		if strings.HasPrefix(s.Version, "2") {
			kind = "Swagger"
		}
		desc := strings.TrimSpace(kind + " " + s.Version)
		if s.Title != "" {
			desc += ", " + s.Title
		}
		p.printf("  Spec      %s (%s)\n", clean(s.Source), p.cut(desc))
	} else {
		p.line("  Spec      none (operations discovered)")
	}
	active := "no (read-only: no state-changing requests)"
	if r.Active {
		active = "yes (state-changing requests allowed)"
	}
	p.printf("  Profile   %s\n", cmp.Or(clean(string(r.Profile)), "unknown"))
	p.printf("  Active    %s\n", active)
	if !r.StartedAt.IsZero() {
		when := r.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC")
		if d := r.FinishedAt.Sub(r.StartedAt); !r.FinishedAt.IsZero() && d >= 0 {
			when += ", took " + d.Round(time.Millisecond).String()
		}
		p.printf("  Started   %s\n", when)
	}
	if st := r.Stack.String(); st != "" {
		p.printf("  Stack     %s\n", p.cut(st))
	}
}

func (p *printer) grade(r *scan.Report, ungraded, partial bool) {
	p.line("")
	switch {
	case ungraded:
		p.printf("  %s   not graded: the scan proves nothing about this API\n", p.paint(sgrBoldRed, "GRADE N/A"))
	case partial:
		p.printf("  %s   score %d/100 at best: the scan did not finish\n",
			p.paint(sgrBoldYel, "GRADE "+clean(r.Score.Grade)+" (partial)"), r.Score.Overall)
	default:
		p.printf("  %s   score %d/100\n", p.paint(gradeColor(r.Score.Grade), "GRADE "+clean(r.Score.Grade)), r.Score.Overall)
	}
	counts := r.Counts()
	parts := make([]string, 0, 5)
	for _, s := range scan.Severities() {
		part := fmt.Sprintf("%d %s", counts[s], s)
		if counts[s] > 0 {
			part = p.paint(sevColor(s), part)
		}
		parts = append(parts, part)
	}
	p.printf("  %s: %s\n", plural(len(r.Findings), "finding"), strings.Join(parts, ", "))
}

func (p *printer) categories(r *scan.Report, ungraded bool) {
	p.line("")
	p.line(p.paint(sgrBold, "Category scores"))
	if ungraded {
		p.line("  none: an ungraded scan has no scores")
		return
	}
	shown := 0
	for _, c := range r.Score.Categories {
		if c.Findings == 0 {
			continue
		}
		shown++
		name := c.Name
		if name == "" {
			name = c.Category.Name()
		}
		p.printf("  %-10s %3d  %s (%s)\n", clean(string(c.Category)), c.Score, clean(name), plural(c.Findings, "finding"))
	}
	switch {
	case shown == 0:
		p.line("  all categories: 100")
	case shown < len(scan.Categories()):
		p.line("  other categories: 100")
	}
}

func (p *printer) findings(r *scan.Report, ungraded bool) {
	p.line("")
	if len(r.Findings) == 0 {
		if ungraded {
			p.line(p.paint(sgrBold, "No findings") + ", but nothing was tested.")
		} else {
			p.line(p.paint(sgrBold, "No findings."))
		}
		return
	}
	p.line(p.paint(sgrBold, "Findings"))
	var current scan.Severity = -1
	for i, f := range scan.ByReadingOrder(r.Findings) {
		if f.Severity != current {
			current = f.Severity
			p.line("")
			p.line(p.paint(sevColor(f.Severity), strings.ToUpper(f.Severity.String())))
		}
		p.finding(i+1, f)
	}
}

func (p *printer) finding(n int, f scan.Finding) {
	p.line("")
	p.printf("  [%d] %s\n", n, p.paint(sgrBold, p.cut(f.Title)))
	meta := []string{p.paint(sevColor(f.Severity), f.Severity.String()) + ", " + f.Confidence.String()}
	if f.CWE > 0 {
		meta = append(meta, fmt.Sprintf("CWE-%d", f.CWE))
	}
	if f.Category != "" {
		meta = append(meta, strings.TrimSpace(clean(string(f.Category))+" "+f.Category.Name()))
	}
	p.printf("      %s\n", strings.Join(meta, " · "))
	if f.CheckID != "" {
		p.printf("      Check   %s\n", clean(f.CheckID))
	}
	where := "the whole target"
	switch {
	case f.Operation != "" && f.Location != "":
		where = f.Operation + ", " + f.Location
	case f.Operation != "":
		where = f.Operation
	case f.Location != "":
		where = f.Location
	}
	p.printf("      Where   %s\n", p.cut(where))
	if lines := cleanLines(f.Description); len(lines) > 0 {
		p.line("")
		for _, l := range lines {
			p.line("      " + l)
		}
	}
	p.evidence(f.Evidence)
	if first, ok := p.fixes[f.Remediation]; ok && f.Remediation != "" {
		p.line("")
		p.printf("      %s same as finding [%d]\n", p.paint(sgrGreen, "Fix:"), first)
		return
	}
	if lines := cleanLines(f.Remediation); len(lines) > 0 {
		if p.fixes == nil {
			p.fixes = make(map[string]int)
		}
		p.fixes[f.Remediation] = n
		p.line("")
		p.printf("      %s %s\n", p.paint(sgrGreen, "Fix:"), lines[0])
		for _, l := range lines[1:] {
			p.line("           " + l)
		}
	}
}

func (p *printer) evidence(evs []scan.Evidence) {
	shown := evs
	if !p.Verbose && len(evs) > maxExchanges {
		shown = evs[:maxExchanges]
	}
	for i, ev := range shown {
		p.line("")
		title := fmt.Sprintf("Evidence %d/%d", i+1, len(evs))
		if ev.Note != "" {
			title += ": " + p.cut(ev.Note)
		}
		p.line("      " + p.paint(sgrDim, title))
		p.exchange(ev)
	}
	if more := len(evs) - len(shown); more > 0 {
		p.printf("      … and %s; verbose output shows all\n", plural(more, "more exchange"))
	}
}

func (p *printer) exchange(ev scan.Evidence) {
	const in = "        "
	req, resp := ev.Request, ev.Response
	if req.Identity != "" {
		p.printf("%s> %s %s  (as %s)\n", in, clean(req.Method), p.cut(req.URL), clean(req.Identity))
	} else {
		p.printf("%s> %s %s\n", in, clean(req.Method), p.cut(req.URL))
	}
	if p.Verbose {
		p.headers(in+"> ", req.Header)
	}
	p.body(in+">   ", req.Body, false)
	if resp.Status == 0 {
		p.line(in + "< (no response)")
	} else {
		status := fmt.Sprintf("%d %s", resp.Status, http.StatusText(resp.Status))
		p.printf("%s< %s\n", in, strings.TrimSpace(status))
	}
	if p.Verbose {
		p.headers(in+"< ", resp.Header)
	}
	p.body(in+"<   ", resp.Body, resp.Truncated)
	if ev.Matched != "" {
		p.printf("%s%s %s\n", in, p.paint(sgrYellow, "matched:"), p.cut(ev.Matched))
	}
	if ev.Curl != "" {
		curl := clean(ev.Curl)
		if !p.Verbose {
			curl = trunc(curl, maxCurlRunes)
		}
		p.printf("%s$ %s\n", in, curl)
	}
}

func (p *printer) headers(prefix string, h http.Header) {
	for _, k := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[k] {
			p.line(prefix + clean(k) + ": " + p.cut(v))
		}
	}
}

// body prints a request or response body under prefix: the first few
// lines, or all of them when Verbose.
func (p *printer) body(prefix, body string, truncated bool) {
	lines := cleanLines(body)
	if !p.Verbose && len(lines) > maxBodyLines {
		rest := len(lines) - maxBodyLines
		lines = append(lines[:maxBodyLines:maxBodyLines], "… "+plural(rest, "more line"))
	}
	for _, l := range lines {
		if !p.Verbose {
			l = trunc(l, maxLineRunes)
		}
		p.line(prefix + l)
	}
	if truncated {
		p.line(prefix + "… (body cut at Merlon's size limit)")
	}
}

func (p *printer) coverage(r *scan.Report) {
	c := r.Coverage
	p.line("")
	p.printf("Coverage: %s parsed, %d reached, %d answered 2xx, %s (%s)\n",
		plural(c.Operations, "operation"), c.Reached, c.Succeeded,
		plural(c.Requests, "request"), plural(c.TransportError, "transport error"))
	if c.BudgetExhausted {
		p.line("  " + p.paint(sgrYellow, "The request budget ran out: some checks sent less than they would have."))
	}
}

func (p *printer) checks(cs []scan.CheckResult) {
	if len(cs) == 0 {
		return
	}
	by := map[string][]scan.CheckResult{}
	for _, c := range cs {
		by[c.Status] = append(by[c.Status], c)
	}
	p.printf("Checks: %d (%d ok, %d errored, %d skipped, %d cancelled)\n",
		len(cs), len(by["ok"]), len(by["error"]), len(by["skipped"]), len(by["cancelled"]))
	if errs := by["error"]; len(errs) > 0 {
		p.line("")
		p.line(p.paint(sgrBoldRed, "Checks that errored") + " (what they look for was not tested):")
		for _, c := range errs {
			p.printf("  - %s: %s\n", clean(c.ID), p.cut(cmp.Or(c.Error, "unknown error")))
		}
	}
	for _, st := range []string{"cancelled", "skipped"} {
		for _, c := range by[st] {
			why := st
			if c.Reason != "" {
				why += ": " + c.Reason
			}
			p.printf("  - %s %s\n", clean(c.ID), p.cut("("+why+")"))
		}
	}
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func sevColor(s scan.Severity) string {
	switch s {
	case scan.Critical:
		return sgrBoldMag
	case scan.High:
		return sgrBoldRed
	case scan.Medium:
		return sgrYellow
	case scan.Low:
		return sgrCyan
	}
	return sgrDim
}

func gradeColor(g string) string {
	switch g {
	case "A", "B":
		return sgrBoldGrn
	case "C":
		return sgrBoldYel
	}
	return sgrBoldRed
}
