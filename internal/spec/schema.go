package spec

import (
	"errors"
	"math"
	"slices"
	"strconv"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/pb33f/go-yaml"
)

// Bounds on schema conversion. Past softSteps every converted reference
// is cached even when a cycle cut made its shape depend on where it was
// met, which keeps heavily recursive documents linear; past hardSteps the
// document is refused.
const (
	softSteps  = 200_000
	hardSteps  = 5_000_000
	maxDepth   = 64  // references being expanded at once
	maxNesting = 256 // schemas nested in one another, inline or not
)

var errTooComplex = errors.New("document too complex: schema conversion budget exhausted")

// none marks "no cycle cut below" in the low-water mark conv returns.
const none = math.MaxInt

// schema converts the schema object n, found in src at pointer at.
func (p *parser) schema(n *yaml.Node, src *source, at string) *scan.Schema {
	s, _ := p.conv(n, src, at, nil)
	return s
}

// conv converts one schema. stack holds the keys of the referenced
// schemas being converted on the current path; meeting one again is a
// cycle, cut with a Circular stub. low is the smallest stack index a cut
// below pointed at, so that a result is cached only when it does not
// depend on the path it was reached by.
func (p *parser) conv(n *yaml.Node, src *source, at string, stack []string) (s *scan.Schema, low int) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode || p.err != nil {
		return nil, none
	}
	p.steps++
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > maxNesting {
		// Only YAML aliases that contain themselves nest this deep.
		return &scan.Schema{Type: schemaType(n), Circular: true}, 0
	}
	if p.steps > hardSteps {
		p.fail(errTooComplex)
		return nil, none
	}
	if len(stack) > maxDepth {
		return &scan.Schema{Type: schemaType(n), Circular: true}, 0
	}
	ref := get(n, "$ref")
	if ref == nil {
		return p.inline(n, src, at, stack)
	}
	t, ok := p.resolve(str(ref), src, at)
	if !ok {
		return &scan.Schema{Ref: t.name}, none
	}
	if i := slices.Index(stack, t.key); i >= 0 {
		return &scan.Schema{Ref: t.name, Type: schemaType(t.node), Circular: true}, i
	}
	siblings := p.v31 && len(n.Content) > 2
	s, cached := p.cache[t.key]
	low = none
	if !cached {
		idx := len(stack)
		s, low = p.conv(t.node, t.src, t.at, append(stack, t.key))
		if s == nil {
			s = &scan.Schema{}
		}
		if s.Ref != t.name {
			c := *s
			c.Ref = t.name
			s = &c
		}
		if low >= idx || p.steps > softSteps {
			p.cache[t.key] = s
			low = none
		}
	}
	if siblings {
		sib, l := p.inline(n, src, at, stack)
		low = min(low, l)
		c := *s
		merge(&c, sib, true)
		s = &c
	}
	return s, low
}

// inline converts a schema object that is not a $ref.
func (p *parser) inline(n *yaml.Node, src *source, at string, stack []string) (*scan.Schema, int) {
	low := none
	sub := func(n *yaml.Node, toks ...string) *scan.Schema {
		s, l := p.conv(n, src, ptr(at, toks...), stack)
		low = min(low, l)
		return s
	}
	s := &scan.Schema{
		Format:    str(get(n, "format")),
		Pattern:   str(get(n, "pattern")),
		ReadOnly:  boolean(get(n, "readOnly")),
		WriteOnly: boolean(get(n, "writeOnly")),
		Nullable:  boolean(get(n, "nullable")) || boolean(get(n, "x-nullable")),
		MinLength: intPtr(get(n, "minLength")),
		MaxLength: intPtr(get(n, "maxLength")),
		Minimum:   floatPtr(get(n, "minimum")),
		Maximum:   floatPtr(get(n, "maximum")),
		Required:  strs(get(n, "required")),
	}
	t := get(n, "type")
	if t != nil && t.Kind == yaml.SequenceNode {
		for _, e := range strs(t) {
			if e == "null" {
				s.Nullable = true
			} else if s.Type == "" {
				s.Type = e
			}
		}
	} else {
		s.Type = str(t)
	}
	if t != nil && !jsonTypes[s.Type] && (s.Type != "" || t.Kind != yaml.SequenceNode) {
		p.warn(ptr(at, "type"), "%q is not a JSON Schema type; ignored", str(t))
		s.Type = ""
	}
	for _, e := range items(get(n, "enum")) {
		s.Enum = append(s.Enum, value(e, &p.budget, 0))
	}
	if has(n, "example") {
		s.Example = value(get(n, "example"), &p.budget, 0)
	} else if ex := items(get(n, "examples")); len(ex) > 0 {
		s.Example = value(ex[0], &p.budget, 0)
	}
	if has(n, "default") {
		s.Default = value(get(n, "default"), &p.budget, 0)
	}
	pairs(get(n, "properties"), func(k string, v *yaml.Node) {
		if c := sub(v, "properties", k); c != nil {
			if s.Properties == nil {
				s.Properties = make(map[string]*scan.Schema)
			}
			s.Properties[k] = c
		}
	})
	if it := get(n, "items"); it != nil && it.Kind == yaml.MappingNode {
		s.Items = sub(it, "items")
	}
	if ap := get(n, "additionalProperties"); ap != nil {
		if b, ok := boolValue(ap); ok {
			s.AdditionalProperties = &b
		} else if ap.Kind == yaml.MappingNode {
			t := true
			s.AdditionalProperties = &t
		}
	}
	for i, e := range items(get(n, "allOf")) {
		merge(s, sub(e, "allOf", strconv.Itoa(i)), false)
	}
	for _, key := range []string{"oneOf", "anyOf"} {
		for i, e := range items(get(n, key)) {
			if c := sub(e, key, strconv.Itoa(i)); c != nil {
				s.OneOf = append(s.OneOf, c)
			}
		}
	}
	if s.Type == "" {
		switch {
		case s.Properties != nil:
			s.Type = "object"
		case s.Items != nil:
			s.Type = "array"
		}
	}
	return s, low
}

