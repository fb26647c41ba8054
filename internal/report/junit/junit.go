// Package junit renders a scan report as JUnit XML, the test report format
// CI systems show natively: each check is a test suite with a test case per
// operation it tested, failing where it found something and passing
// elsewhere. Findings about the whole target, and checks that test no
// operation, make one case. A CI job thus lists security findings next to
// its unit tests, without a plugin.
package junit

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/merlonsec/merlon/internal/report/markdown"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/score"
	"github.com/merlonsec/merlon/internal/visible"
)

// Renderer writes the JUnit XML report. The zero value is ready to use.
type Renderer struct{}

// Names of the test cases that are not operations.
const (
	// CaseClean is the one passing case of a check that ran, found
	// nothing, and tested no operation the report names.
	CaseClean = "no findings"
	// CaseTarget holds findings about the whole target rather than one operation.
	CaseTarget = "whole target"
	// CaseCheck holds a check's error, skip or cancellation.
	CaseCheck = "check"
	// SuiteCoverage is the suite that fails when the scan proved nothing.
	SuiteCoverage = "merlon.coverage"
)

// The XML document. Field order is attribute and element order.
type (
	suites struct {
		XMLName  xml.Name `xml:"testsuites"`
		Name     string   `xml:"name,attr"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Skipped  int      `xml:"skipped,attr"`
		Time     string   `xml:"time,attr"`
		Suites   []*suite `xml:"testsuite"`
	}
	suite struct {
		Name      string      `xml:"name,attr"`
		Tests     int         `xml:"tests,attr"`
		Failures  int         `xml:"failures,attr"`
		Errors    int         `xml:"errors,attr"`
		Skipped   int         `xml:"skipped,attr"`
		Time      string      `xml:"time,attr"`
		Timestamp string      `xml:"timestamp,attr,omitempty"`
		Cases     []*testcase `xml:"testcase"`
	}
	testcase struct {
		Name      string   `xml:"name,attr"`
		ClassName string   `xml:"classname,attr"`
		Time      string   `xml:"time,attr"`
		Failure   *outcome `xml:"failure"`
		Error     *outcome `xml:"error"`
		Skipped   *outcome `xml:"skipped"`
	}
	outcome struct {
		Message string `xml:"message,attr,omitempty"`
		Type    string `xml:"type,attr,omitempty"`
		// Body is already escaped by body: encoding/xml would write each
		// line feed as &#xA;, which leaves the text unreadable in the file.
		Body string `xml:",innerxml"`
	}
)

// Render writes rep as JUnit XML to w in a single write. Text from the
// target is made safe first (see clean): XML 1.0 cannot carry most control
// characters at all, not even as character references, and a CI log that
// prints a failure must not be driven by escape sequences.
func (Renderer) Render(w io.Writer, rep *scan.Report) error {
	if rep == nil {
		return errors.New("render junit: nil report")
	}
	doc := build(rep)
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("render junit: %w", err)
	}
	buf.WriteByte('\n')
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("render junit: %w", err)
	}
	return nil
}

func build(rep *scan.Report) *suites {
	doc := &suites{Name: clean(strings.TrimSpace("merlon " + rep.Target)), Time: "0"}
	if d := rep.FinishedAt.Sub(rep.StartedAt); !rep.StartedAt.IsZero() && !rep.FinishedAt.IsZero() && d > 0 {
		doc.Time = fmt.Sprintf("%.3f", d.Seconds())
	}
	var stamp string
	if !rep.StartedAt.IsZero() {
		stamp = rep.StartedAt.UTC().Format("2006-01-02T15:04:05")
	}

	// Suites in the order of the report's checks, then checks that only
	// appear in findings, in the order they first do.
	byID := map[string]*suite{}
	var order []string
	get := func(id string) *suite {
		s, ok := byID[id]
		if !ok {
			s = &suite{Name: clean(id), Time: "0", Timestamp: stamp}
			byID[id] = s
			order = append(order, id)
		}
		return s
	}
	for _, c := range rep.Checks {
		s := get(c.ID)
		switch c.Status {
		case "error":
			s.Cases = append(s.Cases, &testcase{Name: CaseCheck, Error: &outcome{
				Message: "the check could not run: what it looks for was not tested",
				Type:    "error",
				Body:    body(clean(cmp.Or(c.Error, "unknown error"))),
			}})
		case "skipped":
			s.Cases = append(s.Cases, &testcase{Name: CaseCheck, Skipped: &outcome{Message: clean(cmp.Or(c.Reason, "skipped"))}})
		case "cancelled":
			s.Cases = append(s.Cases, &testcase{Name: CaseCheck, Skipped: &outcome{Message: "cancelled before it finished"}})
		}
	}
	// One case per check × operation, its findings in one failure.
	type key struct{ check, op string }
	var cases []key
	grouped := map[key][]scan.Finding{}
	for _, f := range rep.Findings {
		k := key{f.CheckID, f.Operation}
		if _, ok := grouped[k]; !ok {
			cases = append(cases, k)
		}
		grouped[k] = append(grouped[k], f)
	}
	for _, k := range cases {
		name := CaseTarget
		if k.op != "" {
			name = clean(k.op)
		}
		get(k.check).Cases = append(get(k.check).Cases, &testcase{Name: name, Failure: failure(grouped[k])})
	}
	// A check that completed passed on every operation it tested and found
	// nothing on. A check with a whole-target finding spoke about the
	// target, not its operations: a passing case per operation would
	// contradict that finding, so it gets none. A check that tested no
	// operation (a TLS check, a report written before results listed
	// operations) that found nothing has one passing case.
	for _, c := range rep.Checks {
		if c.Status != "ok" {
			continue
		}
		s := byID[c.ID]
		if _, whole := grouped[key{c.ID, ""}]; !whole {
			for _, op := range c.Operations {
				if _, failed := grouped[key{c.ID, op}]; !failed {
					s.Cases = append(s.Cases, &testcase{Name: clean(op)})
				}
			}
		}
		if len(s.Cases) == 0 {
			s.Cases = append(s.Cases, &testcase{Name: CaseClean})
		}
	}
	if !score.Conclusive(rep.Coverage) || rep.Score.Grade == score.Ungraded {
		c := rep.Coverage
		s := get(SuiteCoverage)
		s.Cases = append(s.Cases, &testcase{Name: "reached operations", Error: &outcome{
			Message: "this scan proves nothing: it is NOT a clean result",
			Type:    "unreached",
			Body: body(fmt.Sprintf("Why: %s.\nIt reached %d of %d operations, %d answered 2xx (%d of %d requests failed at the transport level).",
				score.Unproven(rep), c.Reached, c.Operations, c.Succeeded, c.TransportError, c.Requests)),
		}})
	}

	for _, id := range order {
		s := byID[id]
		for _, tc := range s.Cases {
			tc.ClassName = s.Name
			tc.Time = "0"
			s.Tests++
			switch {
			case tc.Failure != nil:
				s.Failures++
			case tc.Error != nil:
				s.Errors++
			case tc.Skipped != nil:
				s.Skipped++
			}
		}
		doc.Suites = append(doc.Suites, s)
		doc.Tests += s.Tests
		doc.Failures += s.Failures
		doc.Errors += s.Errors
		doc.Skipped += s.Skipped
	}
	return doc
}

// failure reports the findings of one check on one operation: the most
// severe one names the failure, and the body describes each.
func failure(fs []scan.Finding) *outcome {
	fs = slices.Clone(fs)
	slices.SortStableFunc(fs, func(a, b scan.Finding) int {
		return cmp.Or(cmp.Compare(b.Severity, a.Severity), cmp.Compare(b.Confidence, a.Confidence))
	})
	msg := clean(fs[0].Title)
	if len(fs) > 1 {
		msg += fmt.Sprintf(" (and %d more)", len(fs)-1)
	}
	var b strings.Builder
	for i, f := range fs {
		if i > 0 {
			b.WriteString("\n\n----\n\n")
		}
		writeFinding(&b, f)
	}
	return &outcome{Message: msg, Type: fs[0].Severity.String(), Body: body("\n" + b.String() + "\n")}
}

func writeFinding(b *strings.Builder, f scan.Finding) {
	b.WriteString(clean(f.Title) + "\n")
	meta := []string{"severity " + f.Severity.String(), "confidence " + f.Confidence.String()}
	if f.CWE > 0 {
		meta = append(meta, fmt.Sprintf("CWE-%d", f.CWE))
	}
	if f.Category != "" {
		meta = append(meta, strings.TrimSpace(clean(string(f.Category))+" "+f.Category.Name()))
	}
	b.WriteString(strings.Join(meta, ", ") + "\n")
	if f.Location != "" {
		b.WriteString("Location: " + clean(f.Location) + "\n")
	}
	if f.Description != "" {
		b.WriteString("\n" + cleanLines(f.Description) + "\n")
	}
	var curls []string
	for _, ev := range f.Evidence {
		if ev.Curl != "" {
			if who := markdown.SentAs(ev.Request.Identity); who != "" {
				curls = append(curls, "  # "+clean(who))
			}
			curls = append(curls, "  "+clean(ev.Curl))
		}
	}
	if len(curls) > 0 {
		b.WriteString("\nEvidence (reproduce; fill in redacted secrets first):\n" + strings.Join(curls, "\n") + "\n")
	}
	if f.Remediation != "" {
		b.WriteString("\nRemediation: " + cleanLines(f.Remediation) + "\n")
	}
	if f.Fingerprint != "" {
		b.WriteString("\nFingerprint: " + clean(f.Fingerprint))
	}
}

// body escapes cleaned text as XML character data, keeping line feeds.
func body(s string) string {
	var b strings.Builder
	// xml.EscapeText would write line feeds as &#xA;; escape the three
	// markup characters by hand instead.
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// clean makes target text safe for XML 1.0 and for the terminals CI logs
// are read in, on one line. XML 1.0 forbids most C0 controls even as
// character references, and Go's encoder would silently turn them into
// U+FFFD; so every control character (C0, DEL, C1), bidi override, line
// separator and invalid UTF-8 byte is written as a visible escape (\x1b,
// \u202e, \xff) instead, and so are U+FFFE and U+FFFF, which XML also
// forbids. Line breaks and tabs become spaces.
func clean(s string) string {
	return escape(s, false)
}

// cleanLines is clean for multi-line text: it keeps line feeds.
func cleanLines(s string) string {
	return escape(strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n"), true)
}

func escape(s string, keepLF bool) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' && keepLF:
			b.WriteByte('\n')
		case r == '\n' || r == '\t':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case visible.Hidden(r), r == 0xfffe, r == 0xffff: // the last two are not XML characters
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
