package unsafe

import (
	"context"
	"fmt"
	"mime"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/checks/ssrf"
	"github.com/merlonsec/merlon/internal/scan"
)

// maxReflectPoints bounds the URL inputs the check tries: one request
// each, plus a DELETE for what a create made.
const maxReflectPoints = 8

// ThirdPartyReflection points URL inputs at an HTML page on Merlon's
// callback listener and reports HTML responses that carry the page's
// markup verbatim: the API put content from a third party into its own
// page without encoding it, so whoever controls that third party can run
// script in the API's origin.
//
// Only HTML responses count. A JSON API that passes fetched text through
// unchanged leaves encoding to its client, which Merlon cannot see, and
// reporting it would be a guess.
type ThirdPartyReflection struct{}

var _ scan.Check = ThirdPartyReflection{}

// Meta describes the check.
func (ThirdPartyReflection) Meta() scan.Meta {
	return scan.Meta{
		ID:          "unsafe.third-party-reflection",
		Family:      "unsafe",
		Title:       "Third-party content put into an HTML page without encoding",
		Category:    scan.API10UnsafeConsumption,
		CWE:         79,
		Severity:    scan.Medium,
		MinSeverity: scan.Medium,
		Active:      true,
		Description: "For up to 8 inputs that take a URL (the SSRF check's query parameters and body " +
			"properties, webhook registrations left out), sends the URL of an HTML page on Merlon's callback " +
			"listener whose body is a script element holding only a comment. Confirmed when an HTML response " +
			"carries that element verbatim. Objects a create made are deleted when the API has a DELETE.",
	}
}

// Run tries each URL input once.
func (c ThirdPartyReflection) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	cb := t.Callbacks
	if cb == nil {
		return nil, scan.Skip("no callback listener (needs --active)")
	}
	var pts []ssrf.Point
	for _, p := range ssrf.Points(t) {
		if !ssrf.WebhookPoint(p) && len(pts) < maxReflectPoints {
			pts = append(pts, p)
		}
	}
	if len(pts) == 0 {
		return nil, scan.Skip("no input that takes a URL")
	}
	m := c.Meta()
	s := probe.NewSender(h)
	var out []scan.Finding
	for _, p := range pts {
		_, tok := cb.New()
		page, body := cb.Page(tok)
		req := ssrf.Request(t, p, page)
		if req == nil {
			continue
		}
		ex := s.Do(ctx, req)
		if s.Done() {
			break
		}
		if ex == nil {
			continue
		}
		if ex.Response.Status/100 == 2 {
			deleteCreated(ctx, t, h, p.Op, ex, m.ID)
		}
		if !htmlResponse(ex) || !strings.Contains(string(ex.Response.Raw), body) {
			continue
		}
		f := probe.Finding(m, t, probe.Name(p.Op), p.Location())
		f.Confidence = scan.Confirmed
		f.Description = fmt.Sprintf("%s fetched the page Merlon served at the URL given in %s and put its markup, "+
			"a <script> element, into its own HTML answer unchanged. Whoever controls a URL the API reads from can "+
			"run script in the API's origin, with its users' cookies and session.", probe.Name(p.Op), p.Location())
		f.Evidence = []scan.Evidence{probe.Evidence(ex, "the listener's page, quoted verbatim in an HTML answer", body)}
		out = append(out, f)
	}
	return out, s.Err()
}

// htmlResponse reports whether ex's answer is an HTML document a browser
// would render.
func htmlResponse(ex *scan.Exchange) bool {
	mt, _, err := mime.ParseMediaType(ex.Response.Header.Get("Content-Type"))
	return err == nil && (mt == "text/html" || mt == "application/xhtml+xml")
}
