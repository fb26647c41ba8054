package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/merlonsec/merlon/internal/engine"
	"github.com/merlonsec/merlon/internal/fill"
	"github.com/merlonsec/merlon/internal/scan"
)

// Auth is what an identity needs beyond its static headers.
type Auth struct {
	// Login, when set, is the flow that obtains (and renews) its token.
	Login *engine.Login
	// CheckMethod and CheckPath are the request that proves the identity
	// works: it must answer 2xx. Without them Merlon looks for a GET that
	// refuses anonymous callers (see preflightIdentities).
	CheckMethod string
	CheckPath   string
}

// Bounds of the identity proof without a configured check: how many GET
// operations are asked anonymously for one that refuses, and how many of
// those that refuse are tried with each identity.
const (
	maxAnonProbes   = 5
	maxProtectedOps = 3
)

// preflightIdentities logs every identity in and sends its check request,
// before anything else is scanned: wrong credentials must stop the scan,
// never produce a clean report of what anonymous users see. It returns the
// identities not yet proven, for confirmIdentities. An identity that is
// refused is an InputError, which the CLI maps to the usage exit code: bad
// credentials are bad input.
//
// A configured check is the proof. Without one, a 2xx on the target URL
// proves nothing by itself (many APIs have a public root), so the target
// URL is asked anonymously too: the identity is proven only when the
// anonymous caller is refused (401/403) where the identity is let in.
func preflightIdentities(ctx context.Context, c *engine.Client, cfg Config) ([]scan.Identity, error) {
	var undecided []scan.Identity
	var anon *scan.Exchange // the target URL asked anonymously, once
	for _, id := range cfg.Identities {
		a := cfg.Auth[id.Name]
		if a.Login != nil {
			if err := c.Login(ctx, id.Name); err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, badInput("identity %q%s: login failed: %v", id.Name, roleOf(id), err)
			}
		}
		req := &scan.Request{Method: a.CheckMethod, Path: a.CheckPath, Identity: id.Name}
		explicit := a.CheckPath != ""
		if !explicit {
			req.Method, req.Path = http.MethodGet, cfg.Target.String()
		}
		ex, err := checkRequest(ctx, c, id, req)
		if err != nil {
			return nil, err
		}
		st := ex.Response.Status
		switch {
		case explicit && ok2xx(st):
			continue
		case explicit || st == http.StatusUnauthorized:
			return nil, refused(id, ex)
		case st != http.StatusForbidden && !ok2xx(st):
			undecided = append(undecided, id)
			continue
		}
		if anon == nil {
			if anon, err = checkRequest(ctx, c, scan.Identity{Name: scan.Anonymous}, &scan.Request{Method: http.MethodGet, Path: cfg.Target.String(), Identity: scan.Anonymous}); err != nil {
				return nil, err
			}
		}
		if st == http.StatusForbidden || !refusesAnonymous(anon) {
			// A 403 says the API will not let this caller in here, not
			// that it did not recognise the credentials: an identity
			// without the right role, or a root that refuses everyone.
			// The inventory decides.
			undecided = append(undecided, id)
		}
	}
	return undecided, nil
}

// checkRequest sends one request of the identity proof.
func checkRequest(ctx context.Context, h scan.Requester, id scan.Identity, req *scan.Request) (*scan.Exchange, error) {
	ex, err := h.Do(ctx, req)
	if err == nil {
		return ex, nil
	}
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if errors.Is(err, scan.ErrWriteNotAllowed) || errors.Is(err, scan.ErrOutOfScope) {
		return nil, badInput("identity %q%s: check request: %v", id.Name, roleOf(id), err)
	}
	return nil, fmt.Errorf("identity %q check request: %w", id.Name, err)
}

