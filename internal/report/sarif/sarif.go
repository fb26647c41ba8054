// Package sarif renders a scan report as SARIF 2.1.0, the format code
// scanning services (GitHub code scanning among them) import. Each check is
// a rule and each finding a result; docs/reports.md explains how a finding
// about a running API is given a file location those services accept.
package sarif

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"unicode"

	gosarif "github.com/owenrumney/go-sarif/v2/sarif"

	"github.com/merlonsec/merlon/internal/report/markdown"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/score"
)

// Where Merlon points readers of a SARIF log.
const (
	informationURI = "https://github.com/merlonsec/merlon"
	helpURI        = "https://github.com/merlonsec/merlon/blob/main/docs/checks.md"
)

// TargetArtifact is the placeholder file results are located on when the
// report has no local spec file: code scanning services reject results
// without a physical location, and an API scanned without a spec has no
// file to point at. The target URL itself goes in a logical location.
const TargetArtifact = ".merlon/target"

// FingerprintKey names Merlon's entry in each result's partialFingerprints.
// The value is Finding.Fingerprint, which hashes the check ID, the target's
// scheme, host and port, the operation and the location, and nothing
// volatile (no timestamps, evidence, canary values or line numbers). Code
// scanning matches a result to the alert of an earlier upload by it, so an
// alert stays open, and closes when fixed, across scans and spec edits. The
// "/v1" suffix is bumped if the hash ever changes, so that old and new
// fingerprints are never compared.
const FingerprintKey = "merlon/v1"

// Renderer writes a report as SARIF 2.1.0.
type Renderer struct {
	// Checks holds the metadata of the checks Merlon knows, by which rules
	// get their title and description. A check missing from it gets them
	// from its first finding; a check with neither is described by its ID.
	Checks []scan.Meta
	// Root is the directory the uriBaseId %SRCROOT% stands for: the
	// checkout the log is uploaded from. A local spec file is located
	// relative to it. Empty means the working directory.
	Root string
}

// Render writes rep as indented SARIF. When rep.Spec.Source is a local
// file under Root, Render reads it to find each operation's line; a file it
// cannot read or parse only costs the line numbers (results then point at
// line 1). <, > and & are written as JSON escapes, so target text stays
// inert if the file is ever served as HTML.
func (r Renderer) Render(w io.Writer, rep *scan.Report) error {
	if rep == nil {
		return errors.New("render sarif: nil report")
	}
	log, err := r.build(rep)
	if err != nil {
		return fmt.Errorf("render sarif: %w", err)
	}
	var buf bytes.Buffer
	if err := log.PrettyWrite(&buf); err != nil {
		return fmt.Errorf("render sarif: %w", err)
	}
	buf.WriteByte('\n')
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("render sarif: %w", err)
	}
	return nil
}

func (r Renderer) build(rep *scan.Report) (*gosarif.Report, error) {
	log, err := gosarif.New(gosarif.Version210)
	if err != nil {
		return nil, err
	}
	driver := gosarif.NewDriver(cmp.Or(rep.Tool.Name, "merlon")).WithInformationURI(informationURI)
	if rep.Tool.Version != "" {
		driver.WithVersion(rep.Tool.Version)
	}
	run := gosarif.NewRun(*gosarif.NewTool(driver))

	rules := r.rules(rep)
	index := map[string]int{}
	for i, rl := range rules {
		index[rl.ID] = i
		driver.AddRule(rl)
	}

	loc := r.locator(rep)
	for _, f := range rep.Findings {
		run.Results = append(run.Results, result(f, index[f.CheckID], loc, rep.Target))
	}

	run.Invocations = []*gosarif.Invocation{invocation(rep)}
	props := gosarif.NewPropertyBag()
	props.Add("target", plain(rep.Target))
	props.Add("grade", rep.Score.Grade)
	if score.Partial(rep) {
		props.Add("partial", true)
	}
	props.Add("score", rep.Score.Overall)
	props.Add("profile", string(rep.Profile))
	props.Add("active", rep.Active)
	props.Add("coverage", rep.Coverage)
	run.Properties = props.Properties
	log.AddRun(run)
	return log, nil
}

