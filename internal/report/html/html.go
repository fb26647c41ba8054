// Package html renders a scan report as one self-contained HTML page: the
// grade and what to fix first, then every finding with its evidence, for
// people who read reports in a browser or attach them to a ticket.
//
// The page is built with html/template and needs nothing else: the CSS is
// inline, there is no script and no external asset, and a
// Content-Security-Policy meta tag forbids loading or running anything.
// Everything from the target (bodies, headers, URLs) and every string of a
// report read back from JSON is escaped by the template; control and bidi
// characters are shown as visible escapes first (see visible). Nothing is
// ever passed to the template as trusted HTML.
package html

import (
	"bytes"
	"cmp"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/mdtext"
	mdreport "github.com/merlonsec/merlon/internal/report/markdown"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/score"
	"github.com/merlonsec/merlon/internal/visible"
)

// Renderer writes the HTML report. It has no options: the page always
// holds every finding and every exchange; <details> elements let the
// reader fold them.
type Renderer struct{}

//go:embed report.html.tmpl
var pageSource string

// page is parsed once; a template error fails every test and the first
// render, never a user's scan halfway through.
var page = template.Must(template.New("report").Parse(pageSource))

// Render writes rep as one HTML document to w in a single write.
func (Renderer) Render(w io.Writer, rep *scan.Report) error {
	if rep == nil {
		return errors.New("render html: nil report")
	}
	var buf bytes.Buffer
	if err := page.Execute(&buf, build(rep)); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("render html: %w", err)
	}
	return nil
}

// view is what the template reads. Every string in it is plain text that
// the template escapes; class names come from fixed lists, never from the
// report.
type view struct {
	Tool        string
	Target      string
	Spec        string
	Profile     string
	Active      string
	Started     string
	Took        string
	Stack       string
	Signals     []string
	Graded      bool
	Grade       string
	GradeClass  string
	Score       int
	Interrupted bool
	// Partial marks a grade that stands on a scan cut short: an upper
	// bound, not a verdict.
	Partial bool
	// Unproven says why an ungraded report proves nothing.
	Unproven   string
	Total      int
	Counts     []count
	Categories []category
	Coverage   scan.Coverage
	Groups     []group
	Checks     checks
	Warnings   []string
}

type count struct {
	Name  string
	N     int
	Class string
}

type category struct {
	ID       string
	Name     string
	Score    int
	Findings int
	Class    string
}

type group struct {
	Name     string
	Class    string
	Findings []finding
}

type finding struct {
	Anchor      string
	N           int
	Title       string
	Severity    string
	Class       string
	Confidence  string
	CWE         int
	Category    string
	CheckID     string
	Where       string
	Description string
	Evidence    []evidence
	Remediation []mdtext.Block
}

type evidence struct {
	Title string
	// Identity is who sent the request, as "as alice" or "as anonymous
	// (no credentials)"; empty when only the global headers were sent.
	Identity    string
	Request     string
	ReqHeaders  []string
	ReqBody     string
	Status      string
	Duration    string
	RespHeaders []string
	RespBody    string
	Truncated   bool
	Matched     string
	Curl        string
}

type checks struct {
	Total, OK int
	Errored   []checkRow
	Other     []checkRow
}

type checkRow struct {
	ID     string
	Status string
	Why    string
}

func build(r *scan.Report) view {
	graded := r.Score.Grade != score.Ungraded && r.Score.Grade != "" && score.Conclusive(r.Coverage)
	v := view{
		Tool:        visible.Line(strings.TrimSpace(cmp.Or(r.Tool.Name, "merlon") + " " + r.Tool.Version)),
		Target:      visible.Line(r.Target),
		Profile:     cmp.Or(visible.Line(string(r.Profile)), "unknown"),
		Active:      "no (read-only: no state-changing requests)",
		Stack:       visible.Line(r.Stack.String()),
		Graded:      graded,
		Grade:       visible.Line(r.Score.Grade),
		GradeClass:  gradeClass(r.Score.Grade),
		Score:       clamp(r.Score.Overall),
		Interrupted: r.Interrupted,
		Partial:     graded && score.Partial(r),
		Unproven:    visible.Line(score.Unproven(r)),
		Total:       len(r.Findings),
		Coverage:    r.Coverage,
	}
	if r.Active {
		v.Active = "yes (state-changing requests allowed)"
	}
	if s := r.Spec; s != nil {
		kind := "OpenAPI"
		if strings.HasPrefix(s.Version, "2") {
			kind = "Swagger"
		}
		desc := strings.TrimSpace(kind + " " + s.Version)
		if s.Title != "" {
			desc += ", " + s.Title
		}
		v.Spec = visible.Line(s.Source + " (" + desc + ")")
	} else {
		v.Spec = "none (operations discovered)"
	}
	if !r.StartedAt.IsZero() {
		v.Started = r.StartedAt.UTC().Format("2006-01-02 15:04:05 UTC")
		if d := r.FinishedAt.Sub(r.StartedAt); !r.FinishedAt.IsZero() && d >= 0 {
			v.Took = d.Round(time.Millisecond).String()
		}
	}
	for _, s := range r.Stack.Signals {
		v.Signals = append(v.Signals, visible.Line(s))
	}
	counts := r.Counts()
	for _, s := range scan.Severities() {
		v.Counts = append(v.Counts, count{Name: s.String(), N: counts[s], Class: sevClass(s)})
	}
	if graded {
		for _, c := range r.Score.Categories {
			v.Categories = append(v.Categories, category{
				ID:       visible.Line(string(c.Category)),
				Name:     visible.Line(cmp.Or(c.Name, c.Category.Name())),
				Score:    clamp(c.Score),
				Findings: c.Findings,
				Class:    scoreClass(c.Score),
			})
		}
	}
	n := 0
	for _, f := range scan.ByReadingOrder(r.Findings) {
		if len(v.Groups) == 0 || v.Groups[len(v.Groups)-1].Name != f.Severity.String() {
			v.Groups = append(v.Groups, group{Name: f.Severity.String(), Class: sevClass(f.Severity)})
		}
		n++
		g := &v.Groups[len(v.Groups)-1]
		g.Findings = append(g.Findings, buildFinding(n, f))
	}
	v.Checks = buildChecks(r.Checks)
	for _, w := range r.Warnings {
		v.Warnings = append(v.Warnings, visible.Line(w))
	}
	return v
}

