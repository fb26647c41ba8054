package unsafe

import (
	"context"
	"fmt"
	"net/url"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// redirectHost is a host that cannot resolve (.invalid is reserved), so a
// redirect to it leads nowhere even if something followed it.
const redirectHost = "merlon-redirect-probe.invalid"

// redirectPayloads are the values sent: an absolute URL, and the
// scheme-relative form that naive "starts with /" checks let through.
var redirectPayloads = []string{"https://" + redirectHost + "/", "//" + redirectHost + "/"}

// redirectNames are parameters that usually carry a redirect target
// (lower case, '_' and '-' removed).
var redirectNames = map[string]bool{
	"next": true, "redirect": true, "redirecturl": true, "redirecturi": true, "redirectto": true,
	"return": true, "returnto": true, "returnurl": true, "url": true, "continue": true, "goto": true,
	"dest": true, "destination": true, "target": true, "callbackurl": true, "successurl": true,
}

func redirectParam(name string) bool {
	return redirectNames[strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(name))]
}

// OpenRedirect reports GET parameters that redirect to any host given.
type OpenRedirect struct{}

var _ scan.Check = OpenRedirect{}

// Meta describes the check.
func (OpenRedirect) Meta() scan.Meta {
	return scan.Meta{
		ID:          "unsafe.open-redirect",
		Family:      "unsafe",
		Title:       "Open redirect",
		Category:    scan.API10UnsafeConsumption,
		CWE:         601,
		Severity:    scan.Medium,
		MinSeverity: scan.Medium,
		Description: "For up to 10 query parameters of GET operations named like a redirect target (next, " +
			"redirect, redirect_uri, return_to, url, continue, goto…), sends the GET with the parameter set " +
			"to https://merlon-redirect-probe.invalid/ and then //merlon-redirect-probe.invalid/, without " +
			"following redirects. Confirmed when the response is a 3xx whose Location points at that host.",
	}
}

// Run sends the payloads.
func (c OpenRedirect) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	type point struct {
		op   *scan.Operation
		name string
	}
	var pts []point
	for _, op := range probe.Gets(t, 0) {
		for _, p := range op.Parameters {
			if p.In == "query" && redirectParam(p.Name) && len(pts) < 10 {
				pts = append(pts, point{op, p.Name})
			}
		}
	}
	if len(pts) == 0 {
		return nil, scan.Skip("no GET operation has a redirect-like query parameter")
	}
	m := c.Meta()
	s := probe.NewSender(h)
	var out []scan.Finding
	for _, pt := range pts {
		for _, payload := range redirectPayloads {
			req := probe.Get(t, pt.op)
			q := url.Values{}
			for k, v := range req.Query {
				q[k] = v
			}
			q.Set(pt.name, payload)
			req.Query = q
			req.NoRedirect = true
			ex := s.Do(ctx, req)
			if s.Done() {
				return out, s.Err()
			}
			if ex == nil || ex.Response.Status/100 != 3 {
				continue
			}
			loc := ex.Response.Header.Get("Location")
			if !RedirectsTo(loc, redirectHost) {
				continue
			}
			f := probe.Finding(m, t, probe.Name(pt.op), "query:"+pt.name)
			f.Confidence = scan.Confirmed
			f.Description = fmt.Sprintf("%s=%s was answered %d with Location: %s. Anyone can craft a link on "+
				"this API that lands its users on a site of the attacker's choosing (phishing, token theft "+
				"through OAuth redirects).", pt.name, payload, ex.Response.Status, loc)
			f.Evidence = []scan.Evidence{probe.Evidence(ex, "redirect to the host given in the parameter", "Location: "+loc)}
			out = append(out, f)
			break
		}
	}
	return out, s.Err()
}

// RedirectsTo reports whether a Location value leads to host: an
// absolute or scheme-relative URL whose host is host. Browsers read a
// backslash as a slash, so "/\host" counts too.
func RedirectsTo(loc, host string) bool {
	loc = strings.TrimSpace(strings.ReplaceAll(loc, `\`, "/"))
	u, err := url.Parse(loc)
	if err != nil {
		return false
	}
	return strings.EqualFold(u.Hostname(), host)
}
