package authn

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"sort"
	"strings"

	"github.com/golang-jwt/jwt/v5"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// harvestNames are the value-bank names under which a token issued by the
// API in a response body is looked for.
var harvestNames = []string{"access_token", "accessToken", "id_token", "idToken", "token", "jwt"}

// token is a JWT and where it travels: the identity that sends it and the
// header (or cookie) that carries it.
type token struct {
	raw string
	// identity is the identity's name, or "" for a token passed in a
	// global header or harvested from a response.
	identity string
	// global is set for a token passed in a global header (-H).
	global bool
	header string // canonical header name: Authorization, Cookie, X-Access-Token…
	cookie string // the cookie's name when header is Cookie
	prefix string // what goes before the token in the header: "Bearer "
	jose   map[string]any
	claims jwt.MapClaims
	parts  []string // the three encoded segments
}

// alg is the token's signing algorithm as its header states it.
func (tk *token) alg() string {
	s, _ := tk.jose["alg"].(string)
	return s
}

// location is where the token travels, for findings: "Authorization",
// "Cookie: session" or a header name. It holds no secret.
func (tk *token) location() string {
	if tk.header == "Cookie" {
		return "Cookie: " + tk.cookie
	}
	return tk.header
}

// describe names the token for evidence notes: "alice's own token, as
// the only credential".
func (tk *token) describe() string {
	return tk.source() + ", as the only credential"
}

// source names where the token came from: "alice's own token", "the
// token passed with --header" or "the token seen in a response".
func (tk *token) source() string {
	switch {
	case tk.identity != "":
		return tk.identity + "'s own token"
	case tk.global:
		return "the token passed with --header"
	}
	return "the token seen in a response"
}

// value is the header value that sends raw the way tk travels.
func (tk *token) value(raw string) string {
	if tk.header == "Cookie" {
		return tk.cookie + "=" + raw
	}
	return tk.prefix + raw
}

// request turns req into one carrying raw as its only credential: it is
// sent as scan.Anonymous, so neither the identity's nor the user's global
// credentials ride along, and redirects are not followed (a redirect to
// a login page is a refusal, not a 2xx).
func (tk *token) request(req *scan.Request, raw string) *scan.Request {
	req.Identity = scan.Anonymous
	req.NoRedirect = true
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set(tk.header, tk.value(raw))
	return req
}

// parseToken reads raw as a JWT without verifying it; nil when it is not
// one. Numbers stay json.Number, so that a re-encoded token keeps them
// exactly as the API wrote them.
func parseToken(raw string) *token {
	raw = strings.TrimSpace(raw)
	if strings.Count(raw, ".") != 2 || !strings.HasPrefix(raw, "eyJ") {
		return nil
	}
	claims := jwt.MapClaims{}
	t, parts, err := jwt.NewParser(jwt.WithJSONNumber()).ParseUnverified(raw, claims)
	if t == nil || parts == nil || t.Header == nil {
		return nil
	}
	// An unknown or missing alg is an error to the library but still a
	// token to inspect (alg "none" is one).
	if err != nil && t.Header["alg"] == nil {
		return nil
	}
	if _, ok := t.Header["alg"].(string); !ok {
		return nil
	}
	return &token{raw: raw, jose: t.Header, claims: claims, parts: parts}
}

// tokens returns the JWTs the scan can use: those in each identity's
// headers, in identity order, then those in the global headers (-H), then
// those the value bank harvested from responses. A token is listed once.
func tokens(t *scan.Target) []*token {
	var out []*token
	seen := make(map[string]bool)
	add := func(tk *token) {
		if tk == nil || seen[tk.raw] {
			return
		}
		seen[tk.raw] = true
		out = append(out, tk)
	}
	fromHeader := func(identity string, h http.Header) {
		names := make([]string, 0, len(h))
		for k := range h {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			name := http.CanonicalHeaderKey(k)
			for _, v := range h[k] {
				for _, tk := range headerTokens(name, v) {
					tk.identity, tk.global = identity, identity == ""
					add(tk)
				}
			}
		}
	}
	for _, id := range t.Identities {
		fromHeader(id.Name, id.Headers)
	}
	fromHeader("", t.Header)
	if t.Values != nil {
		for _, n := range harvestNames {
			for _, v := range t.Values.All(n) {
				if tk := parseToken(v); tk != nil {
					tk.header, tk.prefix = "Authorization", "Bearer "
					add(tk)
				}
			}
		}
	}
	return out
}

// headerTokens finds JWTs in one header value.
func headerTokens(name, v string) []*token {
	switch name {
	case "Cookie":
		cookies, err := http.ParseCookie(v)
		if err != nil {
			return nil
		}
		var out []*token
		for _, c := range cookies {
			if tk := parseToken(c.Value); tk != nil {
				tk.header, tk.cookie = name, c.Name
				out = append(out, tk)
			}
		}
		return out
	case "Authorization":
		scheme, cred, ok := strings.Cut(strings.TrimSpace(v), " ")
		if !ok {
			return nil
		}
		if tk := parseToken(cred); tk != nil {
			tk.header, tk.prefix = name, scheme+" "
			return []*token{tk}
		}
		return nil
	}
	if tk := parseToken(v); tk != nil {
		tk.header = name
		return []*token{tk}
	}
	return nil
}

// perLocation keeps the first token of each location, at most n: the
// forging checks need one genuine token per place a token travels, not
// one per identity.
func perLocation(tks []*token, n int) []*token {
	var out []*token
	seen := make(map[string]bool)
	for _, tk := range tks {
		if seen[tk.location()] || len(out) >= n {
			continue
		}
		seen[tk.location()] = true
		out = append(out, tk)
	}
	return out
}