func buildFinding(n int, f scan.Finding) finding {
	where := "the whole target"
	switch {
	case f.Operation != "" && f.Location != "":
		where = f.Operation + ", " + f.Location
	case f.Operation != "":
		where = f.Operation
	case f.Location != "":
		where = f.Location
	}
	cat := visible.Line(string(f.Category))
	if name := f.Category.Name(); name != "" {
		cat += " " + name
	}
	out := finding{
		Anchor:      fmt.Sprintf("finding-%d", n),
		N:           n,
		Title:       visible.Line(f.Title),
		Severity:    f.Severity.String(),
		Class:       sevClass(f.Severity),
		Confidence:  f.Confidence.String(),
		CWE:         f.CWE,
		Category:    cat,
		CheckID:     visible.Line(f.CheckID),
		Where:       visible.Line(where),
		Description: visible.Text(f.Description),
		Remediation: mdtext.Parse(f.Remediation),
	}
	for i, ev := range f.Evidence {
		out.Evidence = append(out.Evidence, buildEvidence(i+1, len(f.Evidence), ev))
	}
	return out
}

func buildEvidence(i, total int, ev scan.Evidence) evidence {
	req, resp := ev.Request, ev.Response
	title := fmt.Sprintf("Evidence %d/%d", i, total)
	if ev.Note != "" {
		title += ": " + visible.Line(ev.Note)
	}
	out := evidence{
		Title:       title,
		Identity:    visible.Line(mdreport.SentAs(req.Identity)),
		Request:     visible.Line(req.Method) + " " + visible.Line(req.URL),
		ReqHeaders:  headers(req.Header),
		ReqBody:     visible.Text(req.Body),
		Status:      "(no response)",
		RespHeaders: headers(resp.Header),
		RespBody:    visible.Text(resp.Body),
		Truncated:   resp.Truncated,
		Matched:     visible.Line(ev.Matched),
		Curl:        visible.Line(ev.Curl),
	}
	if resp.Status != 0 {
		out.Status = strings.TrimSpace(fmt.Sprintf("%d %s", resp.Status, http.StatusText(resp.Status)))
	}
	if resp.Duration > 0 {
		out.Duration = resp.Duration.Round(time.Millisecond).String()
	}
	return out
}

// headers lists h as "Name: value" lines, sorted by name so the same
// report always gives the same page.
func headers(h http.Header) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(h)) {
		for _, v := range h[k] {
			out = append(out, visible.Line(k)+": "+visible.Line(v))
		}
	}
	return out
}

func buildChecks(cs []scan.CheckResult) checks {
	out := checks{Total: len(cs)}
	for _, c := range cs {
		row := checkRow{ID: visible.Line(c.ID), Status: visible.Line(c.Status)}
		switch c.Status {
		case "ok":
			out.OK++
		case "error":
			row.Why = visible.Line(cmp.Or(c.Error, "unknown error"))
			out.Errored = append(out.Errored, row)
		default:
			row.Why = visible.Line(c.Reason)
			out.Other = append(out.Other, row)
		}
	}
	return out
}

func clamp(n int) int { return min(max(n, 0), 100) }

func sevClass(s scan.Severity) string {
	switch s {
	case scan.Critical:
		return "sev-critical"
	case scan.High:
		return "sev-high"
	case scan.Medium:
		return "sev-medium"
	case scan.Low:
		return "sev-low"
	}
	return "sev-info"
}

func gradeClass(g string) string {
	switch g {
	case "A", "B":
		return "good"
	case "C":
		return "fair"
	}
	return "poor"
}

func scoreClass(n int) string {
	switch {
	case n >= 80:
		return "good"
	case n >= 70:
		return "fair"
	}
	return "poor"
}
