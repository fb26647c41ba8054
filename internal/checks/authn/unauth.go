package authn

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/redact"
	"github.com/merlonsec/merlon/internal/scan"
)

// UnauthenticatedAccess reports operations the spec says are secured that
// answer 2xx to a request without any credentials.
//
// Only GET and HEAD operations are tried, with or without --active: a
// write that succeeds anonymously would change the target's data, and
// function-level checks cover writes. Operations with no security in the
// spec, and those the spec makes public (security: [] or an empty
// requirement), are never reported.
type UnauthenticatedAccess struct{}

var _ scan.Check = UnauthenticatedAccess{}

// Meta describes the check.
func (UnauthenticatedAccess) Meta() scan.Meta {
	return scan.Meta{
		ID:          "authn.unauthenticated-access",
		Family:      "authn",
		Title:       "Secured operation answers without credentials",
		Category:    scan.API2BrokenAuthentication,
		CWE:         306,
		Severity:    scan.High,
		MinSeverity: scan.High,
		Description: "Sends each GET operation the spec marks as secured without any credentials and reports " +
			"2xx answers; the body is compared with an authenticated request's when an identity is configured.",
	}
}

// Run sends one anonymous request per sampled secured operation, and one
// authenticated request for each that answered 2xx.
func (c UnauthenticatedAccess) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	var ops []*scan.Operation
	for _, op := range t.Operations {
		if op == nil || !secured(op) {
			continue
		}
		if m := strings.ToUpper(op.Method); m == http.MethodGet || m == http.MethodHead {
			ops = append(ops, op)
		}
	}
	ops = spread(ops, probe.Budget(t.Profile))

	s := probe.NewSender(h)
	var out []scan.Finding
	reqs := make([]*scan.Request, len(ops))
	for i, op := range ops {
		reqs[i] = request(t, op)
		reqs[i].Identity = scan.Anonymous
	}
	s.DoAll(ctx, reqs, func(i int, ex *scan.Exchange) bool {
		op := ops[i]
		if ex == nil || !success(ex) {
			return true
		}
		f := probe.Finding(c.Meta(), t, probe.Name(op), "")
		f.Confidence = scan.Likely
		f.Evidence = []scan.Evidence{probe.Evidence(ex, "no credentials: answered 2xx", fmt.Sprint(ex.Response.Status))}
		f.Description = fmt.Sprintf("The spec requires credentials for %s, but it answered %d to a request without any. "+
			"Anyone can call it.", probe.Name(op), ex.Response.Status)
		if as := authenticatedAs(t); as != "" {
			if authed := s.Do(ctx, request(t, op)); authed != nil {
				f.Evidence = append(f.Evidence, probe.Evidence(authed, "the same request as "+as, ""))
				if success(authed) && len(ex.Response.Raw) > 0 && sameBody(ex.Response.Raw, authed.Response.Raw) {
					f.Confidence = scan.Confirmed
					f.Description += fmt.Sprintf(" The anonymous answer is the very one %s gets.", as)
				} else if success(authed) {
					f.Description += fmt.Sprintf(" Its body differs from what %s gets, so the operation may filter by caller; "+
						"check what an anonymous caller sees.", as)
				}
			}
		}
		out = append(out, f)
		return true
	})
	return out, s.Err()
}

// authenticatedAs names who a request with no identity acts as: the
// first identity, or "the --header credentials" when only global headers
// carry credentials; "" when the scan has none.
func authenticatedAs(t *scan.Target) string {
	if len(t.Identities) > 0 {
		return t.Identities[0].Name
	}
	if redact.HasCredentials(t.Header) {
		return "the --header credentials"
	}
	return ""
}

// request builds a request for op with its path and required query
// filled, not following redirects (a redirect to a login page is a
// refusal).
func request(t *scan.Target, op *scan.Operation) *scan.Request {
	req := probe.Get(t, op)
	req.Method = strings.ToUpper(op.Method)
	req.NoRedirect = true
	return req
}

// spread returns at most n of ops (all when n <= 0), evenly spaced, so
// that a sample of a large API is not only its first resource.
func spread(ops []*scan.Operation, n int) []*scan.Operation {
	if n <= 0 || len(ops) <= n {
		return ops
	}
	out := make([]*scan.Operation, 0, n)
	for i := range n {
		out = append(out, ops[i*len(ops)/n])
	}
	return out
}
