// Package redact removes secrets from what Merlon records, so that evidence
// in a report (headers, bodies, curl lines) can be shared without handing
// out the credentials used to scan or the secrets the target leaked.
//
// Redaction keeps structure: a JSON key, a cookie name or an auth scheme
// stays visible and only the value becomes Placeholder, so a reader still
// sees what was there. Every function is idempotent: redacting redacted
// text changes nothing.
package redact

import (
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
)

// Placeholder replaces every secret value.
const Placeholder = "[REDACTED]"

// secretHeaders are redacted by exact (canonical) name.
var secretHeaders = map[string]bool{
	"Authorization":       true,
	"Proxy-Authorization": true,
	"X-Api-Key":           true,
	"Api-Key":             true,
	"X-Auth-Token":        true,
	"X-Access-Token":      true,
	"X-Csrf-Token":        true,
}

// secretHeaderWords make any header whose lower-cased name contains one of
// them secret: custom auth headers are named in too many ways to list.
var secretHeaderWords = []string{"token", "secret", "apikey", "api-key", "api_key", "password", "session"}

// SecretHeader reports whether a header of that name carries a secret.
func SecretHeader(name string) bool {
	if secretHeaders[http.CanonicalHeaderKey(name)] {
		return true
	}
	lower := strings.ToLower(name)
	for _, w := range secretHeaderWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// CredentialHeader reports whether a header of that name carries
// credentials: a secret header or Cookie.
func CredentialHeader(name string) bool {
	return http.CanonicalHeaderKey(name) == "Cookie" || SecretHeader(name)
}

// HasCredentials reports whether h carries any credential header.
func HasCredentials(h http.Header) bool {
	for k := range h {
		if CredentialHeader(k) {
			return true
		}
	}
	return false
}

// Header returns a copy of h with secret values replaced by Placeholder.
// Cookie and Set-Cookie keep cookie names and attributes; Authorization
// keeps its scheme ("Bearer [REDACTED]"). Other headers pass through
// String, so a token echoed in an unexpected header is still caught.
func Header(h http.Header) http.Header {
	if h == nil {
		return nil
	}
	out := make(http.Header, len(h))
	for name, vals := range h {
		cp := make([]string, len(vals))
		for i, v := range vals {
			cp[i] = headerValue(name, v)
		}
		out[name] = cp
	}
	return out
}

func headerValue(name, v string) string {
	if v == "" {
		return v
	}
	switch http.CanonicalHeaderKey(name) {
	case "Cookie":
		return cookies(v)
	case "Set-Cookie":
		return setCookie(v)
	case "Authorization", "Proxy-Authorization":
		return authorization(v)
	}
	if SecretHeader(name) {
		return Placeholder
	}
	return String(v)
}

// cookies redacts a Cookie header: "a=1; b=2" becomes
// "a=[REDACTED]; b=[REDACTED]".
func cookies(v string) string {
	parts := strings.Split(v, ";")
	for i, p := range parts {
		parts[i] = cookiePair(p)
	}
	return strings.Join(parts, ";")
}

// setCookie redacts the value of a Set-Cookie header and keeps its
// attributes (Path, HttpOnly, Secure…), which checks report on.
func setCookie(v string) string {
	pair, attrs, found := strings.Cut(v, ";")
	if !found {
		return cookiePair(pair)
	}
	return cookiePair(pair) + ";" + attrs
}

func cookiePair(p string) string {
	name, _, found := strings.Cut(p, "=")
	if !found {
		if strings.TrimSpace(p) == "" {
			return p
		}
		// A bare value with no name is all secret.
		return leadingSpace(p) + Placeholder
	}
	return name + "=" + Placeholder
}

func leadingSpace(s string) string {
	return s[:len(s)-len(strings.TrimLeft(s, " \t"))]
}

// authorization keeps the scheme of "Scheme credentials" so that evidence
// shows Basic versus Bearer.
func authorization(v string) string {
	scheme, _, found := strings.Cut(strings.TrimSpace(v), " ")
	if !found || !isToken(scheme) {
		return Placeholder
	}
	return scheme + " " + Placeholder
}

func isToken(s string) bool {
	if s == "" || len(s) > 32 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// secretKeyWords make a JSON property, form field or query parameter
// secret when its lower-cased name contains one of them, so that
// "user_password", "accessToken" and "aws_secret_access_key" are caught.
var secretKeyWords = []string{
	"password", "passwd", "passphrase", "pwd", "secret", "token",
	"apikey", "api_key", "api-key", "authorization", "privatekey",
	"private_key", "private-key", "credential", "sessionid", "session_id",
	"session-id",
}

// secretKeyNames are secret only as whole names: as substrings they are
// too common ("passport", "inside").
var secretKeyNames = map[string]bool{"pass": true, "sid": true, "jsessionid": true, "phpsessid": true}

// IsSecretKey reports whether a JSON property or form field of that name
// holds a secret.
func IsSecretKey(key string) bool {
	if key == "" || len(key) > maxKeyLen {
		return false
	}
	lower := strings.ToLower(key)
	if secretKeyNames[lower] {
		return true
	}
	for _, w := range secretKeyWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// maxKeyLen bounds what counts as a key; longer strings are text.
const maxKeyLen = 100

var (
	// pemBlock matches a private key block, or its start when the text was
	// cut before the END line.
	pemBlock = regexp.MustCompile(`-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY-----(?:[\s\S]*?-----END ([A-Z0-9]+ )*PRIVATE KEY-----|[\s\S]*)`)
	// awsKey matches AWS access key IDs, long-lived (AKIA) and temporary (ASIA).
	awsKey = regexp.MustCompile(`(?:AKIA|ASIA)[A-Z0-9]{16}`)
)

// String redacts secrets inside a text body: values of secret-looking
// JSON keys and form fields, bearer and basic credentials, JWTs, AWS access
// key IDs, Stripe, GitHub and Slack tokens and private key PEM blocks. The rest of the text is unchanged.
//
// Bodies can be megabytes, so the passes are hand-written scanners rather
// than regular expressions with submatches, which run at a few MB/s.
func String(s string) string {
	if s == "" {
		return s
	}
	if strings.Contains(s, "PRIVATE KEY-----") {
		s = pemBlock.ReplaceAllStringFunc(s, redactPEM)
	}
	var spans []span
	if strings.IndexByte(s, '"') >= 0 {
		spans = jsonValues(s, spans[:0])
		s = replace(s, spans)
	}
	if strings.IndexByte(s, '=') >= 0 {
		spans = formValues(s, spans[:0])
		s = replace(s, spans)
	}
	spans = credentials(s, spans[:0])
	s = replace(s, spans)
	// JWTs and AWS keys go last: the passes above only ever insert
	// Placeholder, whose brackets cannot be part of either, so nothing
	// they leave behind can form a new token.
	if strings.Contains(s, "eyJ") {
		spans = jwts(s, spans[:0])
		s = replace(s, spans)
	}
	if strings.Contains(s, "AKIA") || strings.Contains(s, "ASIA") {
		s = awsKey.ReplaceAllLiteralString(s, Placeholder)
	}
	return tokens(s)
}

// redactPEM keeps the BEGIN and END lines of a key block so the reader
// sees which kind of key leaked.
func redactPEM(block string) string {
	end := strings.LastIndex(block, "-----END ")
	begin := strings.Index(block[5:], "-----") + 10 // end of the BEGIN line
	if end < begin {
		return block[:begin] + Placeholder
	}
	return block[:begin] + Placeholder + block[end:]
}

// span is a byte range [start, end) of s to replace with Placeholder.
type span struct{ start, end int }

// replace swaps each span (in order, not overlapping) for Placeholder.
func replace(s string, spans []span) string {
	if len(spans) == 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, sp := range spans {
		b.WriteString(s[last:sp.start])
		b.WriteString(Placeholder)
		last = sp.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// jsonValues finds the string values of secret keys in JSON-like text:
// "key" : "value". Strings are tokenised left to right with JSON escapes,
// so a quote inside a value never starts a key.
func jsonValues(s string, out []span) []span {
	i := 0
	for {
		k := strings.IndexByte(s[i:], '"')
		if k < 0 {
			return out
		}
		ks := i + k + 1
		ke := stringEnd(s, ks)
		if ke < 0 {
			return out
		}
		i = ke + 1
		j := skipSpace(s, i)
		if j >= len(s) || s[j] != ':' {
			continue
		}
		j = skipSpace(s, j+1)
		if j >= len(s) || s[j] != '"' {
			continue
		}
		vs := j + 1
		ve := stringEnd(s, vs)
		if ve < 0 {
			return out
		}
		i = ve + 1
		if vs < ve && s[vs:ve] != Placeholder && IsSecretKey(s[ks:ke]) {
			out = append(out, span{vs, ve})
		}
	}
}

// stringEnd returns the index of the quote closing a JSON string whose
// contents start at i, or -1.
func stringEnd(s string, i int) int {
	for i < len(s) {
		switch s[i] {
		case '"':
			return i
		case '\\':
			i += 2
		default:
			i++
		}
	}
	return -1
}

func skipSpace(s string, i int) int {
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	return i
}

// isSpace is the ASCII whitespace of \s in regular expressions.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

// formValues finds the values of secret keys in key=value text: form
// bodies, query strings, env files and logs. A key starts the text or
// follows one of ? & ; , or whitespace; a value runs to the next of those
// or a quote or angle bracket.
func formValues(s string, out []span) []span {
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			continue
		}
		ks := i
		for ks > 0 && isKeyByte(s[ks-1]) {
			ks--
		}
		if ks == i || i-ks > maxKeyLen || ks > 0 && !isPairDelim(s[ks-1]) {
			continue
		}
		ve := i + 1
		for ve < len(s) && !isValueEnd(s[ve]) {
			ve++
		}
		if ve > i+1 && s[i+1:ve] != Placeholder && IsSecretKey(s[ks:i]) {
			out = append(out, span{i + 1, ve})
		}
		i = ve - 1
	}
	return out
}

func isKeyByte(c byte) bool {
	return isAlnum(c) || c == '_' || c == '.' || c == '-' || c == '[' || c == ']'
}

func isPairDelim(c byte) bool {
	return c == '?' || c == '&' || c == ';' || c == ',' || isSpace(c)
}

func isValueEnd(c byte) bool {
	return isPairDelim(c) && c != '?' || c == '"' || c == '\'' || c == '<' || c == '>'
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// credentials finds what follows "Bearer" or "Basic" in free text (a
// header echoed in a body, a log line). Short words and auth challenges
// (`Bearer realm="api"`) are left alone so prose and WWW-Authenticate
// headers stay readable, and Basic needs base64 of "user:password".
func credentials(s string, out []span) []span {
	for i := 0; i+6 < len(s); i++ {
		c := s[i] | 0x20
		if c != 'b' || i > 0 && (isAlnum(s[i-1]) || s[i-1] == '_') {
			continue
		}
		var basic bool
		switch {
		case strings.EqualFold(s[i:i+6], "bearer"):
			i += 6
		case strings.EqualFold(s[i:i+5], "basic"):
			basic = true
			i += 5
		default:
			continue
		}
		j := skipSpace(s, i)
		if j == i {
			i--
			continue
		}
		cs := j
		for j < len(s) && isCredByte(s[j]) {
			j++
		}
		if j == cs {
			i = j - 1
			continue
		}
		for j < len(s) && s[j] == '=' {
			j++
		}
		i = j - 1
		cred := s[cs:j]
		if j < len(s) && s[j] == '"' {
			continue // a challenge parameter: realm="…"
		}
		if basic {
			dec, err := base64.StdEncoding.DecodeString(cred)
			if err != nil {
				dec, err = base64.RawStdEncoding.DecodeString(cred)
			}
			if err != nil || !strings.Contains(string(dec), ":") {
				continue
			}
		} else if len(strings.TrimRight(cred, "=")) < 8 {
			continue
		}
		out = append(out, span{cs, j})
	}
	return out
}

func isCredByte(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/'
}

// jwts finds JSON Web Tokens: two or three base64url segments, the first
// starting with "eyJ" (the encoding of `{"`); the third may be empty, as
// in unsigned tokens.
func jwts(s string, out []span) []span {
	for i := 0; ; {
		k := strings.Index(s[i:], "eyJ")
		if k < 0 {
			return out
		}
		start := i + k
		j := start + 3
		seg := func(min int) bool {
			from := j
			for j < len(s) && (isAlnum(s[j]) || s[j] == '_' || s[j] == '-') {
				j++
			}
			return j-from >= min
		}
		if seg(1) && j < len(s) && s[j] == '.' {
			j++
			if seg(1) && j < len(s) && s[j] == '.' {
				j++
				seg(0)
				out = append(out, span{start, j})
				i = j
				continue
			}
		}
		i = start + 1
	}
}

// URL redacts a URL for display: the password of its userinfo and the
// values of secret query parameters, plus any token String finds.
func URL(raw string) string {
	if i := strings.Index(raw, "://"); i >= 0 {
		rest := raw[i+3:]
		hostEnd := strings.IndexAny(rest, "/?#")
		if hostEnd < 0 {
			hostEnd = len(rest)
		}
		if at := strings.LastIndexByte(rest[:hostEnd], '@'); at >= 0 {
			user, _, hasPass := strings.Cut(rest[:at], ":")
			if hasPass {
				raw = raw[:i+3] + user + ":" + Placeholder + rest[at:]
			}
		}
	}
	return String(raw)
}
