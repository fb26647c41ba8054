package engine

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/merlonsec/merlon/internal/redact"
	"github.com/merlonsec/merlon/internal/scan"
)

// Login is how an identity obtains its credentials: one request whose
// response carries a token (in a JSON body or a cookie). The engine logs in
// when asked (Client.Login), again when a request sent as the identity is
// answered 401, and shortly before a JWT token's exp.
//
// A login request goes through the same scope and budget as every other
// request, but it is sent even without Active: a login POST changes no
// data the scan looks at, and without it the identity could not act at all.
type Login struct {
	// Method defaults to POST.
	Method string
	// Path is joined onto the scan's base URL, or is an absolute URL in scope.
	Path   string
	Header http.Header
	// Body is sent as is; set Content-Type in Header.
	Body []byte
	// TokenJSON is a path to the token in a JSON response: "access_token",
	// "$.data.token" or "$['auth'].tokens[0]".
	TokenJSON string
	// TokenHeader is the header the token is sent in; default Authorization.
	TokenHeader string
	// TokenPrefix goes before the token: default "Bearer " when TokenHeader
	// is Authorization, else nothing.
	TokenPrefix string
	// Cookie names a cookie set by the login response; the identity then
	// sends it in its Cookie header. Used when TokenJSON is empty.
	Cookie string
}

// Errors of the login flow.
var (
	// ErrLoginFailed: the login request did not answer 2xx.
	ErrLoginFailed = errors.New("login failed")
	// ErrNoToken: the login response did not hold the configured token.
	ErrNoToken = errors.New("login response holds no token")
)

const (
	// refreshSkew is how long before a JWT's exp the token is renewed.
	refreshSkew = 30 * time.Second
	// minSecretLen is the shortest credential value scrubbed from all
	// recorded text; shorter ones (a user ID in X-User) would blank out
	// unrelated text, and are still redacted in the headers that carry them.
	minSecretLen = 8
)

// identity is one configured identity and its current credentials.
type identity struct {
	name  string
	role  string
	login *Login

	// loginMu serialises logins of this identity.
	loginMu sync.Mutex

	mu        sync.RWMutex
	headers   http.Header
	gen       uint64    // bumped on each successful login
	exp       time.Time // the token's exp, zero when unknown
	lastLogin time.Time
}

func (id *identity) snapshot() (http.Header, uint64) {
	id.mu.RLock()
	defer id.mu.RUnlock()
	return id.headers, id.gen
}

// expiring reports whether the token should be renewed before use.
// minRelogin stops a token born nearly expired from causing a login
// before every request.
func (id *identity) expiring(now time.Time, minRelogin time.Duration) (bool, uint64) {
	id.mu.RLock()
	defer id.mu.RUnlock()
	if id.login == nil || id.exp.IsZero() || now.Sub(id.lastLogin) < minRelogin {
		return false, id.gen
	}
	return now.After(id.exp.Add(-refreshSkew)), id.gen
}

// secrets are credential values scrubbed from everything the engine
// records, whatever header or body they turn up in.
type secrets struct {
	mu   sync.RWMutex
	vals []string // longest first, so a value containing another goes first
}

func (s *secrets) add(vals ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range vals {
		v = strings.TrimSpace(v)
		if len(v) < minSecretLen || strings.Contains(v, redact.Placeholder) {
			continue
		}
		dup := false
		for _, have := range s.vals {
			if have == v {
				dup = true
				break
			}
		}
		if !dup {
			s.vals = append(s.vals, v)
		}
	}
	sort.Slice(s.vals, func(i, j int) bool { return len(s.vals[i]) > len(s.vals[j]) })
}

