package discover

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/merlonsec/merlon/internal/scan"
)

// Segments that name an object rather than a resource: numbers, UUIDs and
// 24-digit hex object IDs.
var (
	uuidSegment = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)
	hexSegment  = regexp.MustCompile(`^[0-9a-fA-F]{24}$`)
)

func isNumeric(s string) bool {
	if s == "" || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}

// segments splits a clean absolute path; "/" has none.
func segments(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// classify says, for each segment of p, whether it names an object and,
// if it is a known item of a collection, which field it came from.
func (c *crawler) classify(segs []string) (templated []bool, fields []string) {
	templated = make([]bool, len(segs))
	fields = make([]string, len(segs))
	canon := make([]string, 0, len(segs))
	for i, seg := range segs {
		prefix := "/" + strings.Join(canon, "/")
		if f, ok := c.items[prefix][seg]; ok {
			templated[i], fields[i] = true, f
		} else if isNumeric(seg) || uuidSegment.MatchString(seg) || hexSegment.MatchString(seg) {
			templated[i] = true
		}
		if templated[i] {
			canon = append(canon, "{}")
		} else {
			canon = append(canon, seg)
		}
	}
	return templated, fields
}

// canonical is p with every object segment written "{}", the key under
// which paths to the same operation meet whatever their parameter names.
func (c *crawler) canonical(p string) string {
	segs := segments(p)
	templated, _ := c.classify(segs)
	for i := range segs {
		if templated[i] {
			segs[i] = "{}"
		}
	}
	return "/" + strings.Join(segs, "/")
}

// template turns a concrete path into a path template and its parameters.
// The last object segment is named after its collection's ID field, or
// "id"; earlier ones after the resource before them ("userId"), so that
// names stay unique.
func (c *crawler) template(p string) (string, []scan.Parameter) {
	segs := segments(p)
	templated, fields := c.classify(segs)
	last := -1
	for i := range segs {
		if templated[i] {
			last = i
		}
	}
	var params []scan.Parameter
	used := make(map[string]bool)
	out := make([]string, len(segs))
	for i, seg := range segs {
		if !templated[i] {
			out[i] = seg
			continue
		}
		name := fields[i]
		if name == "" {
			name = "id"
		}
		if i != last && (name == "id" || name == "uuid" || name == "_id") {
			if i > 0 && !templated[i-1] {
				name = singular(segs[i-1]) + "Id"
			}
		}
		base := name
		for n := 2; used[name]; n++ {
			name = base + strconv.Itoa(n)
		}
		used[name] = true
		out[i] = "{" + name + "}"

		value := seg
		if u, err := url.PathUnescape(seg); err == nil {
			value = u
		}
		schema := &scan.Schema{Type: "string"}
		switch {
		case isNumeric(seg):
			schema.Type = "integer"
		case uuidSegment.MatchString(seg):
			schema.Format = "uuid"
		}
		params = append(params, scan.Parameter{Name: name, In: "path", Required: true, Schema: schema, Example: value})
	}
	return "/" + strings.Join(out, "/"), params
}

// singular makes a resource name singular and usable in a parameter name:
// "users" -> "user", "categories" -> "category", "line-items" -> "lineItem".
func singular(s string) string {
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	var b strings.Builder
	upper := false
	for _, r := range s {
		switch {
		case r == '-' || r == '_' || r == '.' || r == ' ':
			upper = b.Len() > 0
		case (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9'):
			if upper && r >= 'a' && r <= 'z' {
				r -= 'a' - 'A'
			}
			b.WriteRune(r)
			upper = false
		}
	}
	s = b.String()
	switch {
	case strings.HasSuffix(s, "ies") && len(s) > 3:
		return s[:len(s)-3] + "y"
	case strings.HasSuffix(s, "ss"):
		return s
	case strings.HasSuffix(s, "s") && len(s) > 1:
		return s[:len(s)-1]
	case s == "":
		return "parent"
	}
	return s
}

// listKeys are the members that commonly wrap a page of a collection.
var listKeys = []string{"data", "items", "results", "records", "content", "entries", "rows", "list"}

// listOf finds the objects of a collection response: the document itself
// when it is an array of objects, or the array of objects under a wrapper
// key or under the resource's own name ({"users": [...]} at /users).
func listOf(doc any, resource string) ([]map[string]any, bool) {
	if objs, ok := objects(doc); ok {
		return objs, true
	}
	m, ok := doc.(map[string]any)
	if !ok {
		return nil, false
	}
	for _, k := range append(append([]string(nil), listKeys...), resource) {
		if objs, ok := objects(m[k]); ok {
			return objs, true
		}
	}
	return nil, false
}

// objects reports whether v is an array whose elements are all objects (an
// empty array counts: an empty collection is still a collection).
func objects(v any) ([]map[string]any, bool) {
	arr, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]map[string]any, 0, len(arr))
	for _, e := range arr {
		o, ok := e.(map[string]any)
		if !ok {
			return nil, false
		}
		out = append(out, o)
	}
	return out, true
}