// merge folds src into dst: allOf parts (srcWins false: what dst already
// says stands) or $ref siblings (srcWins true). Maps and slices of dst
// are replaced, never written through, because src and dst's old values
// may be shared cached schemas.
func merge(dst, src *scan.Schema, srcWins bool) {
	if src == nil {
		return
	}
	if len(src.Properties) > 0 {
		props := make(map[string]*scan.Schema, len(dst.Properties)+len(src.Properties))
		for k, v := range dst.Properties {
			props[k] = v
		}
		for k, v := range src.Properties {
			if _, ok := props[k]; !ok || srcWins {
				props[k] = v
			}
		}
		dst.Properties = props
	}
	if len(src.Required) > 0 {
		req := slices.Clone(dst.Required)
		for _, r := range src.Required {
			if !slices.Contains(req, r) {
				req = append(req, r)
			}
		}
		dst.Required = req
	}
	if len(src.OneOf) > 0 {
		dst.OneOf = append(slices.Clone(dst.OneOf), src.OneOf...)
	}
	pick := func(d *string, s string) {
		if s != "" && (*d == "" || srcWins) {
			*d = s
		}
	}
	pick(&dst.Type, src.Type)
	pick(&dst.Format, src.Format)
	pick(&dst.Pattern, src.Pattern)
	if src.Items != nil && (dst.Items == nil || srcWins) {
		dst.Items = src.Items
	}
	if src.Enum != nil && (dst.Enum == nil || srcWins) {
		dst.Enum = src.Enum
	}
	if src.Example != nil && (dst.Example == nil || srcWins) {
		dst.Example = src.Example
	}
	if src.Default != nil && (dst.Default == nil || srcWins) {
		dst.Default = src.Default
	}
	if src.MinLength != nil && (dst.MinLength == nil || srcWins) {
		dst.MinLength = src.MinLength
	}
	if src.MaxLength != nil && (dst.MaxLength == nil || srcWins) {
		dst.MaxLength = src.MaxLength
	}
	if src.Minimum != nil && (dst.Minimum == nil || srcWins) {
		dst.Minimum = src.Minimum
	}
	if src.Maximum != nil && (dst.Maximum == nil || srcWins) {
		dst.Maximum = src.Maximum
	}
	if src.AdditionalProperties != nil && (dst.AdditionalProperties == nil || srcWins) {
		dst.AdditionalProperties = src.AdditionalProperties
	}
	dst.ReadOnly = dst.ReadOnly || src.ReadOnly
	dst.WriteOnly = dst.WriteOnly || src.WriteOnly
	dst.Nullable = dst.Nullable || src.Nullable
}

// jsonTypes are the types a schema may name (Swagger 2.0's "file"
// included).
var jsonTypes = map[string]bool{
	"string": true, "number": true, "integer": true, "boolean": true,
	"array": true, "object": true, "null": true, "file": true,
}

// schemaType reads a schema's type without converting it, for the stubs
// that cut cycles.
func schemaType(n *yaml.Node) string {
	t := get(n, "type")
	for _, e := range strs(t) {
		if e != "null" {
			return e
		}
	}
	return str(t)
}
