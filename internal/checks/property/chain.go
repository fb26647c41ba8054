package property

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/fill"
	"github.com/merlonsec/merlon/internal/scan"
)

// maxAdminOps bounds the administrative operations tried per resource.
const maxAdminOps = 3

// fallbackIdentity names the headers tried, in order, on an administrative
// operation that declares no parameter naming its caller: conventional
// ways for an API behind a gateway to be told who is calling.
var fallbackIdentity = []string{"X-User", "X-User-Id", "X-Username"}

// denial is an administrative call that was refused to the probe's clean
// object, to be repeated once a privilege attribute has been stored.
type denial struct {
	op    *scan.Operation
	param scan.Parameter // the parameter that carried the object's key
	ex    *scan.Exchange
}

// adminOps returns the GET operations that look administrative: "admin"
// in a path segment or tag, or a security scope naming admin. Only reads
// are repeated, so that proving an escalation changes nothing.
func adminOps(ops []*scan.Operation) []*scan.Operation {
	var out []*scan.Operation
	for _, op := range ops {
		if op == nil || !strings.EqualFold(op.Method, http.MethodGet) || len(out) >= maxAdminOps {
			continue
		}
		if isAdmin(op) {
			out = append(out, op)
		}
	}
	return out
}

func isAdmin(op *scan.Operation) bool {
	for _, seg := range strings.Split(strings.ToLower(op.Path), "/") {
		if strings.HasPrefix(seg, "admin") {
			return true
		}
	}
	for _, tag := range op.Tags {
		if strings.Contains(strings.ToLower(tag), "admin") {
			return true
		}
	}
	for _, req := range op.Security {
		for _, scopes := range req {
			for _, s := range scopes {
				if strings.Contains(strings.ToLower(s), "admin") {
					return true
				}
			}
		}
	}
	return false
}

// identityParams returns op's header and query parameters that name the
// caller (X-User, user_id, account, …), or the fallback headers when it
// declares none.
func identityParams(op *scan.Operation) []scan.Parameter {
	var out []scan.Parameter
	for _, p := range op.Parameters {
		if (p.In == "header" || p.In == "query") && userLike(p.Name) {
			out = append(out, p)
		}
	}
	if len(out) > 0 {
		return out
	}
	for _, h := range fallbackIdentity {
		out = append(out, scan.Parameter{Name: h, In: "header"})
	}
	return out
}

func userLike(name string) bool {
	n := strings.TrimPrefix(normalise(name), "x_")
	switch n {
	case "user", "username", "user_name", "user_id", "userid", "uid", "account", "account_id", "login", "caller":
		return true
	}
	return false
}

// adminCall sends op as the object whose key is key, passed in param.
func (p *prober) adminCall(ctx context.Context, op *scan.Operation, param scan.Parameter, key string) *scan.Exchange {
	req := fill.Request(op, p.t.Values)
	req.Identity = identity(p.t)
	req.Body = nil
	switch param.In {
	case "header":
		if req.Header == nil {
			req.Header = http.Header{}
		}
		req.Header.Set(param.Name, key)
	case "query":
		if req.Query == nil {
			req.Query = url.Values{}
		}
		req.Query.Set(param.Name, key)
	}
	return p.s.Do(ctx, req)
}

// deny calls each administrative operation as the clean object and keeps
// the calls that were refused (401 or 403).
func (p *prober) deny(ctx context.Context, key string) {
	for _, op := range p.admins {
		for _, param := range identityParams(op) {
			ex := p.adminCall(ctx, op, param, key)
			if ex != nil && (ex.Response.Status == http.StatusUnauthorized || ex.Response.Status == http.StatusForbidden) {
				p.denied = append(p.denied, denial{op: op, param: param, ex: ex})
			}
		}
	}
}

// escalate repeats the refused administrative calls as the object whose
// privilege attributes were just stored, and reports each call that now
// succeeds: a privilege escalation proven end to end.
func (p *prober) escalate(ctx context.Context, key string, writeOp *scan.Operation, accepted []field, first map[string]*attempt, pre []scan.Evidence) {
	var privs []field
	for _, f := range accepted {
		if f.class == Privilege {
			privs = append(privs, f)
		}
	}
	if p.chained || len(privs) == 0 {
		return
	}
	done := make(map[*scan.Operation]bool)
	for _, d := range p.denied {
		if done[d.op] {
			continue
		}
		ex := p.adminCall(ctx, d.op, d.param, key)
		if !ok(ex) {
			continue
		}
		done[d.op] = true
		p.chained = true
		var names []string
		for _, f := range privs {
			names = append(names, show(f.path, f.v1))
		}
		a := first[privs[0].path]
		f := p.finding(d.op, d.param.Name+" via "+probe.Name(writeOp), scan.Critical, scan.Confirmed,
			fmt.Sprintf("Privilege escalation through mass assignment: %s opens %s", privs[0].path, probe.Name(d.op)),
			fmt.Sprintf("%s stored %s, as a separate read showed. %s refused the object before (%d) and answers it "+
				"afterwards (%d), with %s naming it: a client can make itself an administrator by sending one attribute.",
				probe.Name(writeOp), strings.Join(names, ", "), probe.Name(d.op), d.ex.Response.Status, ex.Response.Status, d.param.Name))
		f.Evidence = append(append([]scan.Evidence(nil), pre...),
			probe.Evidence(d.ex, "administrative call as the clean object: refused", ""),
			probe.Evidence(a.write, "write carrying the privilege attribute", ""),
			probe.Evidence(a.read, "separate read shows it stored", show(privs[0].path, privs[0].v1)),
			probe.Evidence(ex, "the same administrative call as the escalated object: allowed", ""),
		)
		p.findings = append(p.findings, f)
	}
}
