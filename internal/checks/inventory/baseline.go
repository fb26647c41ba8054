package inventory

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// randomSegment returns a path segment no API serves.
func randomSegment() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return "merlon-" + hex.EncodeToString(b[:])
}

// notFound is what a server answers for a path it does not serve.
type notFound struct {
	ex *scan.Exchange
}

// fetchNotFound asks for a random path at absolute URL dir/<random> and
// records the answer.
func fetchNotFound(ctx context.Context, s *probe.Sender, t *scan.Target, dir string) notFound {
	u := absolute(t, strings.TrimSuffix(dir, "/")+"/"+randomSegment())
	return notFound{ex: s.Do(ctx, &scan.Request{Method: http.MethodGet, Path: u, NoRedirect: true})}
}

// Same reports whether ex looks like the not-found answer: the same
// status and, for a 2xx, the same body once the requested path is
// removed from both (soft-404 pages often quote it).
func (n notFound) Same(ex *scan.Exchange) bool {
	if n.ex == nil {
		return false
	}
	if n.ex.Response.Status != ex.Response.Status {
		return false
	}
	a := strip(n.ex.Response.Raw, n.ex.Request.URL)
	b := strip(ex.Response.Raw, ex.Request.URL)
	if bytes.Equal(a, b) {
		return true
	}
	// Pages that differ only a little (a timestamp, a request ID) are
	// the same page.
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		return la == lb
	}
	d := la - lb
	if d < 0 {
		d = -d
	}
	return d*20 < max(la, lb) && probe.MediaType(n.ex.Response.Header) == probe.MediaType(ex.Response.Header) && !probe.IsJSON(probe.MediaType(ex.Response.Header))
}

// strip removes the request URL's path (raw and escaped) from body.
func strip(body []byte, rawURL string) []byte {
	u, err := url.Parse(rawURL)
	if err != nil {
		return body
	}
	out := body
	for _, p := range []string{u.EscapedPath(), u.Path, path.Base(u.Path)} {
		if p != "" && p != "/" {
			out = bytes.ReplaceAll(out, []byte(p), nil)
		}
	}
	return out
}

// absolute turns a path from the origin's root into an absolute URL on the
// target, so that probes for /.env or /v1 are not joined onto a base path.
func absolute(t *scan.Target, p string) string {
	u := url.URL{Scheme: t.BaseURL.Scheme, Host: t.BaseURL.Host, Path: p}
	return u.String()
}

// fullPath is op's filled path from the origin's root.
func fullPath(t *scan.Target, op *scan.Operation) string {
	return strings.TrimSuffix(t.BaseURL.Path, "/") + probe.Path(t, op, nil)
}

// templates indexes a target's operation paths by segment, so that asking
// whether a path is documented costs the depth of the path rather than a
// walk over every operation: the inventory checks ask once per guess, and
// on a 10,000-operation API a linear walk per guess made the scan
// quadratic. A {param} segment matches any one non-empty segment; literal
// segments match case-insensitively.
type templates struct {
	root *tmplNode
}

type tmplNode struct {
	literal map[string]*tmplNode
	param   *tmplNode // a {param} segment: any one non-empty segment
	end     bool      // a template ends here
}

// newTemplates indexes t's operation paths, each from the origin's root.
func newTemplates(t *scan.Target) *templates {
	base := strings.TrimSuffix(t.BaseURL.Path, "/")
	ix := &templates{root: &tmplNode{}}
	for _, op := range t.Operations {
		n := ix.root
		for _, seg := range strings.Split(strings.Trim(base+op.Path, "/"), "/") {
			if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
				if n.param == nil {
					n.param = &tmplNode{}
				}
				n = n.param
				continue
			}
			key := strings.ToLower(seg)
			next := n.literal[key]
			if next == nil {
				if n.literal == nil {
					n.literal = make(map[string]*tmplNode)
				}
				next = &tmplNode{}
				n.literal[key] = next
			}
			n = next
		}
		n.end = true
	}
	return ix
}

// documented reports whether p (from the origin's root, no query) matches
// one of the indexed operation templates, for any method.
func (ix *templates) documented(p string) bool {
	return ix.root.match(strings.Split(strings.Trim(p, "/"), "/"))
}

func (n *tmplNode) match(segs []string) bool {
	if len(segs) == 0 {
		return n.end
	}
	if next := n.literal[strings.ToLower(segs[0])]; next != nil && next.match(segs[1:]) {
		return true
	}
	return n.param != nil && segs[0] != "" && n.param.match(segs[1:])
}