// segment base64url-encodes v's JSON, as JWT segments are.
func segment(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(bytes.TrimRight(buf.Bytes(), "\n"))
}

// joseWith returns a copy of tk's header with alg replaced.
func (tk *token) joseWith(alg string) map[string]any {
	h := make(map[string]any, len(tk.jose))
	for k, v := range tk.jose {
		h[k] = v
	}
	h["alg"] = alg
	return h
}

// claimsWith returns a copy of tk's claims with set applied; a nil value
// deletes the claim.
func (tk *token) claimsWith(set map[string]any) jwt.MapClaims {
	c := make(jwt.MapClaims, len(tk.claims)+len(set))
	for k, v := range tk.claims {
		c[k] = v
	}
	for k, v := range set {
		if v == nil {
			delete(c, k)
			continue
		}
		c[k] = v
	}
	return c
}

// sign encodes claims under tk's header and signs them with key by alg
// (an HMAC algorithm).
func (tk *token) sign(alg string, claims jwt.MapClaims, key []byte) (string, error) {
	m := jwt.GetSigningMethod(alg)
	t := jwt.NewWithClaims(m, claims)
	t.Header = tk.joseWith(alg)
	return t.SignedString(key)
}

// probeOp is an operation that proves a token matters: it answers 2xx to
// the genuine token alone and 401 or 403 to no credentials.
type probeOp struct {
	op *scan.Operation
	// ok and denied are the exchanges that showed it.
	ok, denied *scan.Exchange
	// genuine describes the genuine token for evidence notes.
	genuine string
}

// maxProbeCandidates bounds the search for a probe operation: two
// requests per candidate.
const maxProbeCandidates = 6

// findProbe looks for tk's probe operation among the GET operations:
// those the spec marks as secured first, then those without path
// parameters. It returns nil when none qualifies.
func findProbe(ctx context.Context, t *scan.Target, s *probe.Sender, tk *token) *probeOp {
	var cands []*scan.Operation
	for _, op := range probe.Gets(t, 0) {
		if op.Security != nil && len(op.Security) == 0 {
			continue // explicitly public
		}
		cands = append(cands, op)
	}
	// Secured before undeclared, the caller's own resources (/me) first
	// and admin functions last: a probe must answer the genuine token
	// whatever its role, and evidence reads best on the caller's data.
	rank := func(op *scan.Operation) int {
		r := 0
		if !secured(op) {
			r += 4
		}
		if len(scan.PathParams(op.Path)) > 0 {
			r += 2
		}
		p := strings.ToLower(op.Path)
		switch {
		case strings.Contains(p, "admin"):
			r += 8
		case probe.SelfPath(p):
			r--
		}
		return r
	}
	sort.SliceStable(cands, func(i, j int) bool { return rank(cands[i]) < rank(cands[j]) })
	if len(cands) > maxProbeCandidates {
		cands = cands[:maxProbeCandidates]
	}
	for _, op := range cands {
		ok := s.Do(ctx, tk.request(probe.Get(t, op), tk.raw))
		if ok == nil || !success(ok) {
			continue
		}
		anon := probe.Get(t, op)
		anon.Identity = scan.Anonymous
		anon.NoRedirect = true
		denied := s.Do(ctx, anon)
		if denied == nil {
			continue
		}
		if st := denied.Response.Status; st == http.StatusUnauthorized || st == http.StatusForbidden {
			return &probeOp{op: op, ok: ok, denied: denied, genuine: tk.describe()}
		}
	}
	return nil
}

// try sends forged in place of the genuine token to p's operation.
func (p *probeOp) try(ctx context.Context, t *scan.Target, s *probe.Sender, tk *token, forged string) *scan.Exchange {
	return s.Do(ctx, tk.request(probe.Get(t, p.op), forged))
}

// accepted judges a forged token's exchange against the genuine one: not
// accepted unless 2xx; confirmed when the body is the genuine token's
// (the API took the forgery for the real user), else likely.
func (p *probeOp) accepted(ex *scan.Exchange) (scan.Confidence, bool) {
	if ex == nil || !success(ex) {
		return 0, false
	}
	if sameBody(ex.Response.Raw, p.ok.Response.Raw) {
		return scan.Confirmed, true
	}
	return scan.Likely, true
}

// evidence is the probe's two exchanges followed by the forged one.
func (p *probeOp) evidence(forged *scan.Exchange, note, matched string) []scan.Evidence {
	return []scan.Evidence{
		probe.Evidence(p.ok, p.genuine+": accepted", ""),
		probe.Evidence(p.denied, "no credentials: refused", ""),
		probe.Evidence(forged, note, matched),
	}
}

func success(ex *scan.Exchange) bool {
	return ex.Response.Status >= 200 && ex.Response.Status < 300
}

// sameBody compares two bodies as JSON when both are JSON (so key order
// and spacing do not matter), else byte for byte.
func sameBody(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) == nil && json.Unmarshal(b, &vb) == nil {
		ja, _ := json.Marshal(va)
		jb, _ := json.Marshal(vb)
		return bytes.Equal(ja, jb)
	}
	return bytes.Equal(bytes.TrimSpace(a), bytes.TrimSpace(b))
}

// secured reports whether the spec requires credentials for op: at least
// one security requirement and no empty one (an empty requirement makes
// authentication optional).
func secured(op *scan.Operation) bool {
	if len(op.Security) == 0 {
		return false
	}
	for _, req := range op.Security {
		if len(req) == 0 {
			return false
		}
	}
	return true
}

// finding starts a finding of m about tk.
func finding(m scan.Meta, t *scan.Target, tk *token) scan.Finding {
	return probe.Finding(m, t, "", tk.location())
}
