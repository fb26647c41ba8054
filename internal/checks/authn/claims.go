package authn

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// JWTNoExpiry reports tokens without an exp claim: they are valid until
// the signing key changes.
type JWTNoExpiry struct{}

var _ scan.Check = JWTNoExpiry{}

// Meta describes the check.
func (JWTNoExpiry) Meta() scan.Meta {
	return scan.Meta{
		ID:          "authn.jwt-no-expiry",
		Family:      "authn",
		Title:       "JWT without expiry",
		Category:    scan.API2BrokenAuthentication,
		CWE:         613,
		Severity:    scan.Medium,
		MinSeverity: scan.Medium,
		Description: "Reads the claims of each identity's JWT (and of tokens seen in responses) and reports " +
			"tokens that have no exp claim.",
	}
}

// Run inspects every token; it sends one request per reported place, to
// show the token in use.
func (c JWTNoExpiry) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	s := probe.NewSender(h)
	var out []scan.Finding
	for _, g := range byLocation(tokens(t), func(tk *token) bool { _, ok := tk.claims["exp"]; return !ok }) {
		ex := sendToken(ctx, t, s, g.first)
		if ex == nil {
			continue
		}
		f := finding(c.Meta(), t, g.first)
		f.Confidence = scan.Confirmed
		f.Description = fmt.Sprintf("The JWT sent in %s (by %s) has no exp claim, so it never expires: "+
			"a leaked or stolen token works until the signing key is changed.", g.first.location(), g.who())
		f.Evidence = []scan.Evidence{probe.Evidence(ex, "a request with the token; its claims: "+claimNames(g.first.claims), "no exp claim")}
		out = append(out, f)
	}
	return out, s.Err()
}

// JWTSensitiveClaims reports tokens whose claims carry personal or secret
// data. A JWT's payload is only base64-encoded: whoever holds the token
// (browser storage, logs, proxies) reads it.
type JWTSensitiveClaims struct{}

var _ scan.Check = JWTSensitiveClaims{}

// Meta describes the check.
func (JWTSensitiveClaims) Meta() scan.Meta {
	return scan.Meta{
		ID:          "authn.jwt-sensitive-claims",
		Family:      "authn",
		Title:       "Sensitive data in JWT claims",
		Category:    scan.API2BrokenAuthentication,
		CWE:         312,
		Severity:    scan.Medium,
		MinSeverity: scan.Low,
		Description: "Reads the claims of each JWT and reports password hashes, secrets, national ID and card " +
			"numbers (medium) and email addresses (low). Claim values are never reported, only their names.",
	}
}

// Run inspects every token; it sends one request per reported place.
func (c JWTSensitiveClaims) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	s := probe.NewSender(h)
	var out []scan.Finding
	for _, g := range byLocation(tokens(t), func(tk *token) bool { return len(sensitive(tk.claims)) > 0 }) {
		kinds := make(map[string]string) // claim path -> kind, over all the place's tokens
		for _, tk := range g.tokens {
			for k, v := range sensitive(tk.claims) {
				kinds[k] = v
			}
		}
		ex := sendToken(ctx, t, s, g.first)
		if ex == nil {
			continue
		}
		names := make([]string, 0, len(kinds))
		sev := scan.Low
		for k, kind := range kinds {
			names = append(names, k+" ("+kind+")")
			if kind != kindEmail {
				sev = scan.Medium
			}
		}
		sort.Strings(names)
		f := finding(c.Meta(), t, g.first)
		f.Severity = sev
		f.Confidence = scan.Confirmed
		f.Description = fmt.Sprintf("The JWT sent in %s (by %s) carries %s in its claims. A JWT payload is "+
			"encoded, not encrypted: anyone who sees the token reads them.", g.first.location(), g.who(), strings.Join(names, ", "))
		f.Evidence = []scan.Evidence{probe.Evidence(ex, "a request with the token", strings.Join(names, ", "))}
		out = append(out, f)
	}
	return out, s.Err()
}

// group is the tokens that travel in one place.
type group struct {
	first  *token
	tokens []*token
}

// who names the identities that send the group's tokens.
func (g group) who() string {
	var names []string
	seen := make(map[string]bool)
	for _, tk := range g.tokens {
		n := tk.identity
		if n == "" {
			n = tk.source()
		}
		if !seen[n] {
			seen[n] = true
			names = append(names, n)
		}
	}
	return strings.Join(names, ", ")
}

