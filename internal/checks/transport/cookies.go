package transport

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// maxPages bounds the GETs of the cookie and mixed-content checks: the
// base URL and the first sampled GET operations.
const maxPages = 10

// pages returns what the cookie and mixed-content checks fetch.
func pages(t *scan.Target) []*scan.Operation {
	return append([]*scan.Operation{nil}, probe.Gets(t, maxPages-1)...)
}

// cookieFlag is one attribute a session cookie must carry.
type cookieFlag struct {
	id, title, attr string
	cwe             int
	severity        scan.Severity
	httpsOnly       bool
	// missing reports whether c lacks the attribute.
	missing func(c *http.Cookie) bool
	why     string
}

var (
	flagSecure = cookieFlag{"transport.cookie-secure", "Session cookie without Secure", "Secure", 614, scan.Medium, true,
		func(c *http.Cookie) bool { return !c.Secure },
		"Without Secure the browser also sends the cookie over plain HTTP, where anyone on the path can read it."}
	flagHTTPOnly = cookieFlag{"transport.cookie-httponly", "Session cookie without HttpOnly", "HttpOnly", 1004, scan.Medium, false,
		func(c *http.Cookie) bool { return !c.HttpOnly },
		"Without HttpOnly any script on the page, an injected one included, can read the session."}
	flagSameSite = cookieFlag{"transport.cookie-samesite", "Session cookie without SameSite", "SameSite", 1275, scan.Low, false,
		func(c *http.Cookie) bool {
			return c.SameSite == 0 || c.SameSite == http.SameSiteDefaultMode || c.SameSite == http.SameSiteNoneMode
		},
		"Without SameSite=Lax or Strict (or with None) the browser sends the cookie on cross-site requests, which enables CSRF."}
)

// CookieSecure reports session cookies set without the Secure attribute on
// https:// targets.
type CookieSecure struct{}

// CookieHTTPOnly reports session cookies set without HttpOnly.
type CookieHTTPOnly struct{}

// CookieSameSite reports session cookies set without SameSite=Lax or
// Strict.
type CookieSameSite struct{}

var (
	_ scan.Check = CookieSecure{}
	_ scan.Check = CookieHTTPOnly{}
	_ scan.Check = CookieSameSite{}
)

func (f cookieFlag) meta() scan.Meta {
	desc := fmt.Sprintf("Sends a GET to the base URL and to the first %d sampled GET operations and reads their Set-Cookie headers. "+
		"A cookie whose name marks a session or credential (session, sid, token, auth, jwt, …) is reported when it lacks %s.", maxPages-1, f.attr)
	if f.httpsOnly {
		desc += " https:// targets only."
	}
	return scan.Meta{ID: f.id, Family: "transport", Title: f.title, Category: scan.API8Misconfiguration,
		CWE: f.cwe, Severity: f.severity, MinSeverity: f.severity, Description: desc}
}

// Meta describes the check.
func (CookieSecure) Meta() scan.Meta { return flagSecure.meta() }

// Meta describes the check.
func (CookieHTTPOnly) Meta() scan.Meta { return flagHTTPOnly.meta() }

// Meta describes the check.
func (CookieSameSite) Meta() scan.Meta { return flagSameSite.meta() }

// Run fetches the pages and judges their cookies.
func (CookieSecure) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	return flagSecure.run(ctx, t, h)
}

// Run fetches the pages and judges their cookies.
func (CookieHTTPOnly) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	return flagHTTPOnly.run(ctx, t, h)
}

// Run fetches the pages and judges their cookies.
func (CookieSameSite) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	return flagSameSite.run(ctx, t, h)
}

// sessionWords mark a cookie as a session or credential. Other cookies
// (a theme, a locale) are not judged: missing flags on them harm no one.
var sessionWords = []string{"sess", "sid", "token", "auth", "jwt", "login", "remember", "csrf", "xsrf", "identity", "connect."}

func sessionCookie(name string) bool {
	n := strings.ToLower(name)
	for _, w := range sessionWords {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

func (f cookieFlag) run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	https := t.BaseURL != nil && strings.EqualFold(t.BaseURL.Scheme, "https")
	if f.httpsOnly && !https {
		return nil, scan.Skip("target is not https")
	}
	m := f.meta()
	seen := make(map[string]bool)
	var out []scan.Finding
	s := probe.NewSender(h)
	for _, op := range pages(t) {
		ex := s.Do(ctx, probe.Get(t, op))
		if s.Done() {
			break
		}
		if ex == nil {
			continue
		}
		for _, line := range ex.Response.Header.Values("Set-Cookie") {
			c, err := http.ParseSetCookie(line)
			if err != nil || seen[c.Name] || !sessionCookie(c.Name) || c.MaxAge < 0 {
				continue
			}
			seen[c.Name] = true
			if !f.missing(c) {
				continue
			}
			fd := probe.Finding(m, t, "", c.Name)
			fd.Title = fmt.Sprintf("Cookie %s set without %s", c.Name, f.attr)
			fd.Confidence = scan.Likely
			fd.Description = fmt.Sprintf("%s %s set the cookie %q, which by its name holds a session or credential, without %s. %s",
				ex.Request.Method, ex.Request.URL, c.Name, f.attr, f.why)
			fd.Evidence = []scan.Evidence{probe.Evidence(ex, "Set-Cookie without "+f.attr, "Set-Cookie: "+c.Name+"=…; "+attrs(line))}
			out = append(out, fd)
		}
	}
	return out, s.Err()
}

// attrs returns the attributes of a Set-Cookie line, without its value.
func attrs(line string) string {
	_, a, _ := strings.Cut(line, ";")
	return strings.TrimSpace(a)
}
