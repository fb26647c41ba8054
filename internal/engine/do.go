package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/redact"
	"github.com/merlonsec/merlon/internal/scan"
)

// Do sends req and returns the exchange, following in-scope redirects and
// retrying 429 and 503 answers. It implements scan.Requester:
//   - an off-scope URL fails with scan.ErrOutOfScope, a write method
//     without Active with scan.ErrWriteNotAllowed, and a request past the
//     budget with scan.ErrBudgetExhausted, all before anything is sent;
//   - a redirect off scope, past five hops or with req.NoRedirect set is
//     returned as is, with no error;
//   - when the budget runs out in the middle of retries or redirects, the
//     last response is returned, with no error;
//   - a transport error is returned wrapped as "METHOD URL: cause".
//
// A header in req.Header with no values removes a global or identity
// header of that name, so a check can send a request without the user's
// credentials.
func (c *Client) Do(ctx context.Context, req *scan.Request) (*scan.Exchange, error) {
	if req == nil {
		return nil, errors.New("nil request")
	}
	method := strings.ToUpper(req.Method)
	if method == "" {
		method = http.MethodGet
	}
	u, err := c.resolve(req.Path, req.Query, req.SameHost)
	if err != nil {
		if errors.Is(err, scan.ErrOutOfScope) {
			c.s.refused.Add(1)
		}
		return nil, err
	}
	if !c.cfg.Active && !readOnly(method) {
		c.s.refused.Add(1)
		return nil, fmt.Errorf("%s %s: %w", method, redact.URL(u.String()), scan.ErrWriteNotAllowed)
	}
	id, idName, err := c.resolveIdentity(req.Identity)
	if err != nil {
		return nil, err
	}
	if id != nil {
		if soon, gen := id.expiring(time.Now(), c.cfg.MinRelogin); soon {
			if err := c.relogin(ctx, id, gen); err != nil {
				c.s.log.WarnContext(ctx, "token renewal failed", "identity", id.name, "error", err)
				c.noteLoginFailure(ctx, id.name, err)
			}
		}
	}
	header, gen := c.header(req, id)
	ex, err := c.follow(ctx, method, u, header, req, idName)
	if err != nil || ex.Response.Status != http.StatusUnauthorized || !c.mayRelogin(id, req, gen) {
		return ex, err
	}
	// A 401 to a login-flow identity: log in again (unless another request
	// just did) and retry once.
	if err := c.relogin(ctx, id, gen); err != nil {
		c.s.log.WarnContext(ctx, "login again after 401 failed", "identity", id.name, "error", err)
		c.noteLoginFailure(ctx, id.name, err)
		return ex, nil
	}
	header, _ = c.header(req, id)
	return c.follow(ctx, method, u, header, req, idName)
}

// noteLoginFailure records a renewal that failed, for the report. A scan
// that ran out of time or budget did not have its credentials refused, so
// those failures are not recorded.
func (c *Client) noteLoginFailure(ctx context.Context, name string, err error) {
	if ctx.Err() != nil || errors.Is(err, scan.ErrBudgetExhausted) {
		return
	}
	c.s.loginFailed(name, err)
}

// mayRelogin decides whether a 401 calls for a new login: the identity
// logs in, the request carried its token unchanged, and the token is not
// one obtained moments ago (a fresh token refused is an authorization
// answer, not an expiry).
func (c *Client) mayRelogin(id *identity, req *scan.Request, gen uint64) bool {
	if id == nil || id.login == nil {
		return false
	}
	for k := range req.Header {
		if c.s.idHeaderNames[http.CanonicalHeaderKey(k)] {
			return false
		}
	}
	id.mu.RLock()
	defer id.mu.RUnlock()
	return id.gen != gen || time.Since(id.lastLogin) >= c.cfg.MinRelogin
}

// follow sends one request, retrying 429 and 503 and following in-scope
// redirects, as Do documents.
func (c *Client) follow(ctx context.Context, method string, u *url.URL, header http.Header, req *scan.Request, idName string) (*scan.Exchange, error) {
	body := req.Body
	var last *scan.Exchange
	for hops, attempt := 0, 0; ; {
		ex, respHeader, err := c.send(ctx, method, u, header, body, req.Operation, idName)
		if err != nil {
			if last != nil && errors.Is(err, scan.ErrBudgetExhausted) {
				return last, nil
			}
			return nil, err
		}
		last = ex
		status := ex.Response.Status

		if (status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable) && attempt < c.cfg.Retries && !req.NoRetry {
			if err := sleep(ctx, retryDelay(respHeader, attempt, time.Now())); err != nil {
				return nil, fmt.Errorf("%s %s: wait to retry: %w", method, redact.URL(u.String()), err)
			}
			attempt++
			continue
		}

		if req.NoRedirect || !isRedirect(status) {
			return ex, nil
		}
		if hops >= maxRedirects {
			c.s.redirectLimit.Add(1)
			return ex, nil
		}
		loc := respHeader.Get("Location")
		if loc == "" {
			return ex, nil
		}
		next, err := u.Parse(loc)
		if err != nil || !sameOrigin(next, c.base) {
			if err == nil {
				c.s.shapes.offScope.Add(1)
			}
			return ex, nil
		}
		next.Fragment, next.RawFragment = "", ""
		// Browsers and Go turn a redirected POST into a GET for 301, 302
		// and 303; 307 and 308 keep the method and body.
		if status == http.StatusSeeOther && method != http.MethodHead ||
			(status == http.StatusMovedPermanently || status == http.StatusFound) && method == http.MethodPost {
			method, body = http.MethodGet, nil
			header = header.Clone()
			header.Del("Content-Type")
		}
		u = next
		hops++
		attempt = 0
	}
}

