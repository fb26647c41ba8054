package spec

import (
	"strconv"
	"strings"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/pb33f/go-yaml"
)

// swagger maps a Swagger 2.0 document.
func (p *parser) swagger(root *yaml.Node, out *Spec) {
	host, base := str(get(root, "host")), str(get(root, "basePath"))
	if host != "" || base != "" {
		schemes := strs(get(root, "schemes"))
		switch {
		case host == "":
			out.Info.Servers = []string{base}
		case len(schemes) == 0:
			// Scheme-relative: the scheme is whatever served the spec.
			out.Info.Servers = []string{"//" + host + base}
		default:
			for _, s := range schemes {
				out.Info.Servers = append(out.Info.Servers, s+"://"+host+base)
			}
		}
	}
	pairs(get(root, "securityDefinitions"), func(name string, n *yaml.Node) {
		s := SecurityScheme{Type: str(get(n, "type")), In: str(get(n, "in")), Name: str(get(n, "name"))}
		if s.Type == "basic" {
			s.Type, s.Scheme = "http", "basic"
		}
		out.SecuritySchemes[name] = s
	})
	global := security(root)
	consumes, produces := strs(get(root, "consumes")), strs(get(root, "produces"))
	p.paths(root, func(path string, item *yaml.Node, src *source, at string) {
		common := p.rawParams(get(item, "parameters"), src, ptr(at, "parameters"))
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
			cons, prod := consumes, produces
			if has(opNode, "consumes") {
				cons = strs(get(opNode, "consumes"))
			}
			if has(opNode, "produces") {
				prod = strs(get(opNode, "produces"))
			}
			raw := mergeRaw(common, p.rawParams(get(opNode, "parameters"), src, ptr(opAt, "parameters")))
			p.swaggerParams(op, raw, cons)
			op.Responses = p.swaggerResponses(get(opNode, "responses"), src, ptr(opAt, "responses"), prod)
			out.Operations = append(out.Operations, op)
		}
	})
}

// rawParam is a Swagger parameter object after $ref resolution.
type rawParam struct {
	node     *yaml.Node
	src      *source
	at       string
	name, in string
}

func (p *parser) rawParams(list *yaml.Node, src *source, at string) []rawParam {
	var out []rawParam
	for i, e := range items(list) {
		n, nsrc, nat, ok := p.follow(e, src, ptr(at, strconv.Itoa(i)))
		if !ok {
			continue
		}
		r := rawParam{n, nsrc, nat, str(get(n, "name")), str(get(n, "in"))}
		if p.validParam(nat, r.name, r.in, "path, query, header, body or formData", swaggerLocations) {
			out = append(out, r)
		}
	}
	return out
}

// mergeRaw lets operation parameters replace path-item ones with the same
// name and location.
func mergeRaw(common, own []rawParam) []rawParam {
	out := append([]rawParam(nil), common...)
	for _, o := range own {
		replaced := false
		for i := range out {
			if out[i].name == o.name && out[i].in == o.in {
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

// swaggerParams maps parameters: body becomes the request body, formData
// parameters become the properties of a form request body, the rest stay
// parameters with a schema read from their own type keywords.
func (p *parser) swaggerParams(op *scan.Operation, raw []rawParam, consumes []string) {
	var form *scan.Schema
	multipart := false
	for _, r := range raw {
		switch r.in {
		case "body":
			rb := &scan.RequestBody{
				Required:    boolean(get(r.node, "required")),
				ContentType: pickType(consumes),
				Schema:      p.schema(get(r.node, "schema"), r.src, ptr(r.at, "schema")),
			}
			if rb.ContentType == "" {
				rb.ContentType = "application/json"
			}
			if rb.Schema != nil {
				rb.Example = rb.Schema.Example
			}
			if has(r.node, "x-example") {
				rb.Example = value(get(r.node, "x-example"), &p.budget, 0)
			}
			op.RequestBody = rb
		case "formData":
			if form == nil {
				form = &scan.Schema{Type: "object", Properties: map[string]*scan.Schema{}}
			}
			if s := p.schema(r.node, r.src, r.at); s != nil {
				form.Properties[r.name] = s
			}
			if boolean(get(r.node, "required")) {
				form.Required = append(form.Required, r.name)
			}
			multipart = multipart || str(get(r.node, "type")) == "file"
		default:
			prm := scan.Parameter{
				Name:     r.name,
				In:       r.in,
				Required: boolean(get(r.node, "required")),
				Schema:   p.schema(r.node, r.src, r.at),
			}
			if has(r.node, "x-example") {
				prm.Example = value(get(r.node, "x-example"), &p.budget, 0)
			} else if prm.Schema != nil {
				prm.Example = prm.Schema.Example
			}
			op.Parameters = append(op.Parameters, prm)
		}
	}
	if form != nil && op.RequestBody == nil {
		ct := "application/x-www-form-urlencoded"
		for _, c := range consumes {
			if strings.HasPrefix(c, "multipart/form-data") || (!multipart && strings.HasPrefix(c, ct)) {
				ct = c
				break
			}
		}
		if multipart {
			ct = "multipart/form-data"
		}
		op.RequestBody = &scan.RequestBody{ContentType: ct, Schema: form, Required: len(form.Required) > 0}
	}
}

// swaggerResponses maps a Swagger 2.0 responses object.
func (p *parser) swaggerResponses(n *yaml.Node, src *source, at string, produces []string) map[string]*scan.Response {
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
		if s := get(r, "schema"); s != nil {
			resp.Schema = p.schema(s, rsrc, ptr(rat, "schema"))
			resp.ContentType = pickType(produces)
			if resp.ContentType == "" {
				resp.ContentType = "application/json"
			}
		}
		if out == nil {
			out = make(map[string]*scan.Response)
		}
		out[code] = resp
	})
	return out
}
