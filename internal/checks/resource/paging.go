package resource

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// pageSizeNames are query parameters that set how many items a list
// returns, compared case-insensitively with '_' and '-' removed.
var pageSizeNames = map[string]bool{
	"limit": true, "perpage": true, "pagesize": true, "size": true, "count": true,
	"max": true, "maxresults": true, "top": true, "take": true, "first": true,
}

// hugePage is the page size UnboundedPageSize asks for.
const hugePage = "100000"

// pageCeiling is the largest page an API may serve without counting as
// unbounded: most APIs clamp somewhere at or below it.
const pageCeiling = 100

// PageSizeParam returns op's query parameter that sets a page size, or "".
func PageSizeParam(op *scan.Operation) string {
	for _, p := range op.Parameters {
		if p.In == "query" && pageSizeNames[normalize(p.Name)] {
			return p.Name
		}
	}
	return ""
}

func normalize(name string) string {
	return strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(name))
}

// ItemCount returns how many items a list response holds: the length of
// a top-level JSON array, or of the longest array among a top-level
// object's values ({"items": [...], "total": 3}). ok is false when body
// holds no such array.
func ItemCount(body []byte) (n int, ok bool) {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return 0, false
	}
	switch x := v.(type) {
	case []any:
		return len(x), true
	case map[string]any:
		for _, e := range x {
			if a, isArr := e.([]any); isArr && (!ok || len(a) > n) {
				n, ok = len(a), true
			}
		}
	}
	return n, ok
}

// UnboundedPageSize reports list operations that honour any page size a
// client asks for.
type UnboundedPageSize struct{}

var _ scan.Check = UnboundedPageSize{}

// Meta describes the check.
func (UnboundedPageSize) Meta() scan.Meta {
	return scan.Meta{
		ID:          "resource.unbounded-page-size",
		Family:      "resource",
		Title:       "Page size without a ceiling",
		Category:    scan.API4ResourceConsumption,
		CWE:         770,
		Severity:    scan.Medium,
		MinSeverity: scan.Medium,
		Description: "For up to 5 GET list operations with a page-size query parameter (limit, per_page, " +
			"page_size, size, count, top, take, first…), sends one baseline GET and one with the parameter " +
			"set to 100000. Reports when the second answers 2xx with more items than the baseline and more " +
			"than 100, i.e. the server neither rejected nor clamped the size.",
	}
}

// Run compares each list's default page with a huge one.
func (c UnboundedPageSize) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	var lists []*scan.Operation
	for _, op := range probe.Gets(t, 0) {
		if PageSizeParam(op) != "" && len(lists) < 5 {
			lists = append(lists, op)
		}
	}
	if len(lists) == 0 {
		return nil, scan.Skip("no GET operation has a page-size parameter")
	}
	m := c.Meta()
	s := probe.NewSender(h)
	var out []scan.Finding
	for _, op := range lists {
		name := PageSizeParam(op)
		baseReq := probe.Get(t, op)
		base := s.Do(ctx, baseReq)
		if s.Done() {
			break
		}
		if base == nil || base.Response.Status/100 != 2 {
			continue
		}
		baseN, ok := ItemCount(base.Response.Raw)
		if !ok {
			continue
		}
		bigReq := probe.Get(t, op)
		q := url.Values{}
		for k, v := range bigReq.Query {
			q[k] = v
		}
		q.Set(name, hugePage)
		bigReq.Query = q
		big := s.Do(ctx, bigReq)
		if s.Done() {
			break
		}
		if big == nil || big.Response.Status/100 != 2 {
			continue
		}
		bigN, ok := ItemCount(big.Response.Raw)
		if !ok || bigN <= baseN || bigN <= pageCeiling {
			continue
		}
		f := probe.Finding(m, t, probe.Name(op), name)
		f.Confidence = scan.Likely
		f.Description = fmt.Sprintf("%s=%s was accepted: the response held %d items against %d by default. "+
			"A client can make the server load and serialise an unbounded list in one request.", name, hugePage, bigN, baseN)
		f.Evidence = []scan.Evidence{
			probe.Evidence(base, fmt.Sprintf("default page: %d items", baseN), ""),
			probe.Evidence(big, fmt.Sprintf("%s=%s: %d items", name, hugePage, bigN), name+"="+hugePage),
		}
		out = append(out, f)
	}
	return out, s.Err()
}

