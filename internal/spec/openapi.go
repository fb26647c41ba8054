package spec

import (
	"sort"
	"strconv"
	"strings"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/pb33f/go-yaml"
)

// openapi maps an OpenAPI 3.x document.
func (p *parser) openapi(root *yaml.Node, out *Spec) {
	for _, s := range items(get(root, "servers")) {
		if u := str(get(s, "url")); u != "" {
			out.Info.Servers = append(out.Info.Servers, u)
		}
	}
	pairs(get(get(root, "components"), "securitySchemes"), func(name string, n *yaml.Node) {
		n, _, _, ok := p.follow(n, p.root, ptr("/components/securitySchemes", name))
		if !ok {
			return
		}
		out.SecuritySchemes[name] = SecurityScheme{
			Type:         str(get(n, "type")),
			Scheme:       strings.ToLower(str(get(n, "scheme"))),
			In:           str(get(n, "in")),
			Name:         str(get(n, "name")),
			BearerFormat: str(get(n, "bearerFormat")),
		}
	})
	global := security(root)
	p.paths(root, func(path string, item *yaml.Node, src *source, at string) {
		common := p.params(get(item, "parameters"), src, ptr(at, "parameters"))
		for _, m := range methods {
			opNode := get(item, m)
			opAt := ptr(at, m)
			if opNode == nil {
				continue
			}
			if opNode.Kind != yaml.MappingNode {
				p.warn(opAt, "the operation is not an object; skipped")
				continue
			}
			op := newOperation(path, m, opNode, global)
			op.Parameters = mergeParams(common, p.params(get(opNode, "parameters"), src, ptr(opAt, "parameters")))
			op.RequestBody = p.requestBody(get(opNode, "requestBody"), src, ptr(opAt, "requestBody"))
			op.Responses = p.responses(get(opNode, "responses"), src, ptr(opAt, "responses"))
			out.Operations = append(out.Operations, op)
		}
	})
}

// paths calls fn for each path item, sorted by path, following path-item
// $refs.
func (p *parser) paths(root *yaml.Node, fn func(path string, item *yaml.Node, src *source, at string)) {
	paths := get(root, "paths")
	var keys []string
	pairs(paths, func(k string, _ *yaml.Node) {
		if strings.HasPrefix(k, "/") {
			keys = append(keys, k)
		}
	})
	sort.Strings(keys)
	for _, k := range keys {
		at := ptr("/paths", k)
		v := get(paths, k)
		p.materialize(v)
		item, src, _, ok := p.follow(v, p.root, at)
		if ok {
			fn(k, item, src, at)
		}
		p.release(v)
	}
}

// newOperation fills what OpenAPI 3 and Swagger 2 operations share.
func newOperation(path, method string, n *yaml.Node, global []map[string][]string) *scan.Operation {
	op := &scan.Operation{
		ID:         str(get(n, "operationId")),
		Method:     strings.ToUpper(method),
		Path:       path,
		Summary:    str(get(n, "summary")),
		Tags:       strs(get(n, "tags")),
		Security:   global,
		Deprecated: boolean(get(n, "deprecated")),
		Source:     "spec",
		Pointer:    ptr("/paths", path, method),
	}
	if op.ID == "" {
		op.ID = op.Method + " " + path
	}
	if has(n, "security") {
		op.Security = security(n)
	}
	return op
}

// security reads a security requirement list. A missing key is nil; an
// empty list is an empty, non-nil slice (explicitly public).
func security(n *yaml.Node) []map[string][]string {
	if !has(n, "security") {
		return nil
	}
	reqs := []map[string][]string{}
	for _, r := range items(get(n, "security")) {
		req := map[string][]string{}
		pairs(r, func(name string, scopes *yaml.Node) {
			req[name] = append([]string{}, strs(scopes)...)
		})
		reqs = append(reqs, req)
	}
	return reqs
}

// params maps an OpenAPI 3 parameter list.
func (p *parser) params(list *yaml.Node, src *source, at string) []scan.Parameter {
	var out []scan.Parameter
	for i, e := range items(list) {
		n, nsrc, nat, ok := p.follow(e, src, ptr(at, strconv.Itoa(i)))
		if !ok {
			continue
		}
		prm := scan.Parameter{
			Name:     str(get(n, "name")),
			In:       str(get(n, "in")),
			Required: boolean(get(n, "required")),
		}
		if !p.validParam(nat, prm.Name, prm.In, "path, query, header or cookie", oasLocations) {
			continue
		}
		if s := get(n, "schema"); s != nil {
			prm.Schema = p.schema(s, nsrc, ptr(nat, "schema"))
		} else {
			pairs(get(n, "content"), func(mt string, m *yaml.Node) {
				if prm.Schema == nil {
					prm.Schema = p.schema(get(m, "schema"), nsrc, ptr(nat, "content", mt, "schema"))
				}
			})
		}
		prm.Example = p.example(n, nsrc, nat)
		if prm.Example == nil && prm.Schema != nil {
			prm.Example = prm.Schema.Example
		}
		out = append(out, prm)
	}
	return out
}

