package transport

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/fill"
	"github.com/merlonsec/merlon/internal/scan"
)

// MixedContent reports https:// responses that load active content —
// scripts, styles, frames, plugins, form targets — from http:// URLs,
// which a network attacker can replace to take over the page. Images and
// media (passive mixed content) and plain links are not reported.
type MixedContent struct{}

var _ scan.Check = MixedContent{}

// Meta describes the check.
func (MixedContent) Meta() scan.Meta {
	return scan.Meta{
		ID:          "transport.mixed-content",
		Family:      "transport",
		Title:       "Active content loaded over plain HTTP",
		Category:    scan.API8Misconfiguration,
		CWE:         319,
		Severity:    scan.Low,
		MinSeverity: scan.Low,
		Description: fmt.Sprintf("On https:// targets only, sends a GET to the base URL and to the first %d sampled GET "+
			"operations, and looks in HTML for script, iframe, frame, embed, object, stylesheet and form URLs "+
			"starting with http://, and in JSON for http:// URLs of scripts or styles (.js, .css, or keys "+
			"naming a script, style or frame).", maxPages-1),
	}
}

var (
	activeHTML = regexp.MustCompile(`(?i)<(?:script|iframe|frame|embed|object|link|form)\b[^>]*?\b(?:src|href|data|action)\s*=\s*["']?(http://[^"'\s>]+)`)
	activeKey  = regexp.MustCompile(`(?i)script|style|css|iframe|embed|widget`)
)

// Run fetches the pages and looks for active http:// references.
func (c MixedContent) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	if t.BaseURL == nil || !strings.EqualFold(t.BaseURL.Scheme, "https") {
		return nil, scan.Skip("target is not https")
	}
	m := c.Meta()
	var out []scan.Finding
	s := probe.NewSender(h)
	for _, op := range pages(t) {
		ex := s.Do(ctx, probe.Get(t, op))
		if s.Done() {
			break
		}
		if ex == nil || ex.Response.Status >= 400 {
			continue
		}
		refs := mixedRefs(probe.MediaType(ex.Response.Header), ex.Response.Raw)
		if len(refs) == 0 {
			continue
		}
		f := probe.Finding(m, t, probe.Name(op), "")
		f.Confidence = scan.Likely
		if len(refs) > 5 {
			refs = refs[:5]
		}
		f.Description = fmt.Sprintf("%s is served over HTTPS but loads active content over plain HTTP (%s). A network attacker can replace it and run code in the page; browsers block or warn about it.",
			ex.Request.URL, strings.Join(refs, ", "))
		f.Evidence = []scan.Evidence{probe.Evidence(ex, "http:// active content in an https:// response", strings.Join(refs, "\n"))}
		out = append(out, f)
	}
	return out, s.Err()
}

// mixedRefs returns the http:// URLs of active content in a body.
func mixedRefs(mt string, body []byte) []string {
	var refs []string
	switch {
	case mt == "text/html" || mt == "application/xhtml+xml":
		for _, sm := range activeHTML.FindAllSubmatch(body, 20) {
			refs = append(refs, string(sm[1]))
		}
	case probe.IsJSON(mt):
		fill.Walk(body, func(_ []string, key string, v any) bool {
			sv, ok := v.(string)
			if !ok || !strings.HasPrefix(strings.ToLower(sv), "http://") {
				return true
			}
			path := strings.ToLower(strings.SplitN(sv, "?", 2)[0])
			if activeKey.MatchString(key) || strings.HasSuffix(path, ".js") || strings.HasSuffix(path, ".css") {
				refs = append(refs, sv)
			}
			return len(refs) < 20
		})
	}
	return refs
}
