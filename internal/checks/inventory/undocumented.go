package inventory

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// rootGuesses are paths APIs often serve beside their documented ones.
var rootGuesses = []string{"/internal", "/private", "/api/internal", "/api/v0", "/v0", "/beta", "/api/beta", "/test", "/dev"}

// neighbourSuffixes are appended to documented paths: the hidden
// siblings of a documented resource.
var neighbourSuffixes = []string{"admin", "internal", "all", "export", "debug"}

// guessBudget is how many guessed paths UndocumentedEndpoints tries.
func guessBudget(p scan.Profile) int {
	switch p {
	case scan.Quick:
		return 10
	case scan.Deep:
		return 60
	}
	return 25
}

// UndocumentedEndpoints reports paths that answer like API endpoints but
// are not in the spec: the part of the inventory nobody documents, and
// so nobody reviews.
type UndocumentedEndpoints struct{}

var _ scan.Check = UndocumentedEndpoints{}

// Meta describes the check.
func (UndocumentedEndpoints) Meta() scan.Meta {
	return scan.Meta{
		ID:          "inventory.undocumented-endpoints",
		Family:      "inventory",
		Title:       "Undocumented endpoint answers",
		Category:    scan.API9Inventory,
		CWE:         1059,
		Severity:    scan.Medium,
		MinSeverity: scan.Medium,
		Description: "Needs a spec. Sends GETs (10 quick, 25 standard, 60 deep) to paths not in the spec: " +
			"common hidden prefixes (/internal, /private, /api/v0, /beta…), documented paths with /admin, " +
			"/internal, /all, /export or /debug appended, and documented paths whose spec declares no GET. " +
			"Each directory's answer to a random path is the not-found baseline; a guess is reported when " +
			"it answers 2xx with JSON unlike that baseline.",
	}
}

type guess struct {
	path string // from the origin's root
	why  string
}

// guesses lists candidate paths, documented ones left out.
func guesses(t *scan.Target) []guess {
	var out []guess
	seen := make(map[string]bool)
	ix := newTemplates(t)
	add := func(p, why string) {
		if seen[p] || ix.documented(p) {
			return
		}
		seen[p] = true
		out = append(out, guess{p, why})
	}
	base := strings.TrimSuffix(t.BaseURL.Path, "/")
	// Methods not declared: a path documented for writes only.
	hasGet := make(map[string]bool)
	for _, op := range t.Operations {
		if op.Method == http.MethodGet {
			hasGet[op.Path] = true
		}
	}
	for _, op := range t.Operations {
		if !hasGet[op.Path] && len(scan.PathParams(op.Path)) == 0 {
			p := base + op.Path
			if !seen["GET "+p] {
				seen["GET "+p] = true
				out = append(out, guess{p, fmt.Sprintf("the spec declares %s %s but no GET", op.Method, op.Path)})
			}
		}
	}
	for _, op := range probe.Gets(t, 0) {
		filled := base + probe.Path(t, op, nil)
		for _, suf := range neighbourSuffixes {
			add(strings.TrimSuffix(filled, "/")+"/"+suf, "a neighbour of "+op.Path)
		}
	}
	for _, g := range rootGuesses {
		add(base+g, "a common hidden prefix")
	}
	return out
}

// Run tries the guesses.
func (c UndocumentedEndpoints) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	if t.Spec == nil || len(t.Operations) == 0 {
		return nil, scan.Skip("needs a spec to tell documented from undocumented")
	}
	gs := guesses(t)
	if n := guessBudget(t.Profile); len(gs) > n {
		gs = gs[:n]
	}
	m := c.Meta()
	s := probe.NewSender(h)
	baselines := make(map[string]notFound)
	var out []scan.Finding
	for _, g := range gs {
		dir := g.path[:strings.LastIndexByte(g.path, '/')+1]
		nf, ok := baselines[dir]
		if !ok {
			nf = fetchNotFound(ctx, s, t, dir)
			baselines[dir] = nf
		}
		ex := s.Do(ctx, &scan.Request{Method: http.MethodGet, Path: absolute(t, g.path), NoRedirect: true})
		if s.Done() {
			break
		}
		if ex == nil || ex.Response.Status/100 != 2 || !probe.IsJSON(probe.MediaType(ex.Response.Header)) || nf.Same(ex) {
			continue
		}
		f := probe.Finding(m, t, "", g.path)
		f.Confidence = scan.Likely
		f.Description = fmt.Sprintf("GET %s answered %d with JSON, but the spec does not document it (%s). "+
			"Undocumented endpoints escape review, testing and retirement.", g.path, ex.Response.Status, g.why)
		f.Evidence = []scan.Evidence{probe.Evidence(ex, "undocumented path answering", fmt.Sprint(ex.Response.Status))}
		if nf.ex != nil {
			f.Evidence = append(f.Evidence, probe.Evidence(nf.ex, "baseline: a random path in the same directory", ""))
		}
		out = append(out, f)
	}
	return out, s.Err()
}