// writeUnanswered reports a write that left without a complete answer.
func (c *Client) writeUnanswered(method, shown string, err error) {
	if c.cfg.WriteUnanswered != nil && !readOnly(method) {
		c.cfg.WriteUnanswered(method, shown, err)
	}
}

// readOnly is the method allowlist that holds without --active. It is an
// allowlist, not scan.IsWrite, so that TRACE and unknown methods are
// refused too.
func readOnly(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	}
	return false
}

func isRedirect(status int) bool {
	switch status {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// send makes one attempt: wait for a slot, the rate limiter and the
// budget, send, read the body, and record the exchange.
func (c *Client) send(ctx context.Context, method string, u *url.URL, h http.Header, body []byte, op *scan.Operation, idName string) (*scan.Exchange, http.Header, error) {
	shown := redact.URL(u.String())
	resp, raw, truncated, dur, err := c.roundTrip(ctx, method, u, shown, h, body)
	if err != nil {
		return nil, nil, err
	}
	// After the slot is given back: reading a body's shape costs CPU,
	// not a request in flight.
	c.s.shapes.inspect(resp.Header, raw, truncated)
	ex := c.exchange(method, shown, h, body, resp, raw, truncated, dur, idName)
	c.s.record(op, resp.StatusCode)
	if c.cfg.Observer != nil {
		c.cfg.Observer(ex)
	}
	return ex, resp.Header, nil
}

// roundTrip holds a concurrency slot only while the request is in flight,
// so a slow Observer or a retry wait never blocks other requests.
func (c *Client) roundTrip(ctx context.Context, method string, u *url.URL, shown string, h http.Header, body []byte) (*http.Response, []byte, bool, time.Duration, error) {
	select {
	case c.s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, nil, false, 0, fmt.Errorf("%s %s: %w", method, shown, ctx.Err())
	}
	defer func() { <-c.s.sem }()

	if c.s.limiter != nil {
		if err := c.s.limiter.Wait(ctx); err != nil {
			return nil, nil, false, 0, fmt.Errorf("%s %s: rate limit: %w", method, shown, err)
		}
	}
	if !c.s.reserve(c.cfg.MaxRequests) {
		c.s.refused.Add(1)
		c.s.budgetExhausted.Store(true)
		return nil, nil, false, 0, fmt.Errorf("%s %s: %w", method, shown, scan.ErrBudgetExhausted)
	}

	rctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	var rb *bytes.Reader
	if len(body) > 0 {
		rb = bytes.NewReader(body)
	}
	hreq, err := newRequest(rctx, method, u, rb)
	if err != nil {
		return nil, nil, false, 0, fmt.Errorf("%s %s: %w", method, shown, err)
	}
	hreq.Header = h.Clone()
	if host := h.Get("Host"); host != "" {
		hreq.Host = host
		hreq.Header.Del("Host")
	}
	if !readOnly(method) {
		c.s.log.DebugContext(ctx, "write request", "method", method, "url", shown)
	}

	c.s.requests.Add(1)
	start := time.Now()
	resp, err := c.s.http.Do(hreq)
	if err != nil {
		// Neither the scan being cancelled nor a closed or filtered other
		// port of the host (a Request.SameHost probe) is the target's fault.
		if ctx.Err() == nil && sameOrigin(u, c.base) {
			c.s.transportErrors.Add(1)
			c.s.blame(rctx, err)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		c.writeUnanswered(method, shown, err)
		return nil, nil, false, 0, fmt.Errorf("%s %s: %w", method, shown, err)
	}
	raw, truncated, err := readBody(resp.Body, c.cfg.MaxBodyBytes)
	resp.Body.Close()
	dur := time.Since(start)
	if err != nil {
		if ctx.Err() == nil && sameOrigin(u, c.base) {
			c.s.transportErrors.Add(1)
			c.s.blame(rctx, err)
		}
		c.writeUnanswered(method, shown, err)
		return nil, nil, false, 0, fmt.Errorf("%s %s: read body: %w", method, shown, err)
	}
	if truncated {
		c.s.truncated.Add(1)
	}
	return resp, raw, truncated, dur, nil
}

// blame counts a failed request against the target when the failure is
// its misbehaviour: no complete answer within the timeout (rctx, the
// request's own deadline, ran out), or headers past maxHeaderBytes.
func (s *shared) blame(rctx context.Context, err error) {
	switch {
	case errors.Is(rctx.Err(), context.DeadlineExceeded) || isTimeout(err):
		s.timeouts.Add(1)
	case strings.Contains(err.Error(), "server response headers exceeded"):
		// net/http has no sentinel for this; its message is stable.
		s.bigHeaders.Add(1)
	}
}

// isTimeout reports a network timeout anywhere in err's chain.
func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}

// newRequest avoids handing http.NewRequest a typed nil reader, which it
// would take for a body.
func newRequest(ctx context.Context, method string, u *url.URL, body *bytes.Reader) (*http.Request, error) {
	if body == nil {
		return http.NewRequestWithContext(ctx, method, u.String(), nil)
	}
	return http.NewRequestWithContext(ctx, method, u.String(), body)
}

// reserve takes one request from the budget; max <= 0 is unlimited.
func (s *shared) reserve(max int) bool {
	if max <= 0 {
		return true
	}
	return s.reserved.Add(1) <= int64(max)
}

// header builds what is sent: global headers, then the identity's, then
// the request's own, each replacing same-named ones before it. It returns
// the identity's credential generation the headers were taken from. For
// an anonymous request (id nil and Request.Identity Anonymous) every
// credential header is left out, global ones included.
func (c *Client) header(req *scan.Request, id *identity) (http.Header, uint64) {
	h := make(http.Header, len(c.cfg.Header)+len(req.Header)+1)
	anonymous := req.Identity == scan.Anonymous
	for k, v := range c.cfg.Header {
		if anonymous && c.s.credentialHeader(k) {
			continue
		}
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
	}
	var gen uint64
	if id != nil {
		var idh http.Header
		idh, gen = id.snapshot()
		for k, v := range idh {
			h[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
		}
	}
	for k, v := range req.Header {
		if len(v) == 0 {
			delete(h, http.CanonicalHeaderKey(k))
			continue
		}
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
	}
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = []string{c.cfg.UserAgent}
	}
	return h, gen
}

// resolve turns a request path into a URL in scope. A path is joined onto
// the base path without cleaning, so "..", "%2e" and double slashes reach
// the target as the check wrote them. With sameHost an absolute URL may
// leave the base's scheme and port, though not its host (see
// scan.Request.SameHost).
func (c *Client) resolve(p string, q url.Values, sameHost bool) (*url.URL, error) {
	if c.base == nil || c.base.Host == "" {
		return nil, errors.New("engine: no base URL")
	}
	var u *url.URL
	if hasScheme(p) {
		parsed, err := url.Parse(p)
		if err != nil {
			return nil, fmt.Errorf("parse request URL: %w", err)
		}
		if !sameOrigin(parsed, c.base) && !(sameHost && onHost(parsed, c.base)) {
			return nil, fmt.Errorf("%s: %w", redact.URL(p), scan.ErrOutOfScope)
		}
		u = parsed
	} else {
		path := strings.TrimSuffix(c.base.EscapedPath(), "/")
		switch {
		case p == "":
			path = c.base.EscapedPath()
		case strings.HasPrefix(p, "/"):
			path += p
		default:
			path += "/" + p
		}
		if path == "" {
			path = "/"
		}
		parsed, err := url.Parse(c.base.Scheme + "://" + c.base.Host + path)
		if err != nil {
			return nil, fmt.Errorf("parse request path %q: %w", p, err)
		}
		u = parsed
	}
	if len(q) > 0 {
		if u.RawQuery != "" {
			u.RawQuery += "&"
		}
		u.RawQuery += q.Encode()
	}
	return u, nil
}

// hasScheme reports whether p starts with "scheme:", making it an absolute
// URL rather than a path.
func hasScheme(p string) bool {
	for i := 0; i < len(p); i++ {
		ch := p[i]
		switch {
		case ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z':
		case i > 0 && (ch >= '0' && ch <= '9' || ch == '+' || ch == '-' || ch == '.'):
		case ch == ':':
			return i > 0 && strings.HasPrefix(p[i:], "://")
		default:
			return false
		}
	}
	return false
}

// sameOrigin compares scheme, host and port, filling in default ports.
func sameOrigin(a, b *url.URL) bool {
	return strings.EqualFold(a.Scheme, b.Scheme) &&
		strings.EqualFold(a.Hostname(), b.Hostname()) &&
		port(a) == port(b)
}

// onHost reports whether a is an http or https URL on b's host, whatever
// its port.
func onHost(a, b *url.URL) bool {
	s := strings.ToLower(a.Scheme)
	return (s == "http" || s == "https") && a.Host != "" && strings.EqualFold(a.Hostname(), b.Hostname())
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return "443"
	case "http":
		return "80"
	}
	return ""
}

// retryDelay is how long to wait before retrying a 429 or 503: the
// server's Retry-After (seconds or an HTTP date) when given, else an
// exponential backoff; never more than maxRetryWait.
func retryDelay(h http.Header, attempt int, now time.Time) time.Duration {
	d := firstBackoff << min(attempt, 10)
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if secs, err := strconv.Atoi(v); err == nil {
			d = time.Duration(max(secs, 0)) * time.Second
			if secs > int(maxRetryWait/time.Second) {
				d = maxRetryWait
			}
		} else if t, err := http.ParseTime(v); err == nil {
			d = max(t.Sub(now), 0)
		}
	}
	return min(d, maxRetryWait)
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
