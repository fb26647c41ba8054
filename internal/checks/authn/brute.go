package authn

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/fill"
	"github.com/merlonsec/merlon/internal/scan"
)

// Bounds of the brute-force check: wrong-password attempts per login
// operation, and login operations tried.
const (
	bruteAttempts = 10
	maxLoginOps   = 2
)

// LoginBruteForce reports login operations that let a client guess
// passwords as fast as it likes: a burst of failed logins for one username
// is answered without a 429, a lockout, a Retry-After or a CAPTCHA.
//
// The username is made up for the scan ("merlon-<random>"), never one of
// the configured identities', so a server that locks accounts locks no
// real one.
type LoginBruteForce struct{}

var _ scan.Check = LoginBruteForce{}

// Meta describes the check.
func (LoginBruteForce) Meta() scan.Meta {
	return scan.Meta{
		ID:          "authn.login-brute-force",
		Family:      "authn",
		Title:       "Login without brute-force protection",
		Category:    scan.API2BrokenAuthentication,
		CWE:         307,
		Severity:    scan.Medium,
		MinSeverity: scan.Medium,
		Active:      true,
		Description: fmt.Sprintf("Sends %d logins with wrong passwords for one made-up username to each login "+
			"operation (POST on a login, signin, token, auth or session path) and reports when none is throttled.", bruteAttempts),
	}
}

// Throttling signs in a login failure's body.
var throttleRe = regexp.MustCompile(`(?i)too many|rate.?limit|throttl|locked|lockout|captcha|try again (later|in)|temporarily (blocked|disabled|unavailable)|slow down`)

// failureRe recognises a failed login in a 200 or 400 body, to tell it
// from a request the endpoint did not understand.
var failureRe = regexp.MustCompile(`(?i)invalid|incorrect|wrong|credential|unauthori[sz]ed|not match|bad (username|password)|authentication failed|login failed`)

// Run tries each login operation.
func (c LoginBruteForce) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	s := probe.NewSender(h)
	var out []scan.Finding
	for _, lo := range loginOps(t.Operations) {
		if f, ok := c.try(ctx, t, s, lo); ok {
			out = append(out, f)
		}
		if s.Done() {
			break
		}
	}
	return out, s.Err()
}

// try sends the attempts to one login operation and judges them.
func (c LoginBruteForce) try(ctx context.Context, t *scan.Target, s *probe.Sender, lo login) (scan.Finding, bool) {
	user := "merlon-" + nonce()
	var first, last *scan.Exchange
	for i := range bruteAttempts {
		req := lo.request(t, user, fmt.Sprintf("merlon-wrong-%s-%d", nonce(), i))
		ex := s.Do(ctx, req)
		if ex == nil {
			return scan.Finding{}, false
		}
		if throttled(ex) || !failedLogin(ex) {
			// Slowed down, or the endpoint is not a login that
			// understood the request: nothing to report.
			return scan.Finding{}, false
		}
		if first == nil {
			first = ex
		}
		last = ex
	}
	f := probe.Finding(c.Meta(), t, probe.Name(lo.op), lo.user)
	f.Confidence = scan.Likely
	f.Description = fmt.Sprintf("%s answered %d logins with wrong passwords for the same username, sent back to back, "+
		"with no 429, no Retry-After, no lockout and no CAPTCHA. Passwords can be guessed (or sprayed over "+
		"many accounts) as fast as the network allows.", probe.Name(lo.op), bruteAttempts)
	f.Evidence = []scan.Evidence{
		probe.Evidence(first, "first wrong-password attempt", ""),
		probe.Evidence(last, fmt.Sprintf("attempt %d of %d: still not throttled", bruteAttempts, bruteAttempts), fmt.Sprint(last.Response.Status)),
	}
	return f, true
}

// throttled reports signs that the server slowed the client down.
func throttled(ex *scan.Exchange) bool {
	switch ex.Response.Status {
	case http.StatusTooManyRequests, http.StatusLocked, http.StatusServiceUnavailable:
		return true
	}
	if ex.Response.Header.Get("Retry-After") != "" {
		return true
	}
	for _, name := range []string{"X-RateLimit-Remaining", "RateLimit-Remaining", "X-Rate-Limit-Remaining"} {
		if strings.TrimSpace(ex.Response.Header.Get(name)) == "0" {
			return true
		}
	}
	return throttleRe.Match(ex.Response.Raw)
}

