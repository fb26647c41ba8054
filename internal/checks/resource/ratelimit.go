package resource

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// rateLimitHeaders are the response headers that announce a rate limit:
// the IETF RateLimit fields and the common X-RateLimit variants.
var rateLimitHeaders = []string{
	"RateLimit", "RateLimit-Policy", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset",
	"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
	"X-Rate-Limit-Limit", "X-Rate-Limit-Remaining", "X-Rate-Limit-Reset",
}

// RateLimitHeader returns the first rate-limit header h carries (or
// Retry-After), and "" when it carries none.
func RateLimitHeader(h http.Header) string {
	for _, name := range rateLimitHeaders {
		if h.Get(name) != "" {
			return name
		}
	}
	if h.Get("Retry-After") != "" {
		return "Retry-After"
	}
	return ""
}

// throttled reports whether a response is the server refusing for load.
func throttled(ex *scan.Exchange) bool {
	s := ex.Response.Status
	return s == http.StatusTooManyRequests || (s == http.StatusServiceUnavailable && ex.Response.Header.Get("Retry-After") != "")
}

// cheapGet picks the request a rate-limit probe repeats: the first GET
// operation without path parameters or required query (a collection or a
// status page), else the base URL.
func cheapGet(t *scan.Target) *scan.Request {
	for _, op := range probe.Gets(t, 0) {
		if len(scan.PathParams(op.Path)) == 0 && len(probe.Query(t, op)) == 0 {
			return probe.Get(t, op)
		}
	}
	return probe.Get(t, nil)
}

// burstSize is how many requests NoRateLimit sends in its burst.
func burstSize(p scan.Profile) int {
	switch p {
	case scan.Quick:
		return 20
	case scan.Deep:
		return 60
	}
	return 30
}

// NoRateLimit sends a short burst of identical cheap GETs and reports the
// API when none is throttled and no response announces a limit. A burst
// is load, however small, so the check is active.
type NoRateLimit struct{}

var _ scan.Check = NoRateLimit{}

// Meta describes the check.
func (NoRateLimit) Meta() scan.Meta {
	return scan.Meta{
		ID:          "resource.no-rate-limit",
		Family:      "resource",
		Title:       "No rate limiting",
		Category:    scan.API4ResourceConsumption,
		CWE:         770,
		Severity:    scan.Medium,
		MinSeverity: scan.Medium,
		Active:      true,
		Description: "Sends one baseline GET, then a burst of 20 (quick), 30 (standard) or 60 (deep) identical GETs " +
			"to one cheap operation as fast as the scan's --rate allows, without retrying 429s. Reports when " +
			"every response succeeds, none is a 429 or a 503 with Retry-After, and none carries RateLimit-* " +
			"or X-RateLimit-* headers.",
	}
}

// Run sends the burst.
func (c NoRateLimit) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	s := probe.NewSender(h)
	req := cheapGet(t)
	req.NoRetry = true
	base := s.Do(ctx, req)
	if base == nil {
		return nil, s.Err()
	}
	if base.Response.Status < 200 || base.Response.Status > 299 {
		return nil, scan.Skip(fmt.Sprintf("the burst target %s answered %d, not 2xx", base.Request.URL, base.Response.Status))
	}
	if RateLimitHeader(base.Response.Header) != "" {
		return nil, nil
	}
	n := burstSize(t.Profile)
	start := time.Now()
	var last *scan.Exchange
	for range n {
		r := *req
		ex := s.Do(ctx, &r)
		if s.Done() {
			// A burst cut short by the budget or the clock proves nothing.
			return nil, s.Err()
		}
		if ex == nil {
			// A dropped connection mid-burst may be a limit at work.
			return nil, s.Err()
		}
		if throttled(ex) || RateLimitHeader(ex.Response.Header) != "" || ex.Response.Status != base.Response.Status {
			return nil, nil
		}
		last = ex
	}
	took := time.Since(start).Round(10 * time.Millisecond)
	m := c.Meta()
	f := probe.Finding(m, t, "", strings.ToUpper(req.Method)+" "+req.Path)
	f.Confidence = scan.Likely
	f.Description = fmt.Sprintf("%d identical requests to %s in %s were all answered %d, with no 429, no Retry-After "+
		"and no rate-limit headers. Without a limit, one client can exhaust the API's capacity or brute-force "+
		"its data. A limit above %d requests may exist; Merlon's burst is kept small on purpose.",
		n+1, base.Request.URL, took, base.Response.Status, n+1)
	f.Evidence = []scan.Evidence{
		probe.Evidence(base, "first request of the burst", ""),
		probe.Evidence(last, fmt.Sprintf("request %d of the burst, still answered", n+1), fmt.Sprint(last.Response.Status)),
	}
	return []scan.Finding{f}, s.Err()
}

// NoRateLimitHeaders reports an API none of whose responses announce a
// rate limit: clients cannot pace themselves, and the absence often means
// there is no limit at all.
type NoRateLimitHeaders struct{}

var _ scan.Check = NoRateLimitHeaders{}

// Meta describes the check.
func (NoRateLimitHeaders) Meta() scan.Meta {
	return scan.Meta{
		ID:       "resource.no-rate-limit-headers",
		Family:   "resource",
		Title:    "No rate-limit headers",
		Category: scan.API4ResourceConsumption,
		CWE:      770,
		Severity: scan.Info,
		Description: "Sends a GET to the base URL and to up to 5 GET operations and reports when no successful " +
			"response carries RateLimit-*, X-RateLimit-* or Retry-After headers.",
	}
}

// Run looks at a few responses.
func (c NoRateLimitHeaders) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	s := probe.NewSender(h)
	ops := append([]*scan.Operation{nil}, probe.Gets(t, 5)...)
	var ok []*scan.Exchange
	for _, op := range ops {
		ex := s.Do(ctx, probe.Get(t, op))
		if s.Done() {
			return nil, s.Err()
		}
		if ex == nil {
			continue
		}
		if RateLimitHeader(ex.Response.Header) != "" || throttled(ex) {
			return nil, nil
		}
		if ex.Response.Status >= 200 && ex.Response.Status < 300 {
			ok = append(ok, ex)
		}
	}
	// One answer is too little to speak for the API.
	if len(ok) < 2 {
		return nil, s.Err()
	}
	f := probe.Finding(c.Meta(), t, "", "")
	f.Confidence = scan.Likely
	f.Description = fmt.Sprintf("None of %d successful responses carries RateLimit-* or X-RateLimit-* headers. "+
		"Clients cannot see or respect a limit, and the API may have none.", len(ok))
	for i, ex := range ok {
		if i == 2 {
			break
		}
		f.Evidence = append(f.Evidence, probe.Evidence(ex, "response without rate-limit headers", ""))
	}
	return []scan.Finding{f}, s.Err()
}
