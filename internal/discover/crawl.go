package discover

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strings"

	"github.com/merlonsec/merlon/internal/fill"
	"github.com/merlonsec/merlon/internal/scan"
)

// DefaultMaxPages is CrawlOptions.MaxPages when it is zero.
const DefaultMaxPages = 50

// CrawlOptions sets how far Crawl goes.
type CrawlOptions struct {
	// MaxPages bounds the GET requests of the crawl; 0 means
	// DefaultMaxPages. OPTIONS probes come on top, at most two per
	// collection found.
	MaxPages int
	// Values receives the IDs read from responses, so that checks can
	// address objects that exist. It may be nil.
	Values *scan.ValueBank
	// Active lets Crawl guess write operations (POST on collections, PUT,
	// PATCH and DELETE on their items) when OPTIONS does not say which
	// methods a path allows. Without it only methods the server lists are
	// added.
	Active bool
}

// commonRoots are where APIs often answer when their base URL does not.
// They are tried only when the base URL is the origin's root.
var commonRoots = []string{"/api", "/api/v1", "/v1"}

// Crawl infers the API's operations from its JSON. It GETs the base URL
// and a few common API roots, then follows, breadth first, the in-scope
// links found in JSON responses. Each path that answers JSON becomes a GET
// operation; a collection (a JSON array of objects, bare or under a key
// such as "data" or "items") whose objects carry an ID also yields an item
// template such as /users/{username}. OPTIONS on collections and items
// adds the write methods the server allows, and opts.Active adds guessed
// ones when it does not say. Numeric, UUID and known item segments are
// templated, so /users/7 and /users/8 are one operation.
//
// Crawl returns the operations it found, sorted by path and method. It
// returns an error when the base URL cannot be reached at all, and the
// operations found so far with an error wrapping ctx.Err() when ctx ends;
// a spent request budget just ends the crawl.
func Crawl(ctx context.Context, h scan.Requester, opts CrawlOptions) ([]*scan.Operation, error) {
	if opts.MaxPages <= 0 {
		opts.MaxPages = DefaultMaxPages
	}
	c := &crawler{
		h:       h,
		opts:    opts,
		queued:  make(map[string]bool),
		colls:   make(map[string]*collection),
		items:   make(map[string]map[string]string),
		hitKeys: make(map[string]int),
	}
	err := c.run(ctx)
	return c.operations(), err
}

// crawler is the state of one crawl. It is used by one goroutine.
type crawler struct {
	h    scan.Requester
	opts CrawlOptions

	// origin and basePath locate the base URL, once the first response
	// has told where it is; basePath has no trailing slash.
	origin   *url.URL
	basePath string

	queue  []string // paths relative to the base URL, with their query
	queued map[string]bool
	pages  int

	// colls are the collections found, by canonical template (each
	// templated segment written "{}"), in the order found.
	colls     map[string]*collection
	collOrder []string
	// items maps a collection's canonical template to its items' path
	// segments and the field each came from.
	items map[string]map[string]string

	hits    []*hit
	hitKeys map[string]int // index in hits by method and concrete path
}

// collection is a path that answered with a list of objects.
type collection struct {
	path    string           // concrete path, as reached
	field   string           // the ID-like field the objects carry, or ""
	item    string           // concrete path of the first item, or ""
	objects []map[string]any // samples, for the body schema
}

// hit is an operation seen or inferred on a concrete path. Templates are
// computed at the end, once every collection's item IDs are known.
type hit struct {
	method, path string
	query        url.Values
	summary      string
	responses    map[string]*scan.Response
	body         *scan.RequestBody
}

// maxSamples bounds the objects of a collection kept for schema inference.
const maxSamples = 20

func (c *crawler) run(ctx context.Context) error {
	c.enqueue("/")
pages:
	for len(c.queue) > 0 && c.pages < c.opts.MaxPages {
		p := c.queue[0]
		c.queue = c.queue[1:]
		c.pages++
		ex, err := c.h.Do(ctx, &scan.Request{Method: http.MethodGet, Path: p})
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return fmt.Errorf("crawl: %w", ctx.Err())
			case errors.Is(err, scan.ErrBudgetExhausted):
				// What was read still counts; probe adds what it can.
				break pages
			case c.origin == nil && !errors.Is(err, scan.ErrOutOfScope):
				return fmt.Errorf("crawl %s: %w", p, err)
			}
			continue
		}
		if c.origin == nil {
			c.learnBase(ex, p)
			if c.basePath == "" {
				for _, r := range commonRoots {
					c.enqueue(r)
				}
			}
		}
		c.page(p, ex)
	}
	return c.probe(ctx)
}

