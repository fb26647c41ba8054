package transport

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// HTTPSRedirect reports an API that can be reached over plain HTTP without
// being sent to HTTPS.
//
// For an http:// target it asks for the base URL without following
// redirects: anything but a redirect to https:// on the same host is
// reported. Loopback targets are skipped (traffic to them never leaves the
// machine, and local test servers are plain HTTP by design) unless
// IncludeLoopback is set.
//
// For an https:// target it asks for http://host/ on the plain HTTP port
// of the same host, once. That request leaves the target's origin, but
// not its host: it asks whether the very service being scanned also
// listens in clear text, which is part of judging that service and no
// third party's, so it is in scope. It still goes through the engine
// (budget, rate, evidence) with scan.Request.SameHost, which allows
// exactly this widening and nothing more; it is sent anonymously, so no
// credential crosses the network in clear text, and follows no redirect.
// When nothing listens there the check says nothing.
type HTTPSRedirect struct {
	// HTTPPort is the plain HTTP port to try for https:// targets; 0 means 80.
	HTTPPort int
	// IncludeLoopback judges http:// targets on loopback addresses too.
	IncludeLoopback bool
}

var _ scan.Check = HTTPSRedirect{}

// Meta describes the check.
func (HTTPSRedirect) Meta() scan.Meta {
	return scan.Meta{
		ID:          "transport.https-redirect",
		Family:      "transport",
		Title:       "API reachable over plain HTTP without a redirect to HTTPS",
		Category:    scan.API8Misconfiguration,
		CWE:         319,
		Severity:    scan.Medium,
		MinSeverity: scan.Medium,
		Description: "For http:// targets (not on loopback), one GET of the base URL without following redirects; " +
			"for https:// targets, one anonymous GET of http://<same host>/ on port 80 without following redirects (nothing " +
			"reported when that port does not answer). Reported when the answer is not a redirect to https:// on the same host.",
	}
}

// Run sends the one request.
func (c HTTPSRedirect) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	if t.BaseURL == nil {
		return nil, scan.Skip("no base URL")
	}
	host := t.BaseURL.Hostname()
	var ex *scan.Exchange
	switch strings.ToLower(t.BaseURL.Scheme) {
	case "http":
		if loopback(host) && !c.IncludeLoopback {
			return nil, scan.Skip("loopback target: plain HTTP does not leave the machine")
		}
		s := probe.NewSender(h)
		ex = s.Do(ctx, &scan.Request{Method: http.MethodGet, Path: "/", NoRedirect: true})
		if ex == nil {
			return nil, s.Err()
		}
	case "https":
		var err error
		ex, err = c.plain(ctx, t, h)
		if err != nil {
			return nil, err
		}
		if ex == nil {
			return nil, nil
		}
	default:
		return nil, scan.Skip("target is neither http nor https")
	}
	loc := ex.Response.Header.Get("Location")
	if ex.Response.Status >= 300 && ex.Response.Status < 400 && toHTTPS(loc, host) {
		return nil, nil
	}
	f := probe.Finding(c.Meta(), t, "", "http://"+host)
	f.Confidence = scan.Confirmed
	f.Description = fmt.Sprintf("%s %s answered %d without redirecting to HTTPS, so credentials and data sent to it cross the network in clear text and can be read or changed in transit.",
		ex.Request.Method, ex.Request.URL, ex.Response.Status)
	matched := fmt.Sprintf("HTTP %d", ex.Response.Status)
	if loc != "" {
		matched += ", Location: " + loc
	}
	f.Evidence = []scan.Evidence{probe.Evidence(ex, "plain HTTP answered without a redirect to HTTPS", matched)}
	return []scan.Finding{f}, nil
}

// toHTTPS reports whether Location loc sends the client to https:// on host.
func toHTTPS(loc, host string) bool {
	u, err := url.Parse(loc)
	return err == nil && strings.EqualFold(u.Scheme, "https") && strings.EqualFold(u.Hostname(), host)
}

func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// plain sends GET http://host:port/ through the engine, anonymously and
// without following redirects. It returns nil and no error when nothing
// answered there.
func (c HTTPSRedirect) plain(ctx context.Context, t *scan.Target, h scan.Requester) (*scan.Exchange, error) {
	port := c.HTTPPort
	if port == 0 {
		port = 80
	}
	u := "http://" + net.JoinHostPort(t.BaseURL.Hostname(), strconv.Itoa(port)) + "/"
	ex, err := h.Do(ctx, &scan.Request{
		Method: http.MethodGet, Path: u, SameHost: true,
		Identity: scan.Anonymous, NoRedirect: true, NoRetry: true,
	})
	switch {
	case err == nil:
		return ex, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	case errors.Is(err, scan.ErrOutOfScope):
		return nil, fmt.Errorf("plain http request: %w", err)
	}
	// Nothing listens on the HTTP port, or the budget is spent (which the
	// engine reports): nothing to say.
	return nil, nil
}
