// Package pdf renders a scan report as a PDF for people who will not run
// Merlon: managers, auditors, customers. It opens with an executive summary
// (target, date, grade, score, counts), then the category scores, each
// finding with an excerpt of its evidence and its remediation, and a
// compliance mapping from OWASP API Security Top 10 (2023) categories to
// CWE, PCI DSS 4.0 and SOC 2.
//
// The PDF uses fpdf's core fonts, which hold only cp1252, so every string
// passes through an encoder that makes hostile target text printable (see
// encoder). Output is deterministic: the document dates come from the
// report, the producer is fixed, and catalogs are sorted, so the same
// report always gives the same bytes. Content streams are not compressed,
// which keeps the text searchable with plain tools.
package pdf

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"github.com/merlonsec/merlon/internal/report/markdown"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/score"
)

// Renderer writes the PDF report.
type Renderer struct{}

// Limits of the evidence excerpts: a PDF is read, not searched, and the
// JSON report keeps everything.
const (
	maxExchanges = 2   // exchanges shown per finding
	maxBodyLines = 4   // body lines shown per response
	maxLineRunes = 110 // runes per line of target text
)

// Page geometry in millimetres (A4 portrait).
const (
	margin   = 15.0
	pageW    = 210.0
	contentW = pageW - 2*margin
)

type rgb struct{ r, g, b int }

var (
	colText  = rgb{29, 35, 48}
	colMuted = rgb{91, 100, 117}
	colLine  = rgb{216, 220, 228}
	colPanel = rgb{245, 247, 250}
	colGood  = rgb{30, 125, 58}
	colFair  = rgb{183, 121, 31}
	colPoor  = rgb{192, 38, 45}
)