// learnBase reads the base URL from the first exchange: the URL the
// engine sent, less the path that was asked for.
func (c *crawler) learnBase(ex *scan.Exchange, asked string) {
	u, err := url.Parse(ex.Request.URL)
	if err != nil || u.Host == "" {
		c.origin = &url.URL{}
		return
	}
	c.origin = &url.URL{Scheme: u.Scheme, Host: u.Host}
	c.basePath = strings.TrimRight(strings.TrimSuffix(u.Path, strings.TrimRight(asked, "/")), "/")
}

func (c *crawler) enqueue(p string) {
	if !c.queued[p] {
		c.queued[p] = true
		c.queue = append(c.queue, p)
	}
}

// page handles one GET response: a JSON answer becomes an operation, and a
// successful one is mined for IDs, links and collections.
func (c *crawler) page(p string, ex *scan.Exchange) {
	resp := ex.Response
	if !looksJSON(resp.Header.Get("Content-Type"), resp.Raw) {
		return
	}
	var links []string
	walkErr := fill.Walk(resp.Raw, func(_ []string, _ string, v any) bool {
		if s, ok := v.(string); ok {
			if l, ok := c.link(s); ok {
				links = append(links, l)
			}
		}
		return true
	})
	if walkErr != nil && !errors.Is(walkErr, fill.ErrTooDeep) && !errors.Is(walkErr, fill.ErrTooLarge) {
		return // not JSON after all
	}
	ok := resp.Status >= 200 && resp.Status <= 299
	// 401 and 403 say the path exists behind authorization, which is
	// exactly what the authorization checks want to know about.
	if !ok && resp.Status != http.StatusUnauthorized && resp.Status != http.StatusForbidden {
		return
	}

	var doc any
	if walkErr == nil {
		// Walk has shown the document valid and within bounds, so a full
		// decode is safe.
		dec := json.NewDecoder(bytes.NewReader(resp.Raw))
		dec.UseNumber()
		_ = dec.Decode(&doc)
	}
	ct := mediaType(resp.Header.Get("Content-Type"))
	h := c.record(http.MethodGet, p, "discovered by crawling")
	if doc != nil {
		h.responses = map[string]*scan.Response{
			fmt.Sprint(resp.Status): {ContentType: ct, Schema: infer(doc, 0)},
		}
	}
	if !ok {
		return
	}
	fill.Harvest(c.opts.Values, resp.Raw)
	for _, l := range links {
		c.enqueue(l)
	}
	if doc != nil {
		c.collection(p, doc)
	}
}

// link turns a string found in JSON into a path to crawl, relative to the
// base URL: a same-origin absolute URL under the base path, or a path
// starting with "/". Anything else is not a link, or not in scope.
func (c *crawler) link(s string) (string, bool) {
	if len(s) < 2 || len(s) > 2048 || strings.ContainsAny(s, " \t\r\n<>\"{}") {
		return "", false
	}
	var u *url.URL
	switch {
	case strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//"):
		r, err := url.Parse(s)
		if err != nil {
			return "", false
		}
		u = r
		// A path under the base path is origin-relative, as a browser
		// reads it; any other is taken as relative to the base URL.
		if c.basePath != "" && (u.Path == c.basePath || strings.HasPrefix(u.Path, c.basePath+"/")) {
			u.Path = strings.TrimPrefix(u.Path, c.basePath)
		}
	case strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://"):
		r, err := url.Parse(s)
		if err != nil || c.origin == nil || !strings.EqualFold(r.Scheme, c.origin.Scheme) || !strings.EqualFold(r.Host, c.origin.Host) {
			return "", false
		}
		if c.basePath != "" && r.Path != c.basePath && !strings.HasPrefix(r.Path, c.basePath+"/") {
			return "", false
		}
		u = r
		u.Path = strings.TrimPrefix(u.Path, c.basePath)
	default:
		return "", false
	}
	p := path.Clean("/" + u.Path)
	switch strings.ToLower(path.Ext(p)) {
	case ".png", ".jpg", ".jpeg", ".gif", ".svg", ".ico", ".css", ".js", ".html", ".htm", ".pdf", ".zip", ".woff", ".woff2":
		return "", false
	}
	if u.RawQuery != "" {
		p += "?" + u.RawQuery
	}
	return p, true
}