// oversized is the body size over which a response counts as oversized.
const oversized = 1 << 20

// OversizedResponses reports GET operations whose responses exceed 1 MiB
// and offer no way to page through them.
type OversizedResponses struct{}

var _ scan.Check = OversizedResponses{}

// Meta describes the check.
func (OversizedResponses) Meta() scan.Meta {
	return scan.Meta{
		ID:          "resource.oversized-responses",
		Family:      "resource",
		Title:       "Oversized response without pagination",
		Category:    scan.API4ResourceConsumption,
		CWE:         770,
		Severity:    scan.Low,
		MinSeverity: scan.Low,
		Description: "Sends one GET to each sampled GET operation (20 quick, 50 standard, all deep) and reports " +
			"responses over 1 MiB when the operation has no page-size or cursor parameter and the response " +
			"has no Link header or next/cursor field.",
	}
}

// pagingNames are parameters that show an operation pages its results.
var pagingNames = map[string]bool{"page": true, "offset": true, "cursor": true, "after": true, "before": true, "pagetoken": true, "skip": true}

func paginated(op *scan.Operation, ex *scan.Exchange) bool {
	if PageSizeParam(op) != "" || ex.Response.Header.Get("Link") != "" {
		return true
	}
	for _, p := range op.Parameters {
		if p.In == "query" && pagingNames[normalize(p.Name)] {
			return true
		}
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(ex.Response.Raw, &obj) == nil {
		for k := range obj {
			switch normalize(k) {
			case "next", "nextcursor", "cursor", "nextpage", "nextpagetoken", "links":
				return true
			}
		}
	}
	return false
}

// Run measures sampled responses.
func (c OversizedResponses) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	ops := probe.Gets(t, probe.Budget(t.Profile))
	if len(ops) == 0 {
		return nil, scan.Skip("no GET operations")
	}
	m := c.Meta()
	s := probe.NewSender(h)
	var out []scan.Finding
	reqs := make([]*scan.Request, len(ops))
	for i, op := range ops {
		reqs[i] = probe.Get(t, op)
	}
	s.DoAll(ctx, reqs, func(i int, ex *scan.Exchange) bool {
		op := ops[i]
		if ex == nil || ex.Response.Status/100 != 2 {
			return true
		}
		size := len(ex.Response.Raw)
		if size <= oversized && !ex.Response.Truncated {
			return true
		}
		if paginated(op, ex) {
			return true
		}
		f := probe.Finding(m, t, probe.Name(op), "")
		f.Confidence = scan.Likely
		more := ""
		if ex.Response.Truncated {
			more = " (Merlon stopped reading there)"
		}
		f.Description = fmt.Sprintf("The response was %d KiB or more%s, and the operation offers no pagination. "+
			"Every call makes the server build and send the whole set, and it grows with the data.", size>>10, more)
		f.Evidence = []scan.Evidence{probe.Evidence(shorten(ex), fmt.Sprintf("%d-byte response, body cut to its start", size), "")}
		out = append(out, f)
		return true
	})
	return out, s.Err()
}

// evidenceBody is how much of a huge body evidence keeps.
const evidenceBody = 2048

// shorten returns a copy of ex whose recorded bodies are cut, so that a
// report about a huge response is not itself huge.
func shorten(ex *scan.Exchange) *scan.Exchange {
	c := *ex
	if len(c.Response.Body) > evidenceBody {
		c.Response.Body = c.Response.Body[:evidenceBody]
		c.Response.Truncated = true
	}
	if len(c.Request.Body) > evidenceBody {
		c.Request.Body = c.Request.Body[:evidenceBody] + "…"
	}
	return &c
}