// securitySeverity maps a severity to the CVSS-like 0.0–10.0 score that
// code scanning reads from a rule's "security-severity" property to label
// alerts critical (9.0+), high (7.0+), medium (4.0+) or low. Each value
// sits inside the band of the severity it stands for.
var securitySeverity = map[scan.Severity]string{
	scan.Critical: "9.5",
	scan.High:     "8.0",
	scan.Medium:   "5.5",
	scan.Low:      "3.0",
	scan.Info:     "0.0",
}

// level is the SARIF level of a severity: error for critical and high,
// warning for medium, note for low and info.
func level(s scan.Severity) string {
	switch {
	case s >= scan.High:
		return "error"
	case s == scan.Medium:
		return "warning"
	}
	return "note"
}

// precision is the SARIF precision of a confidence: how often results like
// it are true.
func precision(c scan.Confidence) string {
	switch c {
	case scan.Confirmed:
		return "very-high"
	case scan.Likely:
		return "high"
	}
	return "medium"
}

// rules builds one rule per check that ran to the end or reported a
// finding, sorted by ID.
func (r Renderer) rules(rep *scan.Report) []*gosarif.ReportingDescriptor {
	metas := map[string]scan.Meta{}
	for _, m := range r.Checks {
		metas[m.ID] = m
	}
	byCheck := map[string][]scan.Finding{}
	for _, f := range rep.Findings {
		byCheck[f.CheckID] = append(byCheck[f.CheckID], f)
	}
	ids := map[string]bool{}
	for id := range byCheck {
		ids[id] = true
	}
	for _, c := range rep.Checks {
		if c.Status == "ok" {
			ids[c.ID] = true
		}
	}
	var out []*gosarif.ReportingDescriptor
	for _, id := range slices.Sorted(maps.Keys(ids)) {
		out = append(out, rule(id, metas[id], byCheck[id]))
	}
	return out
}

func rule(id string, m scan.Meta, fs []scan.Finding) *gosarif.ReportingDescriptor {
	var first scan.Finding
	if len(fs) > 0 {
		first = fs[0]
	}
	title := plain(cmp.Or(m.Title, first.Title, id))
	desc := plain(cmp.Or(m.Description, first.Description, title))
	cwe := cmp.Or(m.CWE, first.CWE)
	cat := cmp.Or(m.Category, first.Category)
	var fix string
	for _, f := range fs {
		if f.Remediation != "" {
			fix = f.Remediation
			break
		}
	}
	// The rule's severity is the worst this scan saw, so that code
	// scanning labels the alert as Merlon rated it; without findings it is
	// the worst the check can report.
	sev := m.Severity
	if len(fs) > 0 {
		sev = fs[0].Severity
		for _, f := range fs {
			sev = max(sev, f.Severity)
		}
	}

	helpText := desc
	helpMD := markdown.Escape(desc)
	if fix != "" {
		helpText += "\n\nRemediation: " + plain(fix)
		helpMD += "\n\n**Remediation:** " + markdown.Escape(fix)
	}
	var refs, refsMD []string
	if cwe > 0 {
		link := fmt.Sprintf("https://cwe.mitre.org/data/definitions/%d.html", cwe)
		refs = append(refs, fmt.Sprintf("CWE-%d (%s)", cwe, link))
		refsMD = append(refsMD, fmt.Sprintf("[CWE-%d](%s)", cwe, link))
	}
	if cat.Valid() {
		owasp := "OWASP API Security Top 10 " + string(cat) + " " + cat.Name()
		refs = append(refs, owasp)
		refsMD = append(refsMD, owasp)
	}
	if len(refs) > 0 {
		helpText += "\n\n" + strings.Join(refs, ", ")
		helpMD += "\n\n" + strings.Join(refsMD, " · ")
	}

	tags := []string{"security"}
	if cwe > 0 {
		tags = append(tags, fmt.Sprintf("CWE-%d", cwe), fmt.Sprintf("external/cwe/cwe-%d", cwe))
	}
	if cat != "" {
		tags = append(tags, "OWASP-"+plain(string(cat)))
	}
	props := gosarif.Properties{
		"tags":              tags,
		"security-severity": securitySeverity[sev],
	}
	if len(fs) > 0 {
		// A rule's precision is a claim about all of its results, so it
		// is that of the least certain finding.
		least := fs[0].Confidence
		for _, f := range fs {
			least = min(least, f.Confidence)
		}
		props["precision"] = precision(least)
	}

	rl := gosarif.NewRule(id).
		WithName(ruleName(id)).
		WithShortDescription(gosarif.NewMultiformatMessageString(title)).
		WithFullDescription(gosarif.NewMultiformatMessageString(desc)).
		WithHelp(gosarif.NewMultiformatMessageString(helpText).WithMarkdown(helpMD)).
		WithHelpURI(helpURI).
		WithDefaultConfiguration(gosarif.NewReportingConfiguration().WithLevel(level(sev))).
		WithProperties(props)
	return rl
}