// record notes a GET, or any method, on a concrete path, merging repeats.
func (c *crawler) record(method, p, summary string) *hit {
	pathOnly, rawQuery, _ := strings.Cut(p, "?")
	pathOnly = path.Clean("/" + pathOnly)
	key := method + " " + pathOnly
	i, ok := c.hitKeys[key]
	if !ok {
		i = len(c.hits)
		c.hitKeys[key] = i
		c.hits = append(c.hits, &hit{method: method, path: pathOnly, summary: summary})
	}
	h := c.hits[i]
	if q, err := url.ParseQuery(rawQuery); err == nil && len(q) > 0 {
		if h.query == nil {
			h.query = url.Values{}
		}
		for k, vs := range q {
			if _, seen := h.query[k]; !seen && len(vs) > 0 {
				h.query[k] = vs[:1]
			}
		}
	}
	return h
}

// collection looks for a list of objects in doc and, when the objects carry
// an ID, notes the item template and queues the first item.
func (c *crawler) collection(p string, doc any) {
	pathOnly, _, _ := strings.Cut(p, "?")
	pathOnly = path.Clean("/" + pathOnly)
	objects, ok := listOf(doc, path.Base(pathOnly))
	if !ok {
		return
	}
	canon := c.canonical(pathOnly)
	coll := c.colls[canon]
	if coll == nil {
		coll = &collection{path: pathOnly}
		c.colls[canon] = coll
		c.collOrder = append(c.collOrder, canon)
	}
	for _, o := range objects {
		if len(coll.objects) >= maxSamples {
			break
		}
		coll.objects = append(coll.objects, o)
	}
	if coll.field == "" && len(objects) > 0 {
		coll.field = idField(objects[0])
	}
	if coll.field == "" {
		return
	}
	known := c.items[canon]
	if known == nil {
		known = make(map[string]string)
		c.items[canon] = known
	}
	for _, o := range objects {
		v, ok := scalar(o[coll.field])
		if !ok {
			continue
		}
		seg := url.PathEscape(v)
		known[seg] = coll.field
		if coll.item == "" {
			coll.item = strings.TrimSuffix(pathOnly, "/") + "/" + seg
		}
	}
	if coll.item != "" {
		h := c.record(http.MethodGet, coll.item, "item of "+pathOnly+", addressed by "+coll.field)
		if h.responses == nil && len(coll.objects) > 0 {
			h.responses = map[string]*scan.Response{"200": {ContentType: "application/json", Schema: c.objectSchema(coll)}}
		}
		c.enqueue(coll.item)
	}
}

// probe asks OPTIONS of each collection and item for the methods they
// allow, and adds the write operations they list, or guessed ones when they
// list nothing and the scan is active.
func (c *crawler) probe(ctx context.Context) error {
	budget := true
	for _, canon := range c.collOrder {
		coll := c.colls[canon]
		targets := []struct {
			path  string
			guess []string
		}{
			{coll.path, []string{http.MethodPost}},
			{coll.item, []string{http.MethodPut, http.MethodPatch, http.MethodDelete}},
		}
		for _, t := range targets {
			if t.path == "" {
				continue
			}
			var allowed []string
			if budget {
				a, err := c.allowed(ctx, t.path)
				if ctx.Err() != nil {
					return fmt.Errorf("crawl: %w", ctx.Err())
				}
				if errors.Is(err, scan.ErrBudgetExhausted) {
					budget = false
				}
				allowed = a
			}
			summary := "allowed by OPTIONS on " + t.path
			if allowed == nil {
				if !c.opts.Active {
					continue
				}
				allowed = t.guess
				summary = "guessed: OPTIONS on " + t.path + " listed no methods"
			}
			for _, m := range allowed {
				if !scan.IsWrite(m) {
					continue
				}
				h := c.record(m, t.path, summary)
				if m != http.MethodDelete && h.body == nil && len(coll.objects) > 0 {
					h.body = &scan.RequestBody{ContentType: "application/json", Schema: c.objectSchema(coll)}
				}
			}
		}
	}
	return nil
}