// failedLogin reports whether the answer is a refused login: 401 or 403,
// or a 200 or 400 whose body says the credentials were wrong. Anything
// else (404, 405, 415, 5xx, a validation error) means the attempt never
// reached the password check.
func failedLogin(ex *scan.Exchange) bool {
	switch st := ex.Response.Status; {
	case st == http.StatusUnauthorized || st == http.StatusForbidden:
		return true
	case st == http.StatusOK || st == http.StatusBadRequest:
		return failureRe.Match(ex.Response.Raw)
	}
	return false
}

// login is a login operation and the body fields that carry credentials.
type login struct {
	op         *scan.Operation
	user, pass string
	form       bool
	base       map[string]any
}

// loginPathWords mark a path as a login endpoint.
var loginPathWords = []string{"login", "signin", "sign-in", "sign_in", "token", "auth", "session"}

// loginOps finds the POST operations that look like logins: a login-like
// path and a body with a username-like and a password-like field (or no
// body schema at all, on a path that says login or signin, when
// username/password is assumed).
func loginOps(ops []*scan.Operation) []login {
	var out []login
	for _, op := range ops {
		if op == nil || !strings.EqualFold(op.Method, http.MethodPost) {
			continue
		}
		p := strings.ToLower(op.Path)
		if strings.Contains(p, "logout") || strings.Contains(p, "refresh") || strings.Contains(p, "revoke") || !containsAny(p, loginPathWords) {
			continue
		}
		lo := login{op: op}
		var schema *scan.Schema
		if op.RequestBody != nil {
			schema = op.RequestBody.Schema
			lo.form = strings.Contains(strings.ToLower(op.RequestBody.ContentType), "x-www-form-urlencoded")
		}
		if schema != nil && len(schema.Properties) > 0 {
			names := make([]string, 0, len(schema.Properties))
			for n := range schema.Properties {
				names = append(names, n)
			}
			sort.Strings(names)
			lo.user, lo.pass = credentialFields(names)
			if base, ok := fill.Body(schema).(map[string]any); ok {
				lo.base = base
			}
		} else if containsAny(p, []string{"login", "signin", "sign-in", "sign_in"}) {
			lo.user, lo.pass = "username", "password"
		}
		if lo.user == "" || lo.pass == "" {
			continue
		}
		out = append(out, lo)
		if len(out) == maxLoginOps {
			break
		}
	}
	return out
}

// credentialFields picks the username-like and password-like names.
func credentialFields(names []string) (user, pass string) {
	for _, pref := range []string{"username", "user", "login", "email"} {
		for _, n := range names {
			if user == "" && strings.Contains(strings.ToLower(n), pref) {
				user = n
			}
		}
	}
	for _, n := range names {
		l := strings.ToLower(n)
		if pass == "" && (strings.Contains(l, "pass") || l == "pwd") {
			pass = n
		}
	}
	return user, pass
}

// request builds one attempt: the schema's filled body with the
// credentials replaced, as JSON or a form.
func (lo login) request(t *scan.Target, user, pass string) *scan.Request {
	body := make(map[string]any, len(lo.base)+2)
	for k, v := range lo.base {
		body[k] = v
	}
	body[lo.user], body[lo.pass] = user, pass
	req := &scan.Request{
		Method:    http.MethodPost,
		Path:      probe.Path(t, lo.op, nil),
		Header:    http.Header{},
		Identity:  scan.Anonymous,
		Operation: lo.op,
		// The throttle is what this check looks for: see it, not wait it out.
		NoRetry: true,
	}
	if lo.form {
		v := url.Values{}
		for k, x := range body {
			v.Set(k, fmt.Sprint(x))
		}
		req.Body = []byte(v.Encode())
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}
	req.Body, _ = json.Marshal(body)
	req.Header.Set("Content-Type", "application/json")
	return req
}

func containsAny(s string, words []string) bool {
	for _, w := range words {
		if strings.Contains(s, w) {
			return true
		}
	}
	return false
}