// ruleName turns "property.mass-assignment" into "PropertyMassAssignment",
// the identifier-like form SARIF asks of a rule name.
func ruleName(id string) string {
	var b strings.Builder
	up := true
	for _, r := range id {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			up = true
			continue
		}
		if up {
			r = unicode.ToUpper(r)
			up = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func result(f scan.Finding, ruleIndex int, loc *locator, target string) *gosarif.Result {
	msg := plain(f.Title)
	switch {
	case f.Operation != "" && f.Location != "":
		msg += " (" + plain(f.Operation) + ", " + plain(f.Location) + ")"
	case f.Operation != "":
		msg += " (" + plain(f.Operation) + ")"
	case f.Location != "":
		msg += " (" + plain(f.Location) + ")"
	}
	if d := plain(f.Description); d != "" {
		msg += ": " + d
	}
	if who := senders(f.Evidence); who != "" {
		msg += " " + who
	}
	res := gosarif.NewRuleResult(f.CheckID).
		WithRuleIndex(ruleIndex).
		WithLevel(level(f.Severity)).
		WithMessage(gosarif.NewTextMessage(msg)).
		WithLocations([]*gosarif.Location{loc.locate(f, target)}).
		WithPartialFingerPrints(map[string]any{FingerprintKey: f.Fingerprint})
	props := gosarif.Properties{
		"severity":   f.Severity.String(),
		"confidence": f.Confidence.String(),
	}
	if f.Operation != "" {
		props["operation"] = plain(f.Operation)
	}
	if f.Location != "" {
		props["location"] = plain(f.Location)
	}
	if f.CWE > 0 {
		props["cwe"] = fmt.Sprintf("CWE-%d", f.CWE)
	}
	if f.Category != "" {
		props["owasp"] = string(f.Category)
	}
	var curls []string
	var requests []map[string]any
	for _, ev := range f.Evidence {
		if ev.Curl != "" {
			curls = append(curls, plain(ev.Curl))
		}
		req := map[string]any{"request": plain(ev.Request.Method + " " + ev.Request.URL)}
		if ev.Request.Identity != "" {
			req["identity"] = plain(ev.Request.Identity)
		}
		if ev.Response.Status != 0 {
			req["status"] = ev.Response.Status
		}
		requests = append(requests, req)
	}
	if len(curls) > 0 {
		props["curl"] = curls
	}
	if len(requests) > 0 {
		// In the order sent, each with who sent it: "identity" is
		// "anonymous", a configured identity's name, or absent when only
		// the global -H headers went with it.
		props["requests"] = requests
	}
	res.Properties = props
	return res
}

// senders says in one sentence who sent each request of the evidence, for
// the message code scanning shows: an authorization finding means nothing
// without it. It is empty when every request carried only the global
// headers.
func senders(evs []scan.Evidence) string {
	var parts []string
	for _, ev := range evs {
		if who := markdown.SentAs(ev.Request.Identity); who != "" {
			parts = append(parts, plain(ev.Request.Method+" "+ev.Request.URL)+" "+plain(who))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "Evidence: " + strings.Join(parts, "; ") + "."
}

func invocation(rep *scan.Report) *gosarif.Invocation {
	inv := gosarif.NewInvocation().WithExecutionSuccess(!rep.Interrupted)
	if !rep.StartedAt.IsZero() {
		inv.WithStartTimeUTC(rep.StartedAt.UTC())
	}
	if !rep.FinishedAt.IsZero() {
		inv.WithEndTimeUTC(rep.FinishedAt.UTC())
	}
	var notes []*gosarif.Notification
	for _, c := range rep.Checks {
		switch c.Status {
		case "error":
			notes = append(notes, notification("error",
				"check "+plain(c.ID)+" errored, so what it looks for was not tested: "+plain(cmp.Or(c.Error, "unknown error"))))
		case "cancelled":
			notes = append(notes, notification("warning", "check "+plain(c.ID)+" was cancelled before it finished"))
		}
	}
	for _, w := range rep.Warnings {
		notes = append(notes, notification("warning", plain(w)))
	}
	inv.ToolExecutionNotifications = notes
	return inv
}

func notification(level, text string) *gosarif.Notification {
	n := gosarif.NewNotification()
	n.Level = level
	n.Message = gosarif.NewTextMessage(text)
	return n
}

// locator places findings: on the spec file when the report has a local
// one, and on TargetArtifact otherwise.
type locator struct {
	uri   string         // relative to %SRCROOT%; "" when there is no local spec
	lines map[string]int // "METHOD /path" to the line of the operation
}

func (r Renderer) locator(rep *scan.Report) *locator {
	l := &locator{}
	if rep.Spec == nil || !isLocal(rep.Spec.Source) {
		return l
	}
	path := rep.Spec.Source
	root := r.Root
	if root == "" {
		root = "."
	}
	absRoot, err1 := filepath.Abs(root)
	absPath, err2 := filepath.Abs(path)
	if err1 != nil || err2 != nil {
		return l
	}
	rel, err := filepath.Rel(absRoot, absPath)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		return l // outside the checkout: no file code scanning could show
	}
	l.uri = (&url.URL{Path: filepath.ToSlash(rel)}).String()
	if data, err := os.ReadFile(absPath); err == nil {
		l.lines = operationLines(data)
	}
	return l
}

// isLocal reports whether a spec source names a file rather than a URL.
func isLocal(src string) bool {
	if src == "" || src == "-" {
		return false
	}
	u, err := url.Parse(src)
	if err != nil {
		return true
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return false
	case "file":
		return false // rare; left to the placeholder rather than guessed
	}
	return true
}

func (l *locator) locate(f scan.Finding, target string) *gosarif.Location {
	loc := gosarif.NewLocation()
	logical := gosarif.NewLogicalLocation().WithKind("resource")
	target = plain(target)
	if op := plain(f.Operation); op != "" {
		logical.WithName(op).WithFullyQualifiedName(target + " " + op)
	} else {
		logical.WithName(target).WithFullyQualifiedName(target)
	}
	loc.WithLogicalLocations([]*gosarif.LogicalLocation{logical})

	uri, line := TargetArtifact, 1
	art := gosarif.NewArtifactLocation()
	if l.uri != "" {
		uri = l.uri
		art.WithUriBaseId("%SRCROOT%")
		if n, ok := l.lines[normalOp(f.Operation)]; ok {
			line = n
		}
	}
	art.WithUri(uri)
	loc.WithPhysicalLocation(gosarif.NewPhysicalLocation().
		WithArtifactLocation(art).
		WithRegion(gosarif.NewRegion().WithStartLine(line)))
	return loc
}

// plain makes target text safe for SARIF viewers that print it, on one
// line: control characters, bidi overrides and invalid UTF-8 become
// visible escapes (\x1b, \u202e, \xff) and line breaks become spaces.
func plain(s string) string {
	return strings.TrimSpace(shown(s))
}