func (s *secrets) scrub(text string) string {
	if text == "" {
		return text
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, v := range s.vals {
		if strings.Contains(text, v) {
			text = strings.ReplaceAll(text, v, redact.Placeholder)
		}
	}
	return text
}

func (s *secrets) scrubHeader(h http.Header) {
	for k, vs := range h {
		for i, v := range vs {
			vs[i] = s.scrub(v)
		}
		h[k] = vs
	}
}

// headerSecrets lists the secret parts of a credential header value: the
// value, the credential after an auth scheme, and each cookie value.
func headerSecrets(name, v string) []string {
	out := []string{v}
	if _, cred, ok := strings.Cut(strings.TrimSpace(v), " "); ok {
		out = append(out, cred)
	}
	if http.CanonicalHeaderKey(name) == "Cookie" {
		for _, part := range strings.Split(v, ";") {
			if _, val, ok := strings.Cut(part, "="); ok {
				out = append(out, val)
			}
		}
	}
	return out
}

// credentialHeader reports whether a global header carries credentials
// and must be stripped from anonymous requests.
func (s *shared) credentialHeader(name string) bool {
	c := http.CanonicalHeaderKey(name)
	return redact.CredentialHeader(c) || s.idHeaderNames[c]
}

// resolveIdentity picks the identity a request acts as and the name the
// exchange records. A nil identity with name "" means global headers only.
func (c *Client) resolveIdentity(name string) (*identity, string, error) {
	switch name {
	case scan.Anonymous:
		return nil, scan.Anonymous, nil
	case "":
		if len(c.s.order) == 0 {
			return nil, "", nil
		}
		id := c.s.identities[c.s.order[0]]
		return id, id.name, nil
	}
	id, ok := c.s.identities[name]
	if !ok {
		return nil, "", fmt.Errorf("unknown identity %q", name)
	}
	return id, id.name, nil
}

// Identities returns every configured identity, in configured order, with
// its current credentials. Anonymous is never listed.
func (c *Client) Identities() []scan.Identity {
	out := make([]scan.Identity, 0, len(c.s.order))
	for _, name := range c.s.order {
		id := c.s.identities[name]
		h, _ := id.snapshot()
		out = append(out, scan.Identity{Name: id.name, Role: id.role, Headers: h.Clone()})
	}
	return out
}

// Login runs the login flow of the named identity now. It returns nil at
// once for an identity with static credentials, and an error wrapping
// ErrLoginFailed or ErrNoToken when the flow did not yield a token.
func (c *Client) Login(ctx context.Context, name string) error {
	id, ok := c.s.identities[name]
	if !ok {
		return fmt.Errorf("unknown identity %q", name)
	}
	if id.login == nil {
		return nil
	}
	_, gen := id.snapshot()
	return c.relogin(ctx, id, gen)
}

// LoginFailure says that renewing an identity's credentials failed during
// the scan, after the preflight had logged it in. The requests that
// followed went out with credentials the API had already refused, so the
// checks acting as that identity saw less than they should have.
type LoginFailure struct {
	Identity string
	// Count is how many renewals failed.
	Count int
	// Last is the last failure's error, with credentials redacted.
	Last string
}

// loginFailed records a renewal that failed mid-scan.
func (s *shared) loginFailed(name string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failedLogins == nil {
		s.failedLogins = make(map[string]*LoginFailure)
	}
	f := s.failedLogins[name]
	if f == nil {
		f = &LoginFailure{Identity: name}
		s.failedLogins[name] = f
	}
	f.Count++
	f.Last = s.secrets.scrub(err.Error())
}

// LoginFailures returns the identities whose credentials could not be
// renewed during the scan, in configured order; nil when every renewal
// worked. Failures of Login itself are returned to its caller instead.
func (c *Client) LoginFailures() []LoginFailure {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	var out []LoginFailure
	for _, name := range c.s.order {
		if f := c.s.failedLogins[name]; f != nil {
			out = append(out, *f)
		}
	}
	return out
}

// relogin logs id in again unless another request already did so since
// generation seen.
func (c *Client) relogin(ctx context.Context, id *identity, seen uint64) error {
	id.loginMu.Lock()
	defer id.loginMu.Unlock()
	if _, gen := id.snapshot(); gen != seen {
		return nil
	}
	return c.login(ctx, id)
}

// login sends id's login request and stores the credentials it yields.
func (c *Client) login(ctx context.Context, id *identity) error {
	l := id.login
	method := strings.ToUpper(l.Method)
	if method == "" {
		method = http.MethodPost
	}
	lc := c.WithBase(c.s.loginBase)
	u, err := lc.resolve(l.Path, nil, false)
	if err != nil {
		if errors.Is(err, scan.ErrOutOfScope) {
			c.s.refused.Add(1)
		}
		return fmt.Errorf("login: %w", err)
	}
	// The login carries no credentials but its own.
	h := make(http.Header)
	for k, v := range c.cfg.Header {
		if !c.s.credentialHeader(k) {
			h[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
		}
	}
	for k, v := range l.Header {
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
	}
	if _, ok := h["User-Agent"]; !ok {
		h["User-Agent"] = []string{c.cfg.UserAgent}
	}
	shown := redact.URL(u.String())
	resp, raw, truncated, dur, err := c.roundTrip(ctx, method, u, shown, h, l.Body)
	if err != nil {
		return fmt.Errorf("login: %w", err)
	}

	status := resp.StatusCode
	var token, value string
	if status >= 200 && status < 300 {
		token, err = extractToken(l, resp, raw)
		if err == nil {
			prefix := l.TokenPrefix
			header := http.CanonicalHeaderKey(l.TokenHeader)
			if header == "" {
				header = "Authorization"
			}
			if l.TokenJSON == "" {
				header = "Cookie"
			} else if prefix == "" && header == "Authorization" {
				prefix = "Bearer "
			}
			value = prefix + token
			c.s.secrets.add(token, value)
			c.storeToken(id, header, token, value)
		}
	}

	// Recorded after the token is known, so that the token is scrubbed
	// from the very response that issued it. The request body is shown
	// with every value redacted: it is the password.
	recorded := c.exchange(method, shown, h, nil, resp, raw, truncated, dur, id.name)
	recorded.Request.Body = c.s.secrets.scrub(redactValues(l.Body))
	recorded.Curl = Curl(method, shown, recorded.Request.Header, recorded.Request.Body, c.cfg.Insecure)
	if c.cfg.Observer != nil {
		c.cfg.Observer(recorded)
	}

	switch {
	case status < 200 || status >= 300:
		return fmt.Errorf("%s %s answered %d: %w", method, shown, status, ErrLoginFailed)
	case err != nil:
		return fmt.Errorf("%s %s: %w", method, shown, err)
	}
	return nil
}

// storeToken puts a fresh token into id's headers.
func (c *Client) storeToken(id *identity, header, token, value string) {
	id.mu.Lock()
	defer id.mu.Unlock()
	h := id.headers.Clone()
	if h == nil {
		h = make(http.Header)
	}
	if header == "Cookie" {
		h.Set("Cookie", setCookie(h.Get("Cookie"), id.login.Cookie, token))
	} else {
		h.Set(header, value)
	}
	id.headers = h
	id.gen++
	id.lastLogin = time.Now()
	id.exp = jwtExpiry(token)
}

// setCookie replaces or adds name=value in a Cookie header value.
func setCookie(header, name, value string) string {
	var parts []string
	for _, p := range strings.Split(header, ";") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if k, _, _ := strings.Cut(p, "="); k == name {
			continue
		}
		parts = append(parts, p)
	}
	return strings.Join(append(parts, name+"="+value), "; ")
}

// extractToken finds the token in a login response.
func extractToken(l *Login, resp *http.Response, raw []byte) (string, error) {
	if l.TokenJSON != "" {
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			return "", fmt.Errorf("%w: the body is not JSON", ErrNoToken)
		}
		v, ok := JSONPath(doc, l.TokenJSON)
		if !ok {
			return "", fmt.Errorf("%w at %s", ErrNoToken, l.TokenJSON)
		}
		switch t := v.(type) {
		case string:
			if t != "" {
				return t, nil
			}
		case float64:
			return strconv.FormatFloat(t, 'f', -1, 64), nil
		}
		return "", fmt.Errorf("%w at %s (not a string)", ErrNoToken, l.TokenJSON)
	}
	if l.Cookie == "" {
		return "", fmt.Errorf("%w: neither a JSON path nor a cookie is configured", ErrNoToken)
	}
	for _, ck := range resp.Cookies() {
		if ck.Name == l.Cookie && ck.Value != "" {
			return ck.Value, nil
		}
	}
	return "", fmt.Errorf("%w: no cookie %q was set", ErrNoToken, l.Cookie)
}

