package input

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/exposure"
	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/fill"
	"github.com/merlonsec/merlon/internal/scan"
)

// malformedJSON is the body sent to JSON writes: an object cut short.
const malformedJSON = `{"merlon": "unterminated`

// maxWrites bounds the write operations sent a malformed body, by profile.
func maxWrites(p scan.Profile) int {
	switch p {
	case scan.Quick:
		return 5
	case scan.Deep:
		return 40
	}
	return 15
}

// ServerError reports malformed input that the server fails on: a 5xx
// answer, or any answer carrying a stack trace. Without --active it sends
// GETs whose query parameters repeat as arrays or whose first path
// parameter is not valid UTF-8; with --active it also sends each JSON
// write a body that is not valid JSON.
type ServerError struct{}

var _ scan.Check = ServerError{}

// Meta describes the check.
func (ServerError) Meta() scan.Meta {
	return scan.Meta{
		ID:          "input.server-error",
		Family:      "input",
		Title:       "Server error on malformed input",
		Category:    scan.API8Misconfiguration,
		CWE:         754,
		Severity:    scan.Medium,
		MinSeverity: scan.Medium,
		Description: "Sends GETs with query parameters repeated as arrays and path parameters that are not valid " +
			"UTF-8, and, with --active, JSON writes with a truncated JSON body; reports 5xx answers and answers " +
			"carrying a stack trace, which show input reaching code that does not expect it.",
	}
}

type attempt struct {
	op       *scan.Operation
	location string
	req      *scan.Request
	what     string
}

// Run sends the probes and reports each operation once.
func (c ServerError) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	var tries []attempt
	for _, op := range probe.Gets(t, probe.Budget(t.Profile)/2) {
		if names := scan.PathParams(op.Path); len(names) > 0 {
			req := probe.Get(t, op)
			req.Path = probe.Path(t, op, map[string]string{names[len(names)-1]: "\xff\xfe"})
			tries = append(tries, attempt{op, names[len(names)-1], req, "a path parameter that is not valid UTF-8"})
		}
		for _, p := range op.Parameters {
			if p.In != "query" {
				continue
			}
			req := probe.Get(t, op)
			if req.Query == nil {
				req.Query = url.Values{}
			}
			req.Query[p.Name] = []string{"merlon", "merlon"}
			req.Query[p.Name+"[]"] = []string{"merlon"}
			tries = append(tries, attempt{op, p.Name, req, "a query parameter repeated as an array"})
			break
		}
	}
	reads := len(tries)
	if t.Active {
		n := 0
		for _, op := range t.Operations {
			if op == nil || !scan.IsWrite(op.Method) || op.Method == http.MethodDelete || op.RequestBody == nil ||
				!strings.Contains(strings.ToLower(op.RequestBody.ContentType+" json"), "json") {
				continue
			}
			if n >= maxWrites(t.Profile) {
				break
			}
			n++
			req := fill.Request(op, t.Values)
			req.Body = []byte(malformedJSON)
			if req.Header == nil {
				req.Header = http.Header{}
			}
			req.Header.Set("Content-Type", "application/json")
			req.NoRedirect = true
			tries = append(tries, attempt{op, "body", req, "a body that is not valid JSON"})
		}
	}
	s := probe.NewSender(h)
	for i := range tries {
		tries[i].req.Identity = identity(t)
	}
	m := c.Meta()
	var out []scan.Finding
	done := make(map[string]bool)
	// see reads the answer to one attempt.
	see := func(a attempt, ex *scan.Exchange) {
		if ex == nil {
			return
		}
		if success(ex) && a.req.Method == http.MethodPost {
			c.leftover(t, a.op, ex)
		}
		trace, matched := exposure.Disclosure(ex.Response.Body)
		if ex.Response.Status < 500 && trace == "" {
			return
		}
		done[probe.Name(a.op)] = true
		f := probe.Finding(m, t, probe.Name(a.op), a.location)
		f.Confidence = scan.Confirmed
		switch {
		case trace != "":
			f.Title = fmt.Sprintf("Malformed input answered with %d and a %s", ex.Response.Status, trace)
			f.Description = fmt.Sprintf("%s answered %s with %d and a %s (CWE-209): the input reached code that did "+
				"not expect it, and the answer shows file paths and code that help an attacker plan further attacks.",
				probe.Name(a.op), a.what, ex.Response.Status, trace)
		default:
			f.Title = fmt.Sprintf("Malformed input answered with %d", ex.Response.Status)
			f.Description = fmt.Sprintf("%s answered %s with %d instead of a 4xx: the input reached code that did "+
				"not expect it. Malformed input is the client's error and should be rejected before it gets that far.",
				probe.Name(a.op), a.what, ex.Response.Status)
		}
		f.Evidence = []scan.Evidence{probe.Evidence(ex, "malformed request: "+a.what, matched)}
		out = append(out, f)
	}
	// Reads go a few at a time: each operation's first attempt is sent
	// ahead, and its others follow, as before, only while it has no
	// finding. Writes (active scans) go one by one.
	var groups [][]attempt
	for _, a := range tries[:reads] {
		if n := len(groups); n > 0 && groups[n-1][0].op == a.op {
			groups[n-1] = append(groups[n-1], a)
			continue
		}
		groups = append(groups, []attempt{a})
	}
	first := make([]*scan.Request, len(groups))
	for i, g := range groups {
		first[i] = g[0].req
	}
	s.DoAll(ctx, first, func(i int, ex *scan.Exchange) bool {
		g := groups[i]
		if !done[probe.Name(g[0].op)] {
			see(g[0], ex)
		}
		for _, a := range g[1:] {
			if done[probe.Name(a.op)] {
				continue
			}
			ex := s.Do(ctx, a.req)
			if s.Done() {
				return false
			}
			see(a, ex)
		}
		return true
	})
	for _, a := range tries[reads:] {
		if done[probe.Name(a.op)] {
			continue
		}
		ex := s.Do(ctx, a.req)
		if s.Done() {
			break
		}
		see(a, ex)
	}
	return out, s.Err()
}

// leftover notes an object a malformed create made anyway; the check
// cannot know its key reliably, so it does not delete it.
func (c ServerError) leftover(t *scan.Target, op *scan.Operation, ex *scan.Exchange) {
	t.Notes.Add(fmt.Sprintf("%s: %s accepted a malformed body (%d) and may have created an object Merlon did not delete",
		c.Meta().ID, probe.Name(op), ex.Response.Status))
}