// confirmIdentities proves the identities the preflight could not, once
// the inventory is known. The proof is an operation that refuses
// anonymous callers (401/403) and answers the identity 2xx. GET
// operations are asked anonymously, those without path parameters and
// declared secured first, those that look administrative last (a user
// identity is rightly refused there); each identity then tries the ones
// that refuse until one lets it in.
//
// An identity refused by every such operation it tried is an InputError.
// An identity for which no operation refuses anonymous callers cannot be
// proven either way: that is a warning for the report, naming it, so the
// report never looks clean on credentials nobody checked.
func confirmIdentities(ctx context.Context, h scan.Requester, ops []*scan.Operation, values *scan.ValueBank, ids []scan.Identity) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	cands := proofCandidates(ops)
	type proof struct {
		op   *scan.Operation
		anon int // the anonymous status, 401 or 403
	}
	var protected []proof
	var tried []string
	for _, op := range cands {
		if len(protected) >= maxProtectedOps || len(tried) >= maxAnonProbes {
			break
		}
		req := fill.Request(op, values)
		req.Identity = scan.Anonymous
		ex, err := checkRequest(ctx, h, scan.Identity{Name: scan.Anonymous}, req)
		if err != nil {
			return nil, err
		}
		tried = append(tried, fmt.Sprintf("%s %s answered %d", op.Method, op.Path, ex.Response.Status))
		if refusesAnonymous(ex) {
			protected = append(protected, proof{op, ex.Response.Status})
		}
	}

	var warnings []string
	for _, id := range ids {
		var refusal *scan.Exchange
		proven, forbidden := false, false
		for _, p := range protected {
			req := fill.Request(p.op, values)
			req.Identity = id.Name
			ex, err := checkRequest(ctx, h, id, req)
			if err != nil {
				return nil, err
			}
			st := ex.Response.Status
			if ok2xx(st) {
				proven = true
				break
			}
			// Only a 401 says the credentials were not accepted. A 403
			// may be a role the identity lacks (a user on an operation
			// for staff), so it leaves the identity unverified, loudly,
			// rather than stopping a scan on valid credentials.
			if st == http.StatusUnauthorized && refusal == nil {
				refusal = ex
			}
			if st == http.StatusForbidden {
				forbidden = true
			}
		}
		switch {
		case proven:
		case refusal != nil:
			return nil, refused(id, refusal)
		case forbidden:
			warnings = append(warnings, fmt.Sprintf("identity %q%s could not be verified: every operation tried that refuses anonymous callers answered it 403 too, so its credentials may be wrong or it may lack the role; set check: {method, path} for it in merlon.yaml to an operation it may call", id.Name, roleOf(id)))
		case len(protected) > 0:
			warnings = append(warnings, fmt.Sprintf("identity %q%s could not be verified: the operations that refuse anonymous callers answered it neither 2xx nor 401/403; set check: {method, path} for it in merlon.yaml to an operation that needs its credentials", id.Name, roleOf(id)))
		default:
			seen := "the API has no GET operation to try"
			if len(tried) > 0 {
				seen = "no operation tried refuses anonymous callers (" + strings.Join(tried, ", ") + ")"
			}
			warnings = append(warnings, fmt.Sprintf("identity %q%s could not be verified: %s, so wrong credentials would go unnoticed; set check: {method, path} for it in merlon.yaml to an operation that needs its credentials", id.Name, roleOf(id), seen))
		}
	}
	return warnings, nil
}

// proofCandidates orders the GET operations for the identity proof:
// fewer path parameters first (a made-up ID answers 404 to everybody),
// then those the spec declares secured, then the rest; operations that
// look administrative go last.
func proofCandidates(ops []*scan.Operation) []*scan.Operation {
	var out []*scan.Operation
	for _, op := range ops {
		if op != nil && op.Method == http.MethodGet && !declaredPublic(op) {
			out = append(out, op)
		}
	}
	rank := func(op *scan.Operation) int {
		r := 0
		if len(scan.PathParams(op.Path)) > 0 {
			r += 4
		}
		if looksAdministrative(op.Path) {
			r += 2
		}
		if len(op.Security) == 0 {
			r++
		}
		return r
	}
	slices.SortStableFunc(out, func(a, b *scan.Operation) int { return rank(a) - rank(b) })
	return out
}

// declaredPublic reports whether the spec says an operation needs no
// credentials (security: [] or an empty requirement).
func declaredPublic(op *scan.Operation) bool {
	if op.Security == nil {
		return false
	}
	if len(op.Security) == 0 {
		return true
	}
	for _, req := range op.Security {
		if len(req) == 0 {
			return true
		}
	}
	return false
}

// looksAdministrative reports whether a path has a segment that names an
// administrative area.
func looksAdministrative(p string) bool {
	for _, seg := range strings.Split(strings.ToLower(p), "/") {
		for _, w := range []string{"admin", "internal", "manage", "staff", "superuser", "sudo"} {
			if strings.HasPrefix(seg, w) {
				return true
			}
		}
	}
	return false
}

func ok2xx(status int) bool { return status >= 200 && status < 300 }

func refusesAnonymous(ex *scan.Exchange) bool {
	st := ex.Response.Status
	return st == http.StatusUnauthorized || st == http.StatusForbidden
}

// loginWarnings turns the renewals that failed mid-scan into warnings.
func loginWarnings(fails []engine.LoginFailure) []string {
	var out []string
	for _, f := range fails {
		out = append(out, fmt.Sprintf("identity %q could not log in again during the scan (%d %s; last: %s); requests sent as it afterwards carried refused credentials, so checks acting as it may have missed findings",
			f.Identity, f.Count, plural(f.Count, "failure"), f.Last))
	}
	return out
}

func refused(id scan.Identity, ex *scan.Exchange) error {
	st := ex.Response.Status
	hint := "check its credentials"
	if st != http.StatusUnauthorized && st != http.StatusForbidden {
		hint = "want 2xx; check its credentials or its check request"
	}
	return badInput("identity %q%s is not accepted: %s %s answered %d %s; %s",
		id.Name, roleOf(id), ex.Request.Method, ex.Request.URL, st, http.StatusText(st), hint)
}

func roleOf(id scan.Identity) string {
	if id.Role == "" {
		return ""
	}
	return " (role " + id.Role + ")"
}

// specHeader is what a spec URL is fetched with under --spec-auth: the
// global headers and the default identity's static headers and cookies.
// The spec is read before anyone logs in, so a login-flow token is not
// among them.
func specHeader(global http.Header, ids []scan.Identity) http.Header {
	h := global.Clone()
	if h == nil {
		h = http.Header{}
	}
	if len(ids) > 0 {
		for k, v := range ids[0].Headers {
			h[http.CanonicalHeaderKey(k)] = append([]string(nil), v...)
		}
	}
	return h
}