// byLocation groups the tokens that match keep by where they travel, in
// first-seen order.
func byLocation(tks []*token, keep func(*token) bool) []group {
	var out []group
	idx := make(map[string]int)
	for _, tk := range tks {
		if !keep(tk) {
			continue
		}
		i, ok := idx[tk.location()]
		if !ok {
			idx[tk.location()] = len(out)
			out = append(out, group{first: tk})
			i = len(out) - 1
		}
		out[i].tokens = append(out[i].tokens, tk)
	}
	return out
}

// sendToken sends one GET with tk, for evidence: as its identity when it
// has one (the request the scan would make anyway), else with the token
// as the only credential. The target is the first GET operation, or the
// base URL.
func sendToken(ctx context.Context, t *scan.Target, s *probe.Sender, tk *token) *scan.Exchange {
	var op *scan.Operation
	if ops := probe.Gets(t, 1); len(ops) > 0 {
		op = ops[0]
	}
	req := probe.Get(t, op)
	if tk.identity != "" {
		req.Identity = tk.identity
		return s.Do(ctx, req)
	}
	return s.Do(ctx, tk.request(req, tk.raw))
}

// claimNames lists a token's claim names, sorted.
func claimNames(c map[string]any) string {
	names := make([]string, 0, len(c))
	for k := range c {
		names = append(names, k)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// Kinds of sensitive claims.
const (
	kindEmail    = "email address"
	kindPassword = "password or password hash"
	kindSecret   = "secret"
	kindNationID = "national ID number"
	kindCard     = "payment card number"
)

var (
	emailRe = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$`)
	ssnRe   = regexp.MustCompile(`^\d{3}-\d{2}-\d{4}$`)
	// hashRe matches modular-crypt password hashes: bcrypt, scrypt,
	// argon2, sha-crypt, pbkdf2 in passlib's and Django's spellings.
	hashRe  = regexp.MustCompile(`^(\$(2[abxy]?|argon2(i|d|id)|scrypt|[56]|pbkdf2[-_a-z0-9]*)\$|(pbkdf2_sha(1|256|512)|argon2|bcrypt(_sha256)?)\$)`)
	digitRe = regexp.MustCompile(`^[0-9 -]{13,23}$`)
)

// Claim names, lower-cased with _ and - removed, that say what they hold.
var (
	passwordNames = []string{"password", "passwd", "pwd", "passhash", "pwhash"}
	secretNames   = []string{"secret", "apikey", "privatekey", "clientsecret", "accesskey"}
	nationNames   = []string{"ssn", "socialsecurity", "nationalid", "taxid", "passportnumber"}
	cardNames     = []string{"cardnumber", "creditcard", "ccnumber", "pan", "cvv", "cvc"}
)

// sensitive returns the claims (dotted paths for nested ones) that hold
// sensitive data, with their kind. Registered claims (sub, iss, aud…)
// are read like any other: a sub that is an email address counts.
func sensitive(claims map[string]any) map[string]string {
	out := make(map[string]string)
	var walk func(path string, v any, depth int)
	walk = func(path string, v any, depth int) {
		if depth > 4 {
			return
		}
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				p := k
				if path != "" {
					p = path + "." + k
				}
				walk(p, e, depth+1)
			}
			return
		case []any:
			for _, e := range x {
				walk(path, e, depth+1)
			}
			return
		}
		if kind := classify(path, v); kind != "" {
			out[path] = kind
		}
	}
	walk("", map[string]any(claims), 0)
	return out
}

// classify says what kind of sensitive data a claim holds, by its name
// and its value; "" for none.
func classify(path string, v any) string {
	name := path
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	n := strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(name))
	str := strings.TrimSpace(fmt.Sprint(v))
	if v == nil || str == "" || str == "false" || str == "true" {
		return ""
	}
	has := func(words []string) bool {
		for _, w := range words {
			if strings.Contains(n, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has(passwordNames) && isString(v) || hashRe.MatchString(str):
		return kindPassword
	case has(secretNames):
		return kindSecret
	case has(nationNames) || ssnRe.MatchString(str):
		return kindNationID
	case (has(cardNames) || digitRe.MatchString(str)) && luhn(str):
		return kindCard
	case emailRe.MatchString(str):
		return kindEmail
	}
	return ""
}

// luhn reports whether s (digits with optional spaces or dashes) is 13 to
// 19 digits passing the Luhn checksum card numbers carry.
func luhn(s string) bool {
	var digits []int
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits = append(digits, int(r-'0'))
		case r == ' ' || r == '-':
		default:
			return false
		}
	}
	if len(digits) < 13 || len(digits) > 19 {
		return false
	}
	sum := 0
	for i := range digits {
		d := digits[len(digits)-1-i]
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

func isString(v any) bool { _, ok := v.(string); return ok }
