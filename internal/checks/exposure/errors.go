package exposure

import (
	"context"
	"fmt"
	"net/url"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// ErrorDisclosure provokes errors with malformed but harmless GET requests
// and reports responses that carry a stack trace or a framework's debug
// page. Such pages reveal file paths, library versions, code and sometimes
// configuration, and an interactive debugger can even run code.
//
// The probes are: each sampled operation's first path parameter set to
// values of the wrong shape (quote and angle characters, then a number too
// large for any integer type, then -1, as the profile allows), its first
// query parameter set to a malformed value, and one path that does not
// exist under the base URL.
type ErrorDisclosure struct{}

var _ scan.Check = ErrorDisclosure{}

// Meta describes the check.
func (ErrorDisclosure) Meta() scan.Meta {
	return scan.Meta{
		ID:          "exposure.error-disclosure",
		Family:      "exposure",
		Title:       "Stack trace or debug page in error response",
		Category:    scan.API8Misconfiguration,
		CWE:         209,
		Severity:    scan.Medium,
		MinSeverity: scan.Medium,
		Description: "Sends malformed path and query values and an unknown path, and looks for stack " +
			"traces and debug pages (Python, Java, Node.js, .NET, PHP, Go, Ruby) in the responses.",
	}
}

// UnknownPath is the path the check asks for to see the not-found page. It
// is relative to the base URL and exists on no sane API.
const UnknownPath = "/merlon-probe-no-such-path"

// badValues are the malformed values, in the order the profiles use them:
// characters that break naive parsing and quoting, a number no integer type
// holds, and a negative ID.
var badValues = []string{`'"<>%{`, "99999999999999999999999", "-1"}

func valuesFor(p scan.Profile) []string {
	switch p {
	case scan.Quick:
		return badValues[:1]
	case scan.Deep:
		return badValues
	}
	return badValues[:2]
}

// site is one place a probe went: an operation and the parameter malformed.
type site struct {
	op       *scan.Operation
	location string
	req      *scan.Request
}

// Run sends the probes and reports each kind of disclosure once, on the
// first place it was seen.
func (c ErrorDisclosure) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	// The unknown path goes first: when a debug page shows everywhere, the
	// finding is then placed on the target as a whole.
	sites := []site{{nil, "", &scan.Request{Method: "GET", Path: UnknownPath}}}
	vals := valuesFor(t.Profile)
	for _, op := range probe.Gets(t, probe.Budget(t.Profile)) {
		if names := scan.PathParams(op.Path); len(names) > 0 {
			for _, v := range vals {
				req := probe.Get(t, op)
				req.Path = probe.Path(t, op, map[string]string{names[0]: v})
				sites = append(sites, site{op, names[0], req})
			}
		}
		for _, p := range op.Parameters {
			if p.In != "query" {
				continue
			}
			req := probe.Get(t, op)
			if req.Query == nil {
				req.Query = url.Values{}
			}
			req.Query.Set(p.Name, vals[0])
			sites = append(sites, site{op, p.Name, req})
			break
		}
	}
	if len(t.Operations) == 0 {
		req := probe.Get(t, nil)
		req.Query = url.Values{"id": {vals[0]}}
		sites = append(sites, site{nil, "id", req})
	}

	type hit struct {
		site    site
		ex      *scan.Exchange
		matched string
		count   int
	}
	var order []string
	hits := make(map[string]*hit)
	s := probe.NewSender(h)
	reqs := make([]*scan.Request, len(sites))
	for i, st := range sites {
		reqs[i] = st.req
	}
	s.DoAll(ctx, reqs, func(i int, ex *scan.Exchange) bool {
		if ex == nil {
			return true
		}
		name, matched := Disclosure(ex.Response.Body)
		if name == "" {
			return true
		}
		if hh, ok := hits[name]; ok {
			hh.count++
			return true
		}
		hits[name] = &hit{sites[i], ex, matched, 1}
		order = append(order, name)
		return true
	})

	m := c.Meta()
	var out []scan.Finding
	for _, name := range order {
		hh := hits[name]
		f := probe.Finding(m, t, probe.Name(hh.site.op), hh.site.location)
		f.Title = name + " disclosed in error response"
		f.Confidence = scan.Confirmed
		where := "a request for a path that does not exist"
		if hh.site.location != "" {
			where = fmt.Sprintf("a malformed value of %q", hh.site.location)
		}
		f.Description = fmt.Sprintf("The API answered %s with a %s, exposing internals such as file paths, code and library versions that help an attacker plan further attacks.", where, name)
		if hh.count > 1 {
			f.Description += fmt.Sprintf(" %d probes in all drew one.", hh.count)
		}
		f.Evidence = []scan.Evidence{probe.Evidence(hh.ex, "malformed request answered with "+name, hh.matched)}
		out = append(out, f)
	}
	return out, s.Err()
}
