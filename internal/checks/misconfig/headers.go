package misconfig

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// MinHSTSMaxAge is the shortest Strict-Transport-Security max-age Merlon
// accepts: 180 days, the floor commonly required for HSTS to protect
// returning clients across long gaps between visits.
const MinHSTSMaxAge = 15552000

// SecurityHeaders reports response headers an API should send and does not.
//
// It asks only for what fits the response: JSON needs
// X-Content-Type-Options (a browser must not sniff it into HTML or
// script); HTTPS needs a long-lived Strict-Transport-Security; responses to
// authenticated requests need Cache-Control: no-store so that personal
// data does not linger in shared or browser caches. Content-Security-Policy
// and X-Frame-Options protect documents that render, so they are asked of
// HTML responses only, never of JSON.
//
// Each missing header is one finding for the whole target, with one
// example exchange, since these headers are nearly always set (or not) in
// one place for the whole API.
type SecurityHeaders struct{}

var _ scan.Check = SecurityHeaders{}

// Meta describes the check.
func (SecurityHeaders) Meta() scan.Meta {
	return scan.Meta{
		ID:          "misconfig.security-headers",
		Family:      "misconfig",
		Title:       "Missing security headers",
		Category:    scan.API8Misconfiguration,
		CWE:         693,
		Severity:    scan.Low,
		MinSeverity: scan.Low,
		Description: "Looks for X-Content-Type-Options on JSON responses, Strict-Transport-Security on HTTPS, " +
			"Cache-Control: no-store on authenticated responses, and Content-Security-Policy and " +
			"X-Frame-Options on HTML responses.",
	}
}

// headerGap is one missing header: the first response that lacked it and
// how many did.
type headerGap struct {
	header  string
	example *scan.Exchange
	matched string
	count   int
	of      int
	why     string
}

func (g *headerGap) see(ex *scan.Exchange, missing bool, matched string) {
	g.of++
	if !missing {
		return
	}
	g.count++
	if g.example == nil {
		g.example, g.matched = ex, matched
	}
}

// Run sends one GET per sampled operation (as the first identity, when
// there is one, so that authenticated responses are seen) and checks the
// headers of every response.
func (c SecurityHeaders) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	var identity string
	if len(t.Identities) > 0 {
		identity = t.Identities[0].Name
	}
	ops := probe.Gets(t, probe.Budget(t.Profile))
	if len(ops) == 0 {
		ops = []*scan.Operation{nil}
	}
	https := t.BaseURL != nil && strings.EqualFold(t.BaseURL.Scheme, "https")

	gaps := []*headerGap{
		{header: "X-Content-Type-Options",
			why: "responses lacked X-Content-Type-Options: nosniff, so a browser may sniff their content as HTML or script."},
		{header: "Strict-Transport-Security",
			why: fmt.Sprintf("HTTPS responses lacked Strict-Transport-Security with max-age of at least %d seconds (180 days), so a client can be downgraded to plain HTTP on its next visit.", MinHSTSMaxAge)},
		{header: "Cache-Control",
			why: "responses to authenticated requests lacked Cache-Control: no-store, so personal data may be kept by browsers and shared caches."},
		{header: "Content-Security-Policy",
			why: "HTML responses lacked Content-Security-Policy, which limits what an injected script can do."},
		{header: "X-Frame-Options",
			why: "HTML responses lacked both X-Frame-Options and a CSP frame-ancestors directive, so other sites can frame them (clickjacking)."},
	}
	nosniff, hsts, cache, csp, xfo := gaps[0], gaps[1], gaps[2], gaps[3], gaps[4]

	s := probe.NewSender(h)
	reqs := make([]*scan.Request, len(ops))
	for i, op := range ops {
		reqs[i] = probe.Get(t, op)
		reqs[i].Identity = identity
	}
	s.DoAll(ctx, reqs, func(_ int, ex *scan.Exchange) bool {
		if ex == nil {
			return true
		}
		rh := ex.Response.Header
		mt := probe.MediaType(rh)
		ok2xx := ex.Response.Status >= 200 && ex.Response.Status < 300
		html := mt == "text/html" && ok2xx
		if probe.IsJSON(mt) || html {
			v := rh.Get("X-Content-Type-Options")
			nosniff.see(ex, !strings.EqualFold(strings.TrimSpace(v), "nosniff"), headerLine("X-Content-Type-Options", v))
		}
		if https {
			v := rh.Get("Strict-Transport-Security")
			hsts.see(ex, hstsMaxAge(v) < MinHSTSMaxAge, headerLine("Strict-Transport-Security", v))
		}
		if authenticated(ex, identity) && ok2xx && ex.Response.Body != "" {
			v := strings.Join(rh.Values("Cache-Control"), ", ")
			cache.see(ex, !hasDirective(v, "no-store"), headerLine("Cache-Control", v))
		}
		if html {
			policy := strings.Join(rh.Values("Content-Security-Policy"), ", ")
			csp.see(ex, policy == "", headerLine("Content-Security-Policy", policy))
			v := rh.Get("X-Frame-Options")
			framed := v == "" && !strings.Contains(strings.ToLower(policy), "frame-ancestors")
			xfo.see(ex, framed, headerLine("X-Frame-Options", v))
		}
		return true
	})

	m := c.Meta()
	var out []scan.Finding
	for _, g := range gaps {
		if g.example == nil {
			continue
		}
		f := probe.Finding(m, t, "", g.header)
		f.Title = "Missing or weak " + g.header + " header"
		f.Confidence = scan.Confirmed
		f.Description = fmt.Sprintf("%d of %d %s", g.count, g.of, g.why)
		f.Evidence = []scan.Evidence{probe.Evidence(g.example, "response without an adequate "+g.header, g.matched)}
		out = append(out, f)
	}
	return out, s.Err()
}

// headerLine renders a header as it appeared, or as absent.
func headerLine(name, value string) string {
	if value == "" {
		return name + ": (absent)"
	}
	return name + ": " + value
}

// authenticated reports whether the request carried credentials: it was
// sent as an identity, or it had an Authorization or Cookie header.
func authenticated(ex *scan.Exchange, identity string) bool {
	hd := http.Header(ex.Request.Header)
	return identity != "" || hd.Get("Authorization") != "" || hd.Get("Cookie") != ""
}

// hasDirective reports whether a comma-separated header value holds the
// directive d (case-insensitively, ignoring any "=value").
func hasDirective(v, d string) bool {
	for _, part := range strings.Split(v, ",") {
		name, _, _ := strings.Cut(strings.TrimSpace(part), "=")
		if strings.EqualFold(strings.TrimSpace(name), d) {
			return true
		}
	}
	return false
}

// hstsMaxAge returns the max-age of a Strict-Transport-Security value, or
// -1 when there is none or it does not parse.
func hstsMaxAge(v string) int64 {
	for _, part := range strings.Split(v, ";") {
		name, val, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok || !strings.EqualFold(strings.TrimSpace(name), "max-age") {
			continue
		}
		n, err := strconv.ParseInt(strings.Trim(strings.TrimSpace(val), `"`), 10, 64)
		if err != nil {
			return -1
		}
		return n
	}
	return -1
}