// JSONPath follows a simple path into a decoded JSON document: dotted
// names and [index] or ['name'] steps, with an optional leading "$".
func JSONPath(doc any, path string) (any, bool) {
	p := strings.TrimPrefix(strings.TrimSpace(path), "$")
	cur := doc
	for p != "" {
		var key string
		idx := -1
		switch {
		case p[0] == '.':
			p = p[1:]
			continue
		case p[0] == '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return nil, false
			}
			inner := strings.TrimSpace(p[1:end])
			p = p[end+1:]
			if len(inner) >= 2 && (inner[0] == '\'' || inner[0] == '"') && inner[len(inner)-1] == inner[0] {
				key = inner[1 : len(inner)-1]
			} else {
				n, err := strconv.Atoi(inner)
				if err != nil {
					return nil, false
				}
				idx = n
			}
		default:
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			key, p = p[:end], p[end:]
		}
		if idx >= 0 {
			arr, ok := cur.([]any)
			if !ok || idx >= len(arr) {
				return nil, false
			}
			cur = arr[idx]
			continue
		}
		obj, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = obj[key]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// jwtExpiry reads the exp claim of a JWT without verifying it; the zero
// time when the token is not a JWT or has no exp.
func jwtExpiry(token string) time.Time {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Exp == "" {
		return time.Time{}
	}
	f, err := claims.Exp.Float64()
	if err != nil {
		return time.Time{}
	}
	return time.Unix(int64(f), 0)
}

// redactValues hides every value of a login body, keeping JSON keys and
// form field names so the reader sees its shape.
func redactValues(body []byte) string {
	if len(body) == 0 {
		return ""
	}
	var doc any
	if err := json.Unmarshal(body, &doc); err == nil {
		out, err := json.Marshal(redactTree(doc))
		if err == nil {
			return string(out)
		}
	}
	if q, err := url.ParseQuery(string(body)); err == nil && strings.Contains(string(body), "=") {
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = url.QueryEscape(k) + "=" + redact.Placeholder
		}
		return strings.Join(parts, "&")
	}
	return redact.Placeholder
}

func redactTree(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			t[k] = redactTree(e)
		}
		return t
	case []any:
		for i, e := range t {
			t[i] = redactTree(e)
		}
		return t
	}
	return redact.Placeholder
}

// bodySecrets lists the values of a login body, to scrub them wherever
// they are echoed.
func bodySecrets(body []byte) []string {
	var out []string
	var doc any
	if err := json.Unmarshal(body, &doc); err == nil {
		var walk func(key string, v any)
		walk = func(key string, v any) {
			switch t := v.(type) {
			case map[string]any:
				for k, e := range t {
					walk(k, e)
				}
			case []any:
				for _, e := range t {
					walk(key, e)
				}
			case string:
				if redact.IsSecretKey(key) {
					out = append(out, t)
				}
			}
		}
		walk("", doc)
		return out
	}
	if q, err := url.ParseQuery(string(body)); err == nil {
		for k, vs := range q {
			if redact.IsSecretKey(k) {
				out = append(out, vs...)
			}
		}
	}
	return out
}