// allowed asks OPTIONS of p and returns the methods its Allow (or
// Access-Control-Allow-Methods) header lists, or nil when it lists none.
func (c *crawler) allowed(ctx context.Context, p string) ([]string, error) {
	ex, err := c.h.Do(ctx, &scan.Request{Method: http.MethodOptions, Path: p})
	if err != nil {
		return nil, err
	}
	hdr := ex.Response.Header
	list := strings.Join(hdr.Values("Allow"), ",")
	if strings.TrimSpace(list) == "" {
		list = strings.Join(hdr.Values("Access-Control-Allow-Methods"), ",")
	}
	var methods []string
	for m := range strings.SplitSeq(list, ",") {
		m = strings.ToUpper(strings.TrimSpace(m))
		if m != "" && m != "*" && !slices.Contains(methods, m) {
			methods = append(methods, m)
		}
	}
	return methods, nil
}

// objectSchema is the JSON schema of a collection's objects, as read:
// property names and JSON types. Server-assigned IDs are marked readOnly.
func (c *crawler) objectSchema(coll *collection) *scan.Schema {
	var s *scan.Schema
	for _, o := range coll.objects {
		s = merge(s, infer(o, 0))
	}
	if s == nil {
		return nil
	}
	for _, name := range []string{"id", "uuid", "_id"} {
		if p := s.Properties[name]; p != nil {
			p.ReadOnly = true
		}
	}
	return s
}

// operations builds the inventory from the hits, templating their paths
// now that every collection's item IDs are known.
func (c *crawler) operations() []*scan.Operation {
	var ops []*scan.Operation
	byKey := make(map[string]*scan.Operation)
	for _, h := range c.hits {
		tmpl, params := c.template(h.path)
		key := h.method + " " + tmpl
		op := byKey[key]
		if op == nil {
			op = &scan.Operation{
				ID:          key,
				Method:      h.method,
				Path:        tmpl,
				Summary:     h.summary,
				Parameters:  params,
				RequestBody: h.body,
				Responses:   h.responses,
				Source:      "discovered",
			}
			byKey[key] = op
			ops = append(ops, op)
		}
		if op.Responses == nil {
			op.Responses = h.responses
		}
		for name, vs := range h.query {
			if !slices.ContainsFunc(op.Parameters, func(p scan.Parameter) bool { return p.In == "query" && p.Name == name }) {
				op.Parameters = append(op.Parameters, scan.Parameter{
					Name: name, In: "query", Schema: &scan.Schema{Type: "string"}, Example: vs[0],
				})
			}
		}
	}
	for _, op := range ops {
		slices.SortStableFunc(op.Parameters, func(a, b scan.Parameter) int {
			if a.In != b.In {
				return strings.Compare(a.In, b.In)
			}
			if a.In == "path" {
				return 0 // keep template order
			}
			return strings.Compare(a.Name, b.Name)
		})
	}
	slices.SortFunc(ops, func(a, b *scan.Operation) int {
		if a.Path != b.Path {
			return strings.Compare(a.Path, b.Path)
		}
		return methodRank(a.Method) - methodRank(b.Method)
	})
	return ops
}

func methodRank(m string) int {
	i := slices.Index([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, m)
	if i < 0 {
		return 99
	}
	return i
}

func looksJSON(contentType string, body []byte) bool {
	if strings.Contains(strings.ToLower(contentType), "json") {
		return true
	}
	b := bytes.TrimSpace(body)
	return len(b) > 0 && (b[0] == '{' || b[0] == '[')
}

func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.TrimSpace(strings.ToLower(mt))
	if mt == "" || !strings.Contains(mt, "json") {
		return "application/json"
	}
	return mt
}
