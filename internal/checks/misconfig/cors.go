package misconfig

import (
	"context"
	"net/http"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// ProbeOrigin is the origin the CORS check claims to come from. The
// .invalid top-level domain can never be registered, so no real site can
// be the origin a server trusts by accident.
const ProbeOrigin = "https://merlon-origin-probe.invalid"

// CORS reports cross-origin resource sharing policies that let another
// web site read the API's responses in a victim's browser.
//
// What it reports, and why:
//   - any origin reflected with Access-Control-Allow-Credentials: true:
//     high, since any site can read responses made with the victim's
//     cookies;
//   - the "null" origin (sandboxed iframes, data: URLs) allowed with
//     credentials: high, for the same reason — any site can produce it
//     (not reported separately when every origin is reflected anyway);
//   - "*" with credentials: medium; browsers refuse that pair, but it shows
//     the server means to share credentialed responses with everyone, and
//     the usual "fix" for the browser's refusal is to reflect the origin;
//   - any origin reflected without credentials: low; no cookie rides
//     along, but the server is not checking origins, and the API's answers
//     are readable by any site from the victim's network position.
//
// No Access-Control-Allow-Origin, a fixed allowlisted origin, and "*"
// without credentials (the right setting for a public API) are not
// reported; nor is "null" without credentials, which grants no more than
// "*" does.
type CORS struct{}

var _ scan.Check = CORS{}

// Meta describes the check.
func (CORS) Meta() scan.Meta {
	return scan.Meta{
		ID:          "misconfig.cors",
		Family:      "misconfig",
		Title:       "Permissive CORS policy",
		Category:    scan.API8Misconfiguration,
		CWE:         942,
		Severity:    scan.High,
		MinSeverity: scan.Low,
		Description: "Sends GET and preflight requests with a foreign Origin and with Origin: null, and " +
			"reports policies that reflect them or combine a wildcard with credentials.",
	}
}

// CORS samples a few operations only: a CORS policy is nearly always set
// once for the whole API, and each operation costs three requests.
func corsBudget(p scan.Profile) int {
	switch p {
	case scan.Quick:
		return 3
	case scan.Deep:
		return 10
	}
	return 5
}

// corsFinding is one kind of weak policy, keyed by its Location.
type corsFinding struct {
	location string
	title    string
	sev      scan.Severity
	desc     string
}

var (
	corsReflectedCreds = corsFinding{"Access-Control-Allow-Origin", "CORS reflects any origin with credentials", scan.High,
		"The API echoes any Origin into Access-Control-Allow-Origin and sends Access-Control-Allow-Credentials: true, so any web site can read its responses with the victim's cookies."}
	corsReflected = corsFinding{"Access-Control-Allow-Origin", "CORS reflects any origin", scan.Low,
		"The API echoes any Origin into Access-Control-Allow-Origin (without credentials). No cookie is sent, but origins are not checked: any site can read responses a victim's browser can reach, and enabling credentials later makes this high severity."}
	corsNullCreds = corsFinding{"Access-Control-Allow-Origin: null", "CORS allows the null origin with credentials", scan.High,
		"The API allows Origin: null with Access-Control-Allow-Credentials: true. Any site can send a null origin from a sandboxed iframe, so any site can read credentialed responses."}
	corsWildcardCreds = corsFinding{"Access-Control-Allow-Credentials", "CORS wildcard with credentials", scan.Medium,
		"The API sends Access-Control-Allow-Origin: * together with Access-Control-Allow-Credentials: true. Browsers reject the pair, but it shows the API means to share credentialed responses with every origin."}
)

// Run sends, for each sampled operation, a GET with ProbeOrigin, a GET
// with Origin: null and an OPTIONS preflight with ProbeOrigin.
func (c CORS) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	ops := probe.Gets(t, corsBudget(t.Profile))
	if len(ops) == 0 {
		ops = []*scan.Operation{nil}
	}
	type hit struct {
		kind corsFinding
		ex   *scan.Exchange
		op   string
	}
	var hits []hit // in first-seen order, the most severe per location
	record := func(k corsFinding, ex *scan.Exchange, op string) {
		for i := range hits {
			if hits[i].kind.location == k.location {
				if k.sev > hits[i].kind.sev {
					hits[i] = hit{k, ex, op}
				}
				return
			}
		}
		hits = append(hits, hit{k, ex, op})
	}

	s := probe.NewSender(h)
	for _, op := range ops {
		base := probe.Get(t, op)
		probes := []struct {
			method, origin string
		}{
			{http.MethodGet, ProbeOrigin},
			{http.MethodGet, "null"},
			{http.MethodOptions, ProbeOrigin},
		}
		for _, p := range probes {
			req := *base
			req.Method = p.method
			req.Header = http.Header{"Origin": {p.origin}}
			if p.method == http.MethodOptions {
				req.Header.Set("Access-Control-Request-Method", http.MethodGet)
				req.Header.Set("Access-Control-Request-Headers", "authorization")
				req.Operation = nil // a preflight is not a call of the operation
			}
			ex := s.Do(ctx, &req)
			if s.Done() {
				break
			}
			if ex == nil {
				continue
			}
			if k, ok := judgeCORS(p.origin, ex.Response.Header); ok {
				record(k, ex, probe.Name(op))
			}
		}
		if s.Done() {
			break
		}
	}

	// A server that reflects every origin reflects "null" too; the null
	// finding would only repeat the reflection one.
	reflects := false
	for _, h := range hits {
		reflects = reflects || h.kind == corsReflectedCreds
	}
	m := c.Meta()
	var out []scan.Finding
	for _, h := range hits {
		if reflects && h.kind == corsNullCreds {
			continue
		}
		f := probe.Finding(m, t, "", h.kind.location)
		f.Title = h.kind.title
		f.Severity = h.kind.sev
		f.Confidence = scan.Confirmed
		f.Description = h.kind.desc
		if h.op != "" {
			f.Description += " Seen on " + h.op + "."
		}
		rh := h.ex.Response.Header
		matched := "Access-Control-Allow-Origin: " + rh.Get("Access-Control-Allow-Origin")
		if v := rh.Get("Access-Control-Allow-Credentials"); v != "" {
			matched += "\nAccess-Control-Allow-Credentials: " + v
		}
		f.Evidence = []scan.Evidence{probe.Evidence(h.ex, "request sent with a foreign Origin", matched)}
		out = append(out, f)
	}
	return out, s.Err()
}

// judgeCORS classifies the response to a request sent with origin.
func judgeCORS(origin string, h http.Header) (corsFinding, bool) {
	acao := strings.TrimSpace(h.Get("Access-Control-Allow-Origin"))
	creds := strings.EqualFold(strings.TrimSpace(h.Get("Access-Control-Allow-Credentials")), "true")
	switch {
	case acao == "":
		return corsFinding{}, false
	case acao == "*":
		if creds {
			return corsWildcardCreds, true
		}
	case origin == "null" && acao == "null":
		if creds {
			return corsNullCreds, true
		}
	case origin != "null" && strings.EqualFold(acao, origin):
		if creds {
			return corsReflectedCreds, true
		}
		return corsReflected, true
	}
	return corsFinding{}, false
}
