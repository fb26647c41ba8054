// Package probe holds what every check needs to aim its requests: which
// operations to sample under a profile, how to fill a path template with
// plausible values, and how to start a finding with a stable fingerprint
// and the remediation that fits the target's stack.
//
// It exists so that each check family does not reinvent sampling and so
// that request budgets mean the same thing in every check.
package probe

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/merlonsec/merlon/internal/fill"
	"github.com/merlonsec/merlon/internal/remedy"
	"github.com/merlonsec/merlon/internal/scan"
)

// Operations sampled per check, by profile. Deep samples every operation.
const (
	QuickOperations    = 20
	StandardOperations = 50
)

// Budget returns how many operations a check samples under profile p; 0
// means all of them. An unknown or empty profile counts as standard, the
// default a user gets without asking.
func Budget(p scan.Profile) int {
	switch p {
	case scan.Quick:
		return QuickOperations
	case scan.Deep:
		return 0
	}
	return StandardOperations
}

// Gets returns at most n of t's GET operations (all of them when n <= 0),
// spread evenly over the inventory rather than taken from its head, so that
// a sample of a large API does not look only at its first resource. The
// choice depends only on the inventory, which keeps findings (and their
// fingerprints) the same from one scan to the next.
func Gets(t *scan.Target, n int) []*scan.Operation {
	var gets []*scan.Operation
	for _, op := range t.Operations {
		if op != nil && strings.EqualFold(op.Method, http.MethodGet) {
			gets = append(gets, op)
		}
	}
	if n <= 0 || len(gets) <= n {
		return gets
	}
	out := make([]*scan.Operation, 0, n)
	for i := range n {
		out = append(out, gets[i*len(gets)/n])
	}
	return out
}

// Value returns a value to send for parameter p, by fill.PathValue's
// rules: a value harvested from earlier responses, else the spec's
// examples and defaults, else a plausible value for the type.
func Value(t *scan.Target, p scan.Parameter) string {
	var vals *scan.ValueBank
	if t != nil {
		vals = t.Values
	}
	return fill.PathValue(p, vals)
}

// Path fills op's path template. A parameter named in override takes that
// raw value; any other takes Value. Every value is escaped as one path
// segment, so the result is an escaped path ready for scan.Request.Path.
func Path(t *scan.Target, op *scan.Operation, override map[string]string) string {
	path := op.Path
	for _, name := range scan.PathParams(op.Path) {
		v, ok := override[name]
		if !ok {
			v = Value(t, param(op, name, "path"))
		}
		path = strings.Replace(path, "{"+name+"}", url.PathEscape(v), 1)
	}
	return path
}

// param finds op's parameter by name and location, or makes a bare one.
func param(op *scan.Operation, name, in string) scan.Parameter {
	for _, p := range op.Parameters {
		if p.Name == name && p.In == in {
			return p
		}
	}
	return scan.Parameter{Name: name, In: in}
}

// Query returns values for op's required query parameters, which the
// server would otherwise reject before reaching the code a check aims at.
func Query(t *scan.Target, op *scan.Operation) url.Values {
	var q url.Values
	for _, p := range op.Parameters {
		if p.In == "query" && p.Required {
			if q == nil {
				q = url.Values{}
			}
			q.Set(p.Name, Value(t, p))
		}
	}
	return q
}

// Get builds a GET request for op with its path and required query filled,
// or for the base URL itself when op is nil.
func Get(t *scan.Target, op *scan.Operation) *scan.Request {
	if op == nil {
		return &scan.Request{Method: http.MethodGet, Path: "/"}
	}
	return &scan.Request{
		Method:    http.MethodGet,
		Path:      Path(t, op, nil),
		Query:     Query(t, op),
		Operation: op,
	}
}

// Name is how findings name an operation: "GET /users/{id}", or "" for
// none (a finding about the whole target).
func Name(op *scan.Operation) string {
	if op == nil {
		return ""
	}
	return strings.ToUpper(op.Method) + " " + op.Path
}

// Origin is the target's scheme, host and port: the part of the base URL
// that goes into a finding's fingerprint.
func Origin(t *scan.Target) string {
	if t == nil || t.BaseURL == nil {
		return ""
	}
	return t.BaseURL.Scheme + "://" + t.BaseURL.Host
}

// Finding starts a finding of the check described by m, on operation op
// ("" for the whole target) and location, with its fingerprint and the
// remediation that fits t's stack filled in.
func Finding(m scan.Meta, t *scan.Target, op, location string) scan.Finding {
	f := scan.FromMeta(m)
	f.Operation = op
	f.Location = location
	f.Fingerprint = scan.Fingerprint(m.ID, Origin(t), op, location)
	var st scan.Stack
	if t != nil {
		st = t.Stack
	}
	f.Remediation = remedy.For(m.ID, st)
	return f
}

// Evidence wraps an exchange as evidence.
func Evidence(ex *scan.Exchange, note, matched string) scan.Evidence {
	return scan.Evidence{Exchange: *ex, Note: note, Matched: matched}
}

// MediaType returns the response's media type in lower case, without
// parameters: "application/json" for "application/json; charset=utf-8".
func MediaType(h http.Header) string {
	ct := h.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// IsJSON reports whether media type mt is JSON, including the +json
// suffix types (application/problem+json, application/vnd.api+json).
func IsJSON(mt string) bool {
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// selfSegments are the last path segments of operations that describe the
// caller: /me, /users/me, /account, /userinfo.
var selfSegments = map[string]bool{
	"me": true, "self": true, "whoami": true, "current": true, "current-user": true, "current_user": true,
	"account": true, "profile": true, "user": true, "userinfo": true,
}

// SelfPath reports whether a path names the caller's own resource by its
// last segment, whatever the case and a trailing slash. Checks that need
// "who am I" (a probe the caller may read, the record an identity may
// update) share this one list.
func SelfPath(p string) bool {
	p = strings.TrimRight(p, "/")
	return selfSegments[strings.ToLower(p[strings.LastIndexByte(p, '/')+1:])]
}
