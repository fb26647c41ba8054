package exposure

import (
	"net/netip"
	"regexp"
	"strings"

	"github.com/merlonsec/merlon/internal/redact"
	"github.com/merlonsec/merlon/internal/scan"
)

// leak is one sensitive value found in a response.
type leak struct {
	kind  string // what it is: "Stripe live key", "bcrypt password hash", …
	class string // its group, which decides severity and the finding it joins
	value string // the raw text; never put in a report (see mask)
	where string // the JSON path or header name it was found under
}

// Classes of leak, which are what a finding is about.
const (
	classSecret  = "secret"
	classKey     = "private key"
	classHash    = "password hash"
	classCard    = "payment card number"
	classSSN     = "social security number"
	classContact = "personal contact data"
	classIP      = "internal IP address"
)

// severityOf ranks the classes: a credential that works as is ranks above
// a hash that must be cracked first, which ranks above personal data, which
// ranks above a hint at the internal network.
func severityOf(class string) scan.Severity {
	switch class {
	case classKey, classSecret:
		return scan.Critical
	case classHash, classCard, classSSN:
		return scan.High
	case classContact:
		return scan.Medium
	}
	return scan.Low
}

// mask shows what a value was without giving it away: its kind and its
// last four characters.
func mask(kind, value string) string {
	v := strings.TrimSpace(value)
	if strings.Contains(v, "PRIVATE KEY") {
		return "[" + kind + "]"
	}
	if len(v) <= 8 {
		return "[" + kind + "]"
	}
	return "[" + kind + " …" + v[len(v)-4:] + "]"
}

var (
	hashShapes = []struct {
		kind string
		re   *regexp.Regexp
	}{
		{"bcrypt password hash", regexp.MustCompile(`\$2[abxy]?\$\d{2}\$[./A-Za-z0-9]{53}`)},
		{"Argon2 password hash", regexp.MustCompile(`\$argon2(?:id|i|d)\$v=\d+\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+`)},
		{"SHA-crypt password hash", regexp.MustCompile(`\$[56]\$(?:rounds=\d+\$)?[./A-Za-z0-9]{1,16}\$[./A-Za-z0-9]{43,86}`)},
		{"PBKDF2 password hash", regexp.MustCompile(`pbkdf2_sha(?:1|256|512)\$\d+\$[^$\s"]+\$[A-Za-z0-9+/=]+`)},
	}
	hexDigest = regexp.MustCompile(`^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$`)
	email     = regexp.MustCompile(`\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b`)
	ssnShape  = regexp.MustCompile(`^(\d{3})-?(\d{2})-?(\d{4})$`)
	phone     = regexp.MustCompile(`^\+?[0-9 ().-]{7,20}$`)
	ipv4      = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
	cardText  = regexp.MustCompile(`\b(?:\d{4}[ -]?){3}\d{1,7}\b`)
)

// keyHas reports whether the lower-cased key holds any of the words.
func keyHas(key string, words ...string) bool {
	k := strings.ToLower(key)
	for _, w := range words {
		if strings.Contains(k, w) {
			return true
		}
	}
	return false
}

func passwordKey(key string) bool {
	return keyHas(key, "password", "passwd", "pwd", "passhash", "pass_hash", "passwordhash") || strings.EqualFold(key, "pass")
}

