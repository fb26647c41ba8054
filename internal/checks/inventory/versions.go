package inventory

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// versionSegment matches a path segment that names an API version: v2,
// v1.1, or a date (2024-01-01).
var versionSegment = regexp.MustCompile(`(?i)^(?:v(\d+)(?:\.\d+)?|\d{4}-\d{2}-\d{2})$`)

// vndVersion matches a versioned vendor media type: application/vnd.acme.v2+json.
var vndVersion = regexp.MustCompile(`vnd\.[\w.-]*\.v\d`)

// versionHeaders are response headers that carry an API version.
var versionHeaders = []string{"API-Version", "X-API-Version", "Api-Version", "X-Version", "Accept-Version"}

// versioned reports whether path p has a version segment.
func versioned(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if versionSegment.MatchString(seg) {
			return true
		}
	}
	return false
}

// headerVersion returns the header that shows a response is versioned, or "".
func headerVersion(h http.Header) string {
	for _, name := range versionHeaders {
		if h.Get(name) != "" {
			return name
		}
	}
	ct := strings.ToLower(h.Get("Content-Type"))
	if strings.Contains(ct, "version=") || vndVersion.MatchString(ct) {
		return "Content-Type"
	}
	return ""
}

// NoVersioning reports an API whose paths, servers and responses carry no
// version at all, so that it cannot change without breaking its clients
// or run an old and a new contract side by side.
type NoVersioning struct{}

var _ scan.Check = NoVersioning{}

// Meta describes the check.
func (NoVersioning) Meta() scan.Meta {
	return scan.Meta{
		ID:       "inventory.no-versioning",
		Family:   "inventory",
		Title:    "API has no version",
		Category: scan.API9Inventory,
		CWE:      1059,
		Severity: scan.Info,
		Description: "Looks for a version (v1, v2.1, a date) in the base URL, the spec's servers and every " +
			"operation path; when there is none, sends one GET to the base URL and to one operation and " +
			"looks for a version header (API-Version, X-API-Version…) or a versioned media type.",
	}
}

// Run looks at the inventory, then at two responses.
func (c NoVersioning) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	if len(t.Operations) == 0 {
		return nil, scan.Skip("no operations known, so no paths to judge")
	}
	if versioned(t.BaseURL.Path) {
		return nil, nil
	}
	if t.Spec != nil {
		for _, srv := range t.Spec.Servers {
			if versioned(srv) {
				return nil, nil
			}
		}
	}
	for _, op := range t.Operations {
		if versioned(op.Path) {
			return nil, nil
		}
	}
	s := probe.NewSender(h)
	var seen []*scan.Exchange
	for _, op := range append([]*scan.Operation{nil}, probe.Gets(t, 1)...) {
		ex := s.Do(ctx, probe.Get(t, op))
		if s.Done() {
			return nil, s.Err()
		}
		if ex == nil {
			continue
		}
		if headerVersion(ex.Response.Header) != "" {
			return nil, nil
		}
		seen = append(seen, ex)
	}
	if len(seen) == 0 {
		return nil, s.Err()
	}
	f := probe.Finding(c.Meta(), t, "", "")
	f.Confidence = scan.Likely
	f.Description = fmt.Sprintf("None of the %d operation paths, the base URL or the spec's servers names a version, "+
		"and responses carry no version header. An unversioned API cannot retire an old contract "+
		"deliberately, and its inventory of what clients depend on is hard to keep.", len(t.Operations))
	for _, ex := range seen {
		f.Evidence = append(f.Evidence, probe.Evidence(ex, "response without a version header", ""))
	}
	return []scan.Finding{f}, s.Err()
}

// OldVersions reports other versions of a versioned API that still
// answer: /v1/users beside the documented /v2/users.
type OldVersions struct{}

var _ scan.Check = OldVersions{}

// Meta describes the check.
func (OldVersions) Meta() scan.Meta {
	return scan.Meta{
		ID:          "inventory.old-versions",
		Family:      "inventory",
		Title:       "Other API version still live",
		Category:    scan.API9Inventory,
		CWE:         1059,
		Severity:    scan.Medium,
		MinSeverity: scan.Medium,
		Description: "For up to 3 GET operations whose path has a version segment vN, sends the operation, " +
			"the same path with vN-1 and vN+1 (when not in the spec), and the same path with a random version " +
			"as a not-found baseline. Reports each other version that answers 2xx unlike the baseline. At most " +
			"12 GETs.",
	}
}