// oasLocations and swaggerLocations are where parameters may be.
var (
	oasLocations     = map[string]bool{"path": true, "query": true, "header": true, "cookie": true}
	swaggerLocations = map[string]bool{"path": true, "query": true, "header": true, "body": true, "formData": true}
)

// validParam reports whether a parameter has a name and a known location,
// and warns, naming the pointer at, when it has not.
func (p *parser) validParam(at, name, in, want string, known map[string]bool) bool {
	switch {
	case name == "":
		p.warn(at, "the parameter has no name; skipped")
		return false
	case !known[in]:
		p.warn(at, "parameter %q has in: %q, want %s; skipped", name, in, want)
		return false
	}
	return true
}

// example reads "example", or the first of "examples" (following
// Example-object $refs), from a parameter or media type object.
func (p *parser) example(n *yaml.Node, src *source, at string) any {
	if has(n, "example") {
		return value(get(n, "example"), &p.budget, 0)
	}
	var ex any
	found := false
	pairs(get(n, "examples"), func(name string, e *yaml.Node) {
		if found {
			return
		}
		e, _, _, ok := p.follow(e, src, ptr(at, "examples", name))
		if ok && has(e, "value") {
			ex, found = value(get(e, "value"), &p.budget, 0), true
		}
	})
	return ex
}

// mergeParams merges path-item and operation parameters: an operation
// parameter replaces the path item's one with the same name and location.
func mergeParams(common, own []scan.Parameter) []scan.Parameter {
	if len(common) == 0 {
		return own
	}
	out := append([]scan.Parameter(nil), common...)
	for _, o := range own {
		replaced := false
		for i := range out {
			if out[i].Name == o.Name && out[i].In == o.In {
				out[i], replaced = o, true
				break
			}
		}
		if !replaced {
			out = append(out, o)
		}
	}
	return out
}

// requestBody maps an OpenAPI 3 request body.
func (p *parser) requestBody(n *yaml.Node, src *source, at string) *scan.RequestBody {
	if n == nil {
		return nil
	}
	n, src, at, ok := p.follow(n, src, at)
	if !ok {
		return nil
	}
	rb := &scan.RequestBody{Required: boolean(get(n, "required"))}
	mt, m := pickMedia(get(n, "content"))
	if m != nil {
		mat := ptr(at, "content", mt)
		rb.ContentType = mt
		if s := get(m, "schema"); s != nil {
			rb.Schema = p.schema(s, src, ptr(mat, "schema"))
		}
		rb.Example = p.example(m, src, mat)
		if rb.Example == nil && rb.Schema != nil {
			rb.Example = rb.Schema.Example
		}
	}
	return rb
}

// responses maps an OpenAPI 3 responses object.
func (p *parser) responses(n *yaml.Node, src *source, at string) map[string]*scan.Response {
	var out map[string]*scan.Response
	pairs(n, func(code string, r *yaml.Node) {
		if strings.HasPrefix(code, "x-") {
			return
		}
		r, rsrc, rat, ok := p.follow(r, src, ptr(at, code))
		if !ok {
			return
		}
		resp := &scan.Response{}
		if mt, m := pickMedia(get(r, "content")); m != nil {
			resp.ContentType = mt
			if s := get(m, "schema"); s != nil {
				resp.Schema = p.schema(s, rsrc, ptr(rat, "content", mt, "schema"))
			}
		}
		if out == nil {
			out = make(map[string]*scan.Response)
		}
		out[code] = resp
	})
	return out
}

// pickMedia chooses the media type Merlon speaks: application/json, else
// any JSON type, else the first listed.
func pickMedia(content *yaml.Node) (string, *yaml.Node) {
	var types []string
	pairs(content, func(k string, _ *yaml.Node) { types = append(types, k) })
	if len(types) == 0 {
		return "", nil
	}
	mt := pickType(types)
	return mt, get(content, mt)
}

// pickType prefers application/json, then any JSON type, then the first.
func pickType(types []string) string {
	for _, t := range types {
		if strings.EqualFold(t, "application/json") {
			return t
		}
	}
	for _, t := range types {
		if strings.Contains(strings.ToLower(t), "json") {
			return t
		}
	}
	if len(types) > 0 {
		return types[0]
	}
	return ""
}