// leaksIn returns what value, found under key at where, gives away. key is
// the JSON member name ("" in free text), which lets the context-bound
// detectors (SSNs, phones, unsalted digests) speak only where the name
// says what the value is.
func leaksIn(key, where, value string) []leak {
	var out []leak
	for _, x := range redact.Secrets(value) {
		text := x.Text(value)
		switch x.Kind {
		case redact.KindPrivateKey:
			out = append(out, leak{x.Kind, classKey, text, where})
		case redact.KindJWT:
			// A token under a token-ish name is most often the caller's
			// own (a login answer); only tokens elsewhere are reported.
			if !keyHas(key, "token", "jwt", "bearer", "credential") {
				out = append(out, leak{x.Kind, classSecret, text, where})
			}
		default:
			out = append(out, leak{x.Kind, classSecret, text, where})
		}
	}
	for _, hs := range hashShapes {
		if m := hs.re.FindString(value); m != "" {
			out = append(out, leak{hs.kind, classHash, m, where})
		}
	}
	if key != "" {
		v := strings.TrimSpace(value)
		switch {
		case passwordKey(key) && hexDigest.MatchString(v):
			out = append(out, leak{"unsalted password digest", classHash, v, where})
		case keyHas(key, "ssn", "social_security", "socialsecurity", "social-security") && validSSN(v):
			out = append(out, leak{"US social security number", classSSN, v, where})
		case keyHas(key, "phone", "mobile", "msisdn", "cell") && validPhone(v):
			out = append(out, leak{"phone number", classContact, v, where})
		case keyHas(key, "card", "pan", "ccnum", "cc_num", "credit") && cardNumber(v, false):
			out = append(out, leak{"payment card number", classCard, v, where})
		case !idKey(key) && cardNumber(v, true):
			out = append(out, leak{"payment card number", classCard, v, where})
		}
	} else {
		for _, m := range cardText.FindAllString(value, 8) {
			if cardNumber(m, true) {
				out = append(out, leak{"payment card number", classCard, m, where})
			}
		}
	}
	for _, m := range email.FindAllString(value, 50) {
		out = append(out, leak{"email address", classContact, m, where})
	}
	for _, m := range ipv4.FindAllString(value, 20) {
		if internalIP(m) && !keyHas(key, "version") {
			out = append(out, leak{"internal IP address", classIP, m, where})
		}
	}
	return out
}

// idKey names keys whose numbers are identifiers, which pass the Luhn
// test one time in ten and must not be taken for card numbers.
func idKey(key string) bool {
	k := strings.ToLower(key)
	return k == "id" || strings.HasSuffix(k, "_id") || strings.HasSuffix(k, "id") || keyHas(k, "uuid", "number_of", "count", "timestamp", "time", "date")
}

// validSSN accepts only numbers the US Social Security Administration can
// issue: no 000, 666 or 9xx area, no 00 group, no 0000 serial.
func validSSN(v string) bool {
	m := ssnShape.FindStringSubmatch(v)
	if m == nil {
		return false
	}
	return m[1] != "000" && m[1] != "666" && m[1][0] != '9' && m[2] != "00" && m[3] != "0000"
}

// validPhone wants 7 to 15 digits (E.164's bound) written as a phone
// number is.
func validPhone(v string) bool {
	if !phone.MatchString(v) {
		return false
	}
	n := digits(v)
	return len(n) >= 7 && len(n) <= 15
}

func digits(v string) string {
	var b strings.Builder
	for _, r := range v {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// cardNumber reports whether v is a Luhn-valid number of 13 to 19 digits
// (spaces and dashes allowed); needIIN also asks for the issuer prefix and
// length of a major card network, for values no key name vouches for.
func cardNumber(v string, needIIN bool) bool {
	for _, r := range v {
		if !(r >= '0' && r <= '9' || r == ' ' || r == '-') {
			return false
		}
	}
	d := digits(v)
	if len(d) < 13 || len(d) > 19 || !luhn(d) || strings.Count(d, d[:1]) == len(d) {
		return false
	}
	return !needIIN || knownIIN(d)
}

// luhn is the mod-10 checksum every payment card number carries.
func luhn(d string) bool {
	sum := 0
	double := false
	for i := len(d) - 1; i >= 0; i-- {
		n := int(d[i] - '0')
		if double {
			n *= 2
			if n > 9 {
				n -= 9
			}
		}
		sum += n
		double = !double
	}
	return sum%10 == 0
}

// knownIIN checks the prefix and length of Visa, Mastercard, American
// Express and Discover numbers.
func knownIIN(d string) bool {
	n := len(d)
	p2 := atoi(d[:2])
	p4 := atoi(d[:4])
	switch {
	case d[0] == '4':
		return n == 13 || n == 16 || n == 19
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720:
		return n == 16
	case p2 == 34 || p2 == 37:
		return n == 15
	case p4 == 6011 || p2 == 65:
		return n == 16 || n == 19
	}
	return false
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
	}
	return n
}

// internalPrefixes are the private (RFC 1918) and link-local ranges.
var internalPrefixes = []netip.Prefix{
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("169.254.0.0/16"),
}

func internalIP(s string) bool {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return false
	}
	for _, p := range internalPrefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