// Run tries neighbouring versions.
func (c OldVersions) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	type cand struct {
		op   *scan.Operation
		path string
		idx  int // index of the version segment
		n    int
	}
	var cands []cand
	for _, op := range probe.Gets(t, 0) {
		if len(cands) == 3 {
			break
		}
		p := fullPath(t, op)
		segs := strings.Split(p, "/")
		for i, seg := range segs {
			if m := versionSegment.FindStringSubmatch(seg); m != nil && m[1] != "" {
				n, _ := strconv.Atoi(m[1])
				cands = append(cands, cand{op: op, path: p, idx: i, n: n})
				break
			}
		}
	}
	if len(cands) == 0 {
		return nil, scan.Skip("no operation path has a version segment (v1, v2…)")
	}
	m := c.Meta()
	s := probe.NewSender(h)
	var out []scan.Finding
	reported := make(map[string]bool)
	ix := newTemplates(t)
	with := func(cd cand, seg string) string {
		segs := strings.Split(cd.path, "/")
		segs[cd.idx] = seg
		return strings.Join(segs, "/")
	}
	for _, cd := range cands {
		cur := s.Do(ctx, &scan.Request{Method: http.MethodGet, Path: absolute(t, cd.path), Operation: cd.op, NoRedirect: true})
		if s.Done() {
			break
		}
		if cur == nil || cur.Response.Status/100 != 2 {
			continue
		}
		var nf notFound
		haveNF := false
		for _, n := range []int{cd.n - 1, cd.n + 1} {
			if n < 1 {
				continue
			}
			ver := fmt.Sprintf("v%d", n)
			other := with(cd, ver)
			if reported[ver] || ix.documented(other) {
				continue
			}
			if !haveNF {
				nf = notFound{ex: s.Do(ctx, &scan.Request{Method: http.MethodGet, Path: absolute(t, with(cd, "v"+strconv.Itoa(9000+cd.n*7))), NoRedirect: true})}
				haveNF = true
			}
			ex := s.Do(ctx, &scan.Request{Method: http.MethodGet, Path: absolute(t, other), NoRedirect: true})
			if s.Done() {
				break
			}
			if ex == nil || ex.Response.Status/100 != 2 || nf.Same(ex) {
				continue
			}
			if probe.IsJSON(probe.MediaType(cur.Response.Header)) && !probe.IsJSON(probe.MediaType(ex.Response.Header)) {
				continue
			}
			reported[ver] = true
			kind := "older"
			if n > cd.n {
				kind = "newer, undocumented"
			}
			f := probe.Finding(m, t, "", strings.Join(strings.Split(other, "/")[:cd.idx+1], "/"))
			f.Confidence = scan.Likely
			f.Description = fmt.Sprintf("The spec documents v%d, but the %s version %s answers too (GET %s returned %d). "+
				"Versions nobody maintains keep old bugs and old access rules alive.", cd.n, kind, ver, other, ex.Response.Status)
			f.Evidence = []scan.Evidence{
				probe.Evidence(cur, "documented version", ""),
				probe.Evidence(ex, ver+" still answers", fmt.Sprint(ex.Response.Status)),
			}
			if nf.ex != nil {
				f.Evidence = append(f.Evidence, probe.Evidence(nf.ex, "baseline: a version that does not exist", ""))
			}
			out = append(out, f)
		}
	}
	return out, s.Err()
}

// DeprecatedLive reports GET operations the spec marks deprecated that
// still answer 2xx.
type DeprecatedLive struct{}

var _ scan.Check = DeprecatedLive{}

// Meta describes the check.
func (DeprecatedLive) Meta() scan.Meta {
	return scan.Meta{
		ID:          "inventory.deprecated-live",
		Family:      "inventory",
		Title:       "Deprecated operation still answers",
		Category:    scan.API9Inventory,
		CWE:         1059,
		Severity:    scan.Low,
		MinSeverity: scan.Low,
		Description: "Sends one GET to each GET operation the spec marks deprecated (up to 20) and reports " +
			"those answered 2xx. Deprecated write operations are not sent.",
	}
}

// Run calls the deprecated operations.
func (c DeprecatedLive) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	var deps []*scan.Operation
	for _, op := range probe.Gets(t, 0) {
		if op.Deprecated && len(deps) < 20 {
			deps = append(deps, op)
		}
	}
	if len(deps) == 0 {
		return nil, scan.Skip("no GET operation is marked deprecated")
	}
	m := c.Meta()
	s := probe.NewSender(h)
	var out []scan.Finding
	for _, op := range deps {
		ex := s.Do(ctx, probe.Get(t, op))
		if s.Done() {
			break
		}
		if ex == nil || ex.Response.Status/100 != 2 {
			continue
		}
		f := probe.Finding(m, t, probe.Name(op), "")
		f.Confidence = scan.Confirmed
		f.Description = fmt.Sprintf("The spec marks %s deprecated, yet it answered %d. A deprecated operation "+
			"that stays live keeps its attack surface with less attention paid to it.", probe.Name(op), ex.Response.Status)
		f.Evidence = []scan.Evidence{probe.Evidence(ex, "deprecated operation answering", fmt.Sprint(ex.Response.Status))}
		out = append(out, f)
	}
	return out, s.Err()
}