// Render writes rep as a PDF document to w in a single write.
func (Renderer) Render(w io.Writer, rep *scan.Report) error {
	if rep == nil {
		return errors.New("render pdf: nil report")
	}
	d := newDoc(rep)
	d.summary()
	d.categories()
	d.findings()
	d.mapping()
	var buf bytes.Buffer
	if err := d.f.Output(&buf); err != nil {
		return fmt.Errorf("render pdf: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("render pdf: %w", err)
	}
	return nil
}

type doc struct {
	f        *fpdf.Fpdf
	enc      encoder
	r        *scan.Report
	ungraded bool
}

func newDoc(r *scan.Report) *doc {
	f := fpdf.New("P", "mm", "A4", "")
	enc := newEncoder(f)
	// The document's dates are the scan's, so output is reproducible.
	when := cmp.Or(r.FinishedAt, r.StartedAt, time.Unix(0, 0)).UTC()
	f.SetCreationDate(when)
	f.SetModificationDate(when)
	f.SetProducer("Merlon", false)
	f.SetCreator(enc.line(strings.TrimSpace("Merlon "+r.Tool.Version)), false)
	f.SetTitle(enc.line("Merlon API security report: "+r.Target), false)
	f.SetCatalogSort(true)
	f.SetCompression(false)
	f.SetMargins(margin, margin, margin)
	f.SetAutoPageBreak(true, margin+5)
	f.AliasNbPages("{nb}")
	d := &doc{f: f, enc: enc, r: r, ungraded: r.Score.Grade == score.Ungraded || r.Score.Grade == "" || !score.Conclusive(r.Coverage)}
	f.SetFooterFunc(func() {
		f.SetY(-margin)
		d.font("", 8, colMuted)
		f.CellFormat(contentW/2, 5, enc.line("Merlon API security report - "+r.Target), "", 0, "L", false, 0, "")
		f.CellFormat(contentW/2, 5, fmt.Sprintf("Page %d/{nb}", f.PageNo()), "", 0, "R", false, 0, "")
	})
	f.AddPage()
	return d
}

func (d *doc) font(style string, size float64, c rgb) {
	d.f.SetFont("Helvetica", style, size)
	d.f.SetTextColor(c.r, c.g, c.b)
}

func (d *doc) mono(size float64, c rgb) {
	d.f.SetFont("Courier", "", size)
	d.f.SetTextColor(c.r, c.g, c.b)
}

// heading starts a section, on a new page when little room is left.
func (d *doc) heading(s string) {
	d.room(50)
	d.f.Ln(4)
	d.font("B", 14, colText)
	d.f.Bookmark(s, 0, -1)
	d.f.CellFormat(contentW, 8, s, "B", 1, "L", false, 0, "")
	d.f.Ln(2)
}

// room starts a new page unless h millimetres are left above the footer.
func (d *doc) room(h float64) {
	_, pageH := d.f.GetPageSize()
	if d.f.GetY()+h > pageH-margin-5 {
		d.f.AddPage()
	}
}

// para writes already encoded text as a wrapped paragraph.
func (d *doc) para(s string, h float64) {
	d.f.SetX(margin)
	d.f.MultiCell(contentW, h, s, "", "L", false)
}

// field writes a "label  value" line with the value wrapped.
func (d *doc) field(label, value string) {
	const labelW = 24.0
	d.f.SetX(margin)
	d.font("", 10, colMuted)
	d.f.CellFormat(labelW, 5.5, label, "", 0, "L", false, 0, "")
	d.font("", 10, colText)
	d.f.MultiCell(contentW-labelW, 5.5, value, "", "L", false)
}

func (d *doc) summary() {
	r, e := d.r, d.enc
	d.font("B", 20, colText)
	d.f.CellFormat(contentW, 10, "Merlon API security report", "", 1, "L", false, 0, "")
	d.f.Ln(2)
	d.field("Target", e.line(r.Target))
	if s := r.Spec; s != nil {
		kind := "OpenAPI"
		if strings.HasPrefix(s.Version, "2") {
			kind = "Swagger"
		}
		desc := strings.TrimSpace(kind + " " + s.Version)
		if s.Title != "" {
			desc += ", " + s.Title
		}
		d.field("Spec", e.line(s.Source+" ("+desc+")"))
	} else {
		d.field("Spec", "none (operations discovered)")
	}
	if !r.FinishedAt.IsZero() {
		date := r.FinishedAt.UTC().Format("2006-01-02 15:04 UTC")
		if dur := r.FinishedAt.Sub(r.StartedAt); !r.StartedAt.IsZero() && dur >= 0 {
			date += ", scan took " + dur.Round(time.Second).String()
		}
		d.field("Date", date)
	}
	active := "read-only (no state-changing requests)"
	if r.Active {
		active = "active (state-changing requests allowed)"
	}
	d.field("Profile", e.line(cmp.Or(string(r.Profile), "unknown"))+", "+active)
	if st := r.Stack.String(); st != "" {
		d.field("Stack", e.line(st))
	}
	d.field("Scanner", e.line(strings.TrimSpace(cmp.Or(r.Tool.Name, "merlon")+" "+r.Tool.Version)))

	d.heading("Executive summary")
	top := d.f.GetY()
	grade, col := e.line(r.Score.Grade), gradeColor(r.Score.Grade)
	if d.ungraded {
		grade, col = "N/A", colPoor
	}
	d.f.SetFillColor(col.r, col.g, col.b)
	d.f.Rect(margin, top, 28, 28, "F")
	d.font("B", 30, rgb{255, 255, 255})
	if len(grade) > 2 {
		d.font("B", 16, rgb{255, 255, 255})
	}
	d.f.SetXY(margin, top)
	d.f.CellFormat(28, 28, grade, "", 0, "C", false, 0, "")

	left := margin + 34
	d.f.SetXY(left, top+1)
	d.font("B", 14, colText)
	if d.ungraded {
		d.f.CellFormat(contentW-34, 8, "Grade N/A: not graded, the scan proves nothing about this API", "", 2, "L", false, 0, "")
	} else {
		label := fmt.Sprintf("Grade %s, score %d/100", grade, r.Score.Overall)
		if score.Partial(r) {
			label = fmt.Sprintf("Grade %s (partial), score %d/100 at best", grade, r.Score.Overall)
		}
		d.f.CellFormat(contentW-34, 8, label, "", 2, "L", false, 0, "")
	}
	d.font("", 10, colText)
	counts := r.Counts()
	parts := make([]string, 0, 5)
	for _, s := range scan.Severities() {
		parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
	}
	d.f.CellFormat(contentW-34, 6, fmt.Sprintf("%s: %s", plural(len(r.Findings), "finding"), strings.Join(parts, ", ")), "", 2, "L", false, 0, "")
	c := r.Coverage
	d.f.MultiCell(contentW-34, 5, fmt.Sprintf("Coverage: %s parsed, %d reached, %d answered 2xx; %s sent, %s.",
		plural(c.Operations, "operation"), c.Reached, c.Succeeded, plural(c.Requests, "request"),
		plural(c.TransportError, "transport error")), "", "L", false)
	d.f.SetY(max(d.f.GetY(), top+28) + 3)

	if d.ungraded {
		d.alert(colPoor, "WARNING: this scan proves nothing - it is NOT a clean result: "+e.line(score.Unproven(r))+".")
	}
	if r.Interrupted {
		d.alert(colFair, "INTERRUPTED: the scan stopped before every check finished; the findings are partial and the score is not final.")
	}
	if c.BudgetExhausted {
		d.alert(colFair, "The request budget ran out: some checks sent less than they would have.")
	}
	if errs := erroredChecks(r.Checks); len(errs) > 0 {
		d.alert(colFair, e.line(fmt.Sprintf("%s errored, so what %s for was not tested: %s.",
			plural(len(errs), "check"), pick(len(errs) == 1, "it looks", "they look"), strings.Join(errs, ", "))))
	}
	if len(r.Findings) > 0 {
		d.font("B", 10, colText)
		d.para("Fix first:", 6)
		d.font("", 10, colText)
		for i, f := range scan.ByReadingOrder(r.Findings) {
			if i == 3 {
				break
			}
			d.para(e.line(fmt.Sprintf("%d. %s (%s, %s)", i+1, f.Title, f.Severity, f.Confidence)), 5)
		}
	}
	for _, w := range r.Warnings {
		d.font("", 9, colMuted)
		d.para(e.line("Warning: "+w), 4.5)
	}
}

// alert writes a boxed notice in colour c.
func (d *doc) alert(c rgb, s string) {
	d.f.Ln(1)
	d.font("B", 10, c)
	d.f.SetDrawColor(c.r, c.g, c.b)
	d.f.SetX(margin)
	d.f.MultiCell(contentW, 5.5, s, "1", "L", false)
	d.f.SetDrawColor(colLine.r, colLine.g, colLine.b)
	d.f.Ln(1)
}

func (d *doc) categories() {
	d.heading("Category scores (OWASP API Security Top 10, 2023)")
	if d.ungraded {
		d.font("", 10, colText)
		d.para("None: an ungraded scan has no scores.", 6)
		return
	}
	widths := []float64{24, 86, 16, 40, 14}
	d.tableHead(widths, []string{"Category", "Name", "Score", "", "Findings"})
	for _, c := range d.r.Score.Categories {
		d.room(7)
		y := d.f.GetY()
		d.font("", 9.5, colText)
		d.f.SetX(margin)
		d.f.CellFormat(widths[0], 7, d.enc.line(string(c.Category)), "B", 0, "L", false, 0, "")
		d.f.CellFormat(widths[1], 7, d.enc.line(cmp.Or(c.Name, c.Category.Name())), "B", 0, "L", false, 0, "")
		d.f.CellFormat(widths[2], 7, fmt.Sprint(c.Score), "B", 0, "R", false, 0, "")
		x := d.f.GetX()
		d.f.CellFormat(widths[3], 7, "", "B", 0, "L", false, 0, "")
		d.f.CellFormat(widths[4], 7, fmt.Sprint(c.Findings), "B", 1, "R", false, 0, "")
		// The bar: grey track, coloured fill in proportion to the score.
		barW := widths[3] - 6
		d.f.SetFillColor(colLine.r, colLine.g, colLine.b)
		d.f.Rect(x+3, y+2.5, barW, 2.5, "F")
		col := scoreColor(c.Score)
		d.f.SetFillColor(col.r, col.g, col.b)
		if n := min(max(c.Score, 0), 100); n > 0 {
			d.f.Rect(x+3, y+2.5, barW*float64(n)/100, 2.5, "F")
		}
	}
}

func (d *doc) tableHead(widths []float64, names []string) {
	d.font("B", 9.5, colMuted)
	d.f.SetDrawColor(colLine.r, colLine.g, colLine.b)
	d.f.SetX(margin)
	for i, n := range names {
		align := "L"
		if i > 0 && (n == "Score" || n == "Findings") {
			align = "R"
		}
		ln := 0
		if i == len(names)-1 {
			ln = 1
		}
		d.f.CellFormat(widths[i], 7, n, "B", ln, align, false, 0, "")
	}
}

func (d *doc) findings() {
	d.heading("Findings")
	if len(d.r.Findings) == 0 {
		d.font("", 10, colText)
		if d.ungraded {
			d.para("No findings, but nothing was tested.", 6)
		} else {
			d.para("No findings.", 6)
		}
		return
	}
	for i, f := range scan.ByReadingOrder(d.r.Findings) {
		d.finding(i+1, f)
	}
}

func (d *doc) finding(n int, f scan.Finding) {
	e := d.enc
	d.room(40)
	d.f.Ln(2)
	col := sevColor(f.Severity)
	d.f.SetFillColor(col.r, col.g, col.b)
	d.font("B", 8.5, rgb{255, 255, 255})
	d.f.SetX(margin)
	label := strings.ToUpper(f.Severity.String())
	d.f.CellFormat(d.f.GetStringWidth(label)+4, 6, label, "", 0, "C", true, 0, "")
	d.font("B", 11.5, colText)
	d.f.CellFormat(2, 6, "", "", 0, "L", false, 0, "")
	title := e.line(fmt.Sprintf("[%d] %s", n, f.Title))
	d.f.Bookmark(title, 1, -1)
	d.f.MultiCell(contentW-d.f.GetStringWidth(label)-6, 6, title, "", "L", false)

	meta := []string{"Confidence: " + f.Confidence.String()}
	if f.CWE > 0 {
		meta = append(meta, fmt.Sprintf("CWE-%d", f.CWE))
	}
	if f.Category != "" {
		meta = append(meta, strings.TrimSpace(e.line(string(f.Category))+" "+f.Category.Name()))
	}
	d.font("", 9, colMuted)
	d.para(strings.Join(meta, "  |  "), 5)
	if ctl, ok := compliance(f.Category); ok {
		d.para("PCI DSS 4.0: "+ctl.PCI+"  |  SOC 2: "+ctl.SOC2, 4.5)
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
	if f.CheckID != "" {
		d.para(e.line("Check "+f.CheckID+", at "+where), 4.5)
	} else {
		d.para(e.line("At "+where), 4.5)
	}
	if desc := e.lines(f.Description); desc != "" {
		d.f.Ln(1)
		d.font("", 10, colText)
		d.para(desc, 5)
	}
	d.evidence(f.Evidence)
	if f.Remediation != "" {
		d.f.Ln(1.5)
		d.font("B", 10, colGood)
		d.para("Remediation", 5.5)
		d.remediation(f.Remediation)
	}
	d.f.Ln(2)
	d.f.SetDrawColor(colLine.r, colLine.g, colLine.b)
	d.f.Line(margin, d.f.GetY(), margin+contentW, d.f.GetY())
}

func (d *doc) evidence(evs []scan.Evidence) {
	e := d.enc
	for i, ev := range evs {
		if i == maxExchanges {
			d.font("", 8.5, colMuted)
			d.para(fmt.Sprintf("... and %s; the JSON and HTML reports show all.", plural(len(evs)-maxExchanges, "more exchange")), 4.5)
			break
		}
		var lines []string
		req, resp := ev.Request, ev.Response
		lines = append(lines, cut(e.line("> "+req.Method+" "+req.URL)))
		if resp.Status == 0 {
			lines = append(lines, "< (no response)")
		} else {
			lines = append(lines, strings.TrimSpace(fmt.Sprintf("< %d %s", resp.Status, http.StatusText(resp.Status))))
		}
		if body := e.lines(resp.Body); body != "" {
			bl := strings.Split(body, "\n")
			for j, l := range bl {
				if j == maxBodyLines {
					lines = append(lines, "<   ... "+plural(len(bl)-maxBodyLines, "more line"))
					break
				}
				lines = append(lines, cut("<   "+l))
			}
		}
		if ev.Matched != "" {
			lines = append(lines, cut(e.line("matched: "+ev.Matched)))
		}
		title := fmt.Sprintf("Evidence %d/%d", i+1, len(evs))
		if who := markdown.SentAs(req.Identity); who != "" {
			title += ", " + e.line(who)
		}
		if ev.Note != "" {
			title += ": " + e.line(ev.Note)
		}
		d.room(8 + 3.8*float64(len(lines)))
		d.f.Ln(1)
		d.font("I", 8.5, colMuted)
		d.para(title, 4.5)
		d.mono(7.5, colText)
		d.f.SetFillColor(colPanel.r, colPanel.g, colPanel.b)
		d.f.SetX(margin)
		d.f.MultiCell(contentW, 3.8, strings.Join(lines, "\n"), "", "L", true)
	}
}

// remediation writes Merlon's Markdown remediation text: code fences in a
// monospaced box, list items with a dash, other lines as paragraphs, with
// the inline markers (` and **) dropped.
func (d *doc) remediation(md string) {
	e := d.enc
	var fence []string
	fenced := false
	var para []string
	flush := func() {
		if len(para) > 0 {
			d.font("", 9.5, colText)
			d.para(e.line(strings.Join(para, " ")), 4.8)
			para = nil
		}
	}
	for _, l := range strings.Split(strings.ReplaceAll(md, "\r\n", "\n"), "\n") {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "```") {
			if fenced {
				d.mono(7.5, colText)
				d.f.SetFillColor(colPanel.r, colPanel.g, colPanel.b)
				d.f.SetX(margin)
				d.f.MultiCell(contentW, 3.8, e.lines(strings.Join(fence, "\n")), "", "L", true)
				d.f.Ln(1)
				fence = nil
			} else {
				flush()
			}
			fenced = !fenced
			continue
		}
		switch {
		case fenced:
			fence = append(fence, l)
		case t == "":
			flush()
		case strings.HasPrefix(t, "- ") || strings.HasPrefix(t, "* "):
			flush()
			para = append(para, "- "+plainMD(t[2:]))
		default:
			inItem := len(para) > 0 && strings.HasPrefix(para[0], "- ")
			if inItem && l == t {
				// Unindented prose after a list item starts a new
				// paragraph; an indented line continues the item.
				flush()
			}
			para = append(para, plainMD(strings.TrimLeft(t, "# ")))
		}
	}
	if fenced && len(fence) > 0 {
		d.mono(7.5, colText)
		d.f.SetX(margin)
		d.f.MultiCell(contentW, 3.8, e.lines(strings.Join(fence, "\n")), "", "L", true)
	}
	flush()
}

// plainMD drops inline Markdown markers.
func plainMD(s string) string {
	return strings.NewReplacer("**", "", "`", "").Replace(s)
}

func (d *doc) mapping() {
	d.heading("Compliance mapping")
	d.font("", 9, colMuted)
	d.para("Each OWASP API Security Top 10 (2023) category, the CWEs this scan found in it, and the PCI DSS 4.0 "+
		"requirements and SOC 2 Trust Services Criteria a weakness of that kind bears on. The mapping is guidance "+
		"for an assessment, not an attestation of compliance.", 4.5)
	d.f.Ln(2)
	cwes := map[scan.Category][]int{}
	for _, f := range d.r.Findings {
		if f.CWE > 0 && !slices.Contains(cwes[f.Category], f.CWE) {
			cwes[f.Category] = append(cwes[f.Category], f.CWE)
		}
	}
	widths := []float64{44, 22, 16, 58, 40}
	head := []string{"OWASP category", "CWE (found)", "Findings", "PCI DSS 4.0", "SOC 2"}
	d.tableHead(widths, head)
	found := map[scan.Category]int{}
	for _, f := range d.r.Findings {
		found[f.Category]++
	}
	for _, c := range scan.Categories() {
		ctl, _ := compliance(c)
		ids := slices.Sorted(slices.Values(cwes[c]))
		cw := "-"
		if len(ids) > 0 {
			names := make([]string, len(ids))
			for i, id := range ids {
				names[i] = fmt.Sprintf("CWE-%d", id)
			}
			cw = strings.Join(names, ", ")
		}
		style := ""
		if found[c] > 0 {
			style = "B"
		}
		d.row(widths, style, []string{string(c) + " " + c.Name(), cw, fmt.Sprint(found[c]), ctl.PCI, ctl.SOC2})
	}
}

// row writes one table row whose cells wrap, all as tall as the tallest.
func (d *doc) row(widths []float64, style string, cells []string) {
	const lineH = 4.3
	d.font(style, 8.5, colText)
	n := 1
	for i, c := range cells {
		n = max(n, len(d.f.SplitLines([]byte(c), widths[i]-2)))
	}
	h := float64(n)*lineH + 2
	d.room(h)
	x, y := margin, d.f.GetY()
	for i, c := range cells {
		d.f.SetXY(x+1, y+1)
		align := "L"
		if i == 2 {
			align = "R"
		}
		d.f.MultiCell(widths[i]-2, lineH, c, "", align, false)
		x += widths[i]
	}
	d.f.SetDrawColor(colLine.r, colLine.g, colLine.b)
	d.f.Line(margin, y+h, margin+contentW, y+h)
	d.f.SetXY(margin, y+h)
}

func erroredChecks(cs []scan.CheckResult) []string {
	var out []string
	for _, c := range cs {
		if c.Status == "error" {
			out = append(out, c.ID)
		}
	}
	return out
}

// cut shortens an encoded line to maxLineRunes bytes (encoded text is one
// byte per character).
func cut(s string) string {
	if len(s) <= maxLineRunes {
		return s
	}
	return s[:maxLineRunes-3] + "..."
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

func pick(cond bool, a, b string) string {
	if cond {
		return a
	}
	return b
}

func sevColor(s scan.Severity) rgb {
	switch s {
	case scan.Critical:
		return rgb{123, 31, 162}
	case scan.High:
		return colPoor
	case scan.Medium:
		return colFair
	case scan.Low:
		return rgb{31, 111, 178}
	}
	return colMuted
}

func gradeColor(g string) rgb {
	switch g {
	case "A", "B":
		return colGood
	case "C":
		return colFair
	}
	return colPoor
}

func scoreColor(n int) rgb {
	switch {
	case n >= 80:
		return colGood
	case n >= 70:
		return colFair
	}
	return colPoor
}