// idFields are the members an object is commonly addressed by, best first.
var idFields = []string{"id", "uuid", "_id", "username", "slug"}

// idField returns the member o is probably addressed by in its item path.
func idField(o map[string]any) string {
	for _, f := range idFields {
		if _, ok := scalar(o[f]); ok {
			return f
		}
	}
	return ""
}

// scalar renders a string or number member as a path segment value.
func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, v != "" && len(v) <= 256
	case json.Number:
		return v.String(), true
	}
	return "", false
}

// maxInferDepth bounds the inferred schemas; the documents are bounded
// already, but a schema deeper than this says nothing a check uses.
const maxInferDepth = 8

// infer describes a decoded JSON value as a schema: its type, its members
// and, for strings, a format when the value shows one.
func infer(v any, depth int) *scan.Schema {
	switch v := v.(type) {
	case nil:
		return &scan.Schema{Nullable: true}
	case bool:
		return &scan.Schema{Type: "boolean"}
	case json.Number:
		if strings.ContainsAny(v.String(), ".eE") {
			return &scan.Schema{Type: "number"}
		}
		return &scan.Schema{Type: "integer"}
	case string:
		return &scan.Schema{Type: "string", Format: formatOf(v)}
	case []any:
		s := &scan.Schema{Type: "array"}
		if depth < maxInferDepth {
			for i, e := range v {
				if i >= maxSamples {
					break
				}
				s.Items = merge(s.Items, infer(e, depth+1))
			}
		}
		return s
	case map[string]any:
		s := &scan.Schema{Type: "object"}
		if depth < maxInferDepth && len(v) > 0 {
			s.Properties = make(map[string]*scan.Schema, len(v))
			for k, e := range v {
				s.Properties[k] = infer(e, depth+1)
			}
		}
		return s
	}
	return &scan.Schema{}
}

// merge combines two schemas inferred from values of the same place: the
// union of their properties, and a type where one of them had only null.
func merge(a, b *scan.Schema) *scan.Schema {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	if a.Type == "" && b.Type != "" {
		b.Nullable = b.Nullable || a.Nullable
		a, b = b, a
	} else if b.Type == "" {
		a.Nullable = true
	}
	if a.Type == "integer" && b.Type == "number" {
		a.Type = "number"
	}
	if a.Format != b.Format && b.Type != "" {
		a.Format = ""
	}
	for k, p := range b.Properties {
		if a.Properties == nil {
			a.Properties = make(map[string]*scan.Schema)
		}
		a.Properties[k] = merge(a.Properties[k], p)
	}
	if b.Items != nil {
		a.Items = merge(a.Items, b.Items)
	}
	return a
}

var (
	emailValue    = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	dateValue     = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	dateTimeValue = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}`)
)

// formatOf names the JSON Schema format a string value shows, if any.
func formatOf(s string) string {
	switch {
	case uuidSegment.MatchString(s):
		return "uuid"
	case emailValue.MatchString(s):
		return "email"
	case dateValue.MatchString(s):
		return "date"
	case dateTimeValue.MatchString(s):
		return "date-time"
	case strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://"):
		return "uri"
	}
	return ""
}
