package exposure

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/fill"
	"github.com/merlonsec/merlon/internal/redact"
	"github.com/merlonsec/merlon/internal/scan"
)

// SensitiveData reads the responses of ordinary GET requests for data an
// API should not hand out: credentials (cloud, payment and source-control
// keys, private keys, tokens of other users), password hashes, payment
// card and social security numbers, other people's contact data, and the
// addresses of internal hosts.
//
// It is filed under API3:2023 (the 2019 edition's "excessive data
// exposure"): the API returns properties the caller has no business
// seeing. Detectors are bound to context where a bare pattern would be
// noise: an SSN needs a key named like one and a number that can be
// issued, a phone a phone-ish key, an unsalted digest a password-ish key,
// and a card number the Luhn checksum plus a card-ish key or a major
// network's prefix. Contact data is reported only when one response holds
// at least three distinct addresses or numbers, since one is most often
// the caller's own.
//
// Values are never reported as found: evidence and descriptions show the
// kind and the last four characters.
type SensitiveData struct{}

var _ scan.Check = SensitiveData{}

// Meta describes the check.
func (SensitiveData) Meta() scan.Meta {
	return scan.Meta{
		ID:          "exposure.sensitive-data",
		Family:      "exposure",
		Title:       "Sensitive data in API responses",
		Category:    scan.API3PropertyAuthorization,
		CWE:         200,
		Severity:    scan.Critical,
		MinSeverity: scan.Low,
		Description: "Sends one GET per sampled operation (quick 20, standard 50, deep all; the base URL " +
			"when there are none) and reads the JSON or text bodies and the headers for secrets (AWS, Stripe, " +
			"GitHub, Slack keys, private keys, JWTs outside token fields), password hashes, Luhn-valid card " +
			"numbers, social security numbers under SSN-named keys, lists of other people's emails and phone " +
			"numbers, and private or link-local IP addresses. Matched values are masked in the report.",
	}
}

// minContacts is how many distinct emails or phone numbers one response
// must hold before it counts as a list of other people's contact data.
const minContacts = 3

// Run sends the GETs and reports each class of leak once per operation.
func (c SensitiveData) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	ops := probe.Gets(t, probe.Budget(t.Profile))
	if len(ops) == 0 {
		ops = []*scan.Operation{nil}
	}
	self := ""
	if t.BaseURL != nil {
		self = t.BaseURL.Hostname()
	}
	m := c.Meta()
	var out []scan.Finding
	s := probe.NewSender(h)
	reqs := make([]*scan.Request, len(ops))
	for i, op := range ops {
		reqs[i] = probe.Get(t, op)
	}
	s.DoAll(ctx, reqs, func(i int, ex *scan.Exchange) bool {
		if ex != nil {
			out = append(out, findings(m, t, ops[i], ex, responseLeaks(ex, self))...)
		}
		return true
	})
	return out, s.Err()
}

// responseLeaks returns what one response gives away, in its headers and
// body, without the target's own address.
func responseLeaks(ex *scan.Exchange, self string) []leak {
	var all []leak
	for name, vals := range ex.Response.Header {
		if strings.EqualFold(name, "Set-Cookie") {
			continue
		}
		for _, v := range vals {
			for _, m := range ipv4.FindAllString(v, 5) {
				if internalIP(m) {
					all = append(all, leak{"internal IP address", classIP, m, "header " + name})
				}
			}
		}
	}
	raw := ex.Response.Raw
	mt := probe.MediaType(ex.Response.Header)
	walked := false
	if probe.IsJSON(mt) || mt == "" || mt == "text/plain" {
		err := fill.Walk(raw, func(path []string, key string, value any) bool {
			var v string
			switch x := value.(type) {
			case string:
				v = x
			case json.Number:
				v = x.String()
			default:
				return true
			}
			where := strings.Join(append(append([]string{}, path...), key), ".")
			all = append(all, leaksIn(key, where, v)...)
			return true
		})
		walked = err == nil
	}
	if !walked && len(raw) > 0 && textual(mt) {
		all = append(all, leaksIn("", "body", string(raw))...)
	}
	var kept []leak
	for _, l := range all {
		if (l.class == classIP && l.value == self) || strings.Contains(l.value, "EXAMPLE") {
			continue
		}
		kept = append(kept, l)
	}
	return kept
}

// textual reports whether a body of media type mt is worth reading as text.
func textual(mt string) bool {
	return mt == "" || strings.HasPrefix(mt, "text/") || strings.HasSuffix(mt, "xml") ||
		strings.HasSuffix(mt, "javascript") || strings.HasSuffix(mt, "x-www-form-urlencoded") || probe.IsJSON(mt)
}

