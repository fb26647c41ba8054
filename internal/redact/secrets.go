package redact

import (
	"regexp"
	"sort"
	"strings"
)

// Kinds of secret Secrets recognises by their shape.
const (
	KindPrivateKey = "private key"
	KindAWSKey     = "AWS access key ID"
	KindJWT        = "JSON Web Token"
	KindStripe     = "Stripe live key"
	KindGitHub     = "GitHub token"
	KindSlack      = "Slack token"
)

// tokenShapes are vendor tokens whose prefix says what they are, so that
// they can be found in any text without a key name to go by. Each is
// anchored at a word boundary to keep it from matching inside longer
// identifiers.
var tokenShapes = []struct {
	kind   string
	prefix []string // any of these must occur before the regexp runs
	re     *regexp.Regexp
}{
	{KindStripe, []string{"sk_live_", "rk_live_"}, regexp.MustCompile(`\b[sr]k_live_[0-9A-Za-z]{16,247}\b`)},
	{KindGitHub, []string{"ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_"}, regexp.MustCompile(`\b(?:gh[pousr]_[0-9A-Za-z]{36}|github_pat_[0-9A-Za-z_]{22,255})\b`)},
	{KindSlack, []string{"xox"}, regexp.MustCompile(`\bxox[baprs]-[0-9A-Za-z-]{10,250}\b`)},
}

// Secret is a credential found in text: its kind and its byte range
// [Start, End).
type Secret struct {
	Kind       string
	Start, End int
}

// Text is the secret's text in s, the string it was found in.
func (x Secret) Text(s string) string { return s[x.Start:x.End] }

// Secrets returns the credentials in s that are recognisable by their
// shape alone, in order of position: private key blocks, AWS access key
// IDs, JWTs, and Stripe, GitHub and Slack tokens. String redacts every one
// of them; checks use Secrets to report what a target leaks.
func Secrets(s string) []Secret {
	var out []Secret
	if strings.Contains(s, "PRIVATE KEY-----") {
		for _, loc := range pemBlock.FindAllStringIndex(s, -1) {
			out = append(out, Secret{KindPrivateKey, loc[0], loc[1]})
		}
	}
	if strings.Contains(s, "AKIA") || strings.Contains(s, "ASIA") {
		for _, loc := range awsKey.FindAllStringIndex(s, -1) {
			out = append(out, Secret{KindAWSKey, loc[0], loc[1]})
		}
	}
	if strings.Contains(s, "eyJ") {
		for _, sp := range jwts(s, nil) {
			out = append(out, Secret{KindJWT, sp.start, sp.end})
		}
	}
	for _, ts := range tokenShapes {
		if !containsAny(s, ts.prefix) {
			continue
		}
		for _, loc := range ts.re.FindAllStringIndex(s, -1) {
			out = append(out, Secret{ts.kind, loc[0], loc[1]})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Start < out[j].Start })
	return out
}

// tokens redacts the vendor tokens of tokenShapes.
func tokens(s string) string {
	for _, ts := range tokenShapes {
		if containsAny(s, ts.prefix) {
			s = ts.re.ReplaceAllLiteralString(s, Placeholder)
		}
	}
	return s
}

func containsAny(s string, subs []string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}