// findings groups one response's leaks by class into findings on op.
func findings(m scan.Meta, t *scan.Target, op *scan.Operation, ex *scan.Exchange, leaks []leak) []scan.Finding {
	byClass := make(map[string][]leak)
	for _, l := range leaks {
		byClass[l.class] = append(byClass[l.class], l)
	}
	var out []scan.Finding
	for _, class := range []string{classKey, classSecret, classHash, classCard, classSSN, classContact, classIP} {
		ls := dedupe(byClass[class])
		if len(ls) == 0 || class == classContact && len(ls) < minContacts {
			continue
		}
		f := probe.Finding(m, t, probe.Name(op), class)
		f.Severity = severityOf(class)
		who, authed := sender(t, ex)
		switch class {
		case classContact:
			f.Confidence = scan.Possible
		default:
			f.Confidence = scan.Likely
		}
		f.Title = title(class)
		var shown []string
		kinds := make(map[string]bool)
		for i, l := range ls {
			kinds[l.kind] = true
			if i < 5 {
				shown = append(shown, mask(l.kind, l.value)+" at "+l.where)
			}
		}
		where := "the base URL"
		if op != nil {
			where = probe.Name(op)
		}
		f.Description = fmt.Sprintf("The response to %s holds %d distinct %s value(s) (%s): %s.%s",
			where, len(ls), class, strings.Join(sortedKeys(kinds), ", "), strings.Join(shown, "; "), why(class))
		// Where it leaked counts as well as what: personal data any
		// anonymous caller gets is worse than the same data behind
		// credentials. A key or secret is critical wherever it shows.
		switch {
		case !personal(class):
		case authed:
			f.Severity--
			f.Description += fmt.Sprintf(" The request carried %s, so only signed-in callers got it here; "+
				"that limits who sees it, not whether they should.", who)
		default:
			f.Description += " The request carried no credentials: anyone can read it."
		}
		ev := maskedExchange(ex, leaks)
		f.Evidence = []scan.Evidence{probe.Evidence(ev, "response exposing "+class+" (values masked)", strings.Join(shown, "; "))}
		out = append(out, f)
	}
	return out
}

// personal reports whether class is data about people, whose severity
// depends on who can read it.
func personal(class string) bool {
	switch class {
	case classHash, classCard, classSSN, classContact:
		return true
	}
	return false
}

// sender names the credentials ex's request carried ("alice's
// credentials", "the -H credentials") and reports whether it carried any.
func sender(t *scan.Target, ex *scan.Exchange) (string, bool) {
	switch id := ex.Request.Identity; id {
	case scan.Anonymous:
		return id, false
	case "":
		if redact.HasCredentials(t.Header) {
			return "the -H credentials", true
		}
		return "", false
	default:
		return id + "'s credentials", true
	}
}

func title(class string) string {
	switch class {
	case classKey:
		return "Private key exposed in response"
	case classSecret:
		return "Secret or access token exposed in response"
	case classHash:
		return "Password hash exposed in response"
	case classCard:
		return "Payment card number exposed in response"
	case classSSN:
		return "Social security number exposed in response"
	case classContact:
		return "Other people's contact data exposed in response"
	}
	return "Internal IP address disclosed"
}

func why(class string) string {
	switch class {
	case classKey, classSecret:
		return " Anyone who can call this operation can use the credential: revoke it now, then stop returning it."
	case classHash:
		return " Hashes can be cracked offline; a response has no reason to carry them."
	case classCard, classSSN:
		return " Full numbers are regulated personal data; return a masked form (last four digits) if any."
	case classContact:
		return " A list of several people's contact data helps phishing and breaks data minimisation; check the caller is entitled to every record."
	}
	return " Internal addresses map the network behind the API for later attacks such as SSRF."
}

// dedupe keeps the first leak of each distinct value.
func dedupe(ls []leak) []leak {
	seen := make(map[string]bool)
	var out []leak
	for _, l := range ls {
		if seen[l.value] {
			continue
		}
		seen[l.value] = true
		out = append(out, l)
	}
	return out
}

func sortedKeys(m map[string]bool) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// maskedExchange copies ex with every leaked value in its recorded
// response masked, so that the report never carries what leaked (the
// engine's redaction already hides secrets by key name and shape; this
// also hides hashes, card numbers and the rest).
func maskedExchange(ex *scan.Exchange, leaks []leak) *scan.Exchange {
	cp := *ex
	body := cp.Response.Body
	// Longest values first, so that a value inside another is not
	// replaced in part.
	ls := append([]leak(nil), leaks...)
	sort.SliceStable(ls, func(i, j int) bool { return len(ls[i].value) > len(ls[j].value) })
	for _, l := range ls {
		if l.class == classIP {
			continue // an address is shown: it is the finding
		}
		body = strings.ReplaceAll(body, l.value, mask(l.kind, l.value))
		if j, err := json.Marshal(l.value); err == nil {
			// A value with escapes appears escaped in a JSON body.
			body = strings.ReplaceAll(body, strings.Trim(string(j), `"`), mask(l.kind, l.value))
		}
	}
	cp.Response.Body = body
	cp.Response.Raw = nil
	return &cp
}
