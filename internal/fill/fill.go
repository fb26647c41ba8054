package fill

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/merlonsec/merlon/internal/scan"
)

// Plausible values for parameters and properties that say nothing better.
// They are recognisable in a target's logs as Merlon's.
const (
	plainString = "merlon"
	plainUUID   = "00000000-0000-4000-8000-000000000001"
	plainEmail  = "merlon@example.com"
	plainDate   = "2024-01-01"
)

// maxBodyDepth bounds how deep Body descends into nested schemas, so that a
// spec with deeply nested or self-referencing components yields a small body.
const maxBodyDepth = 6

// Request builds a request for op: the path template filled in, the
// required query parameters (and optional ones that carry an example),
// header and cookie parameters that are required or carry an example, and,
// for an operation that takes a JSON or form body, a body built from its
// example or schema. Values harvested into vals win over invented ones.
func Request(op *scan.Operation, vals *scan.ValueBank) *scan.Request {
	req := &scan.Request{Method: strings.ToUpper(op.Method), Operation: op}

	byName := make(map[string]scan.Parameter)
	for _, p := range op.Parameters {
		if p.In == "path" {
			byName[p.Name] = p
		}
	}
	req.Path = op.Path
	for _, name := range scan.PathParams(op.Path) {
		p, ok := byName[name]
		if !ok {
			p = scan.Parameter{Name: name, In: "path", Required: true}
		}
		req.Path = strings.Replace(req.Path, "{"+name+"}", url.PathEscape(PathValue(p, vals)), 1)
	}

	var cookies []string
	for _, p := range op.Parameters {
		if p.In == "path" || (!p.Required && !hasExample(p)) {
			continue
		}
		v := PathValue(p, vals)
		switch p.In {
		case "query":
			if req.Query == nil {
				req.Query = url.Values{}
			}
			req.Query.Add(p.Name, v)
		case "header":
			// OpenAPI ignores header parameters with these names: the
			// content negotiation and security fields describe them.
			switch http.CanonicalHeaderKey(p.Name) {
			case "Accept", "Content-Type", "Authorization":
				continue
			}
			if req.Header == nil {
				req.Header = http.Header{}
			}
			req.Header.Set(p.Name, v)
		case "cookie":
			cookies = append(cookies, p.Name+"="+url.QueryEscape(v))
		}
	}
	if len(cookies) > 0 {
		if req.Header == nil {
			req.Header = http.Header{}
		}
		req.Header.Set("Cookie", strings.Join(cookies, "; "))
	}

	if rb := op.RequestBody; rb != nil {
		setBody(req, rb)
	}
	return req
}

// setBody encodes rb's example, or a value built from its schema, as JSON
// or as a form, depending on the body's media type. Other media types get no
// body: Merlon cannot build one it would trust.
func setBody(req *scan.Request, rb *scan.RequestBody) {
	v := rb.Example
	if v == nil {
		v = Body(rb.Schema)
	}
	ct := rb.ContentType
	if ct == "" {
		ct = "application/json"
	}
	switch lower := strings.ToLower(ct); {
	case strings.Contains(lower, "json"):
		if v == nil {
			v = map[string]any{}
		}
		b, err := json.Marshal(v)
		if err != nil {
			return
		}
		req.Body = b
	case strings.HasPrefix(lower, "application/x-www-form-urlencoded"):
		form := url.Values{}
		if m, ok := v.(map[string]any); ok {
			for k, fv := range m {
				form.Set(k, scalarString(fv))
			}
		}
		req.Body = []byte(form.Encode())
	default:
		return
	}
	if req.Header == nil {
		req.Header = http.Header{}
	}
	req.Header.Set("Content-Type", ct)
}

func hasExample(p scan.Parameter) bool {
	return p.Example != nil || (p.Schema != nil && p.Schema.Example != nil)
}

// PathValue picks a value for a parameter, trying in order: a value
// harvested under the parameter's name (and, for ID-like names such as
// "userId", one harvested under "id"); the parameter's example; its
// schema's example, default and first enum value; and last a plausible
// value for its type and format ("1" for integers, a UUID, an email address,
// a date, or "merlon").
func PathValue(p scan.Parameter, vals *scan.ValueBank) string {
	if v, ok := vals.Get(p.Name); ok {
		return v
	}
	if IsIDLike(p.Name) {
		if v, ok := vals.Get("id"); ok {
			return v
		}
	}
	switch p.Example.(type) {
	case nil, map[string]any, []any:
		// An object or array is no value for one URL segment.
	default:
		return scalarString(p.Example)
	}
	s := p.Schema
	if s == nil {
		if IsIDLike(p.Name) {
			return "1"
		}
		return plainString
	}
	if s.Type == "" && len(s.Properties) == 0 && s.Items == nil && len(s.OneOf) == 0 &&
		s.Example == nil && s.Default == nil && len(s.Enum) == 0 && s.Format == "" && IsIDLike(p.Name) {
		return "1"
	}
	return scalarString(Body(s))
}

// scalarString renders a value as it would appear in a URL: numbers
// without exponents, arrays as their first element, objects as JSON.
func scalarString(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case bool:
		return strconv.FormatBool(v)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, json.Number:
		return fmt.Sprint(v)
	case []any:
		if len(v) == 0 {
			return ""
		}
		return scalarString(v[0])
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// Body builds a JSON value that satisfies s where it can: the schema's
// example, default or first enum value when it has one; otherwise an object
// with every required and every non-readOnly property, an array of one
// item, or a plausible scalar for the type and format that respects the
// length and range bounds. It descends at most six levels and stops at
// circular schemas; a nil schema gives nil.
func Body(s *scan.Schema) any {
	return build(s, 0, make(map[*scan.Schema]bool))
}

func build(s *scan.Schema, depth int, onPath map[*scan.Schema]bool) any {
	if s == nil {
		return nil
	}
	switch {
	case s.Example != nil:
		return s.Example
	case s.Default != nil:
		return s.Default
	case len(s.Enum) > 0:
		return s.Enum[0]
	}
	if s.Circular || onPath[s] || depth >= maxBodyDepth {
		return emptyOf(s)
	}
	onPath[s] = true
	defer delete(onPath, s)

	typ := s.Type
	if typ == "" {
		switch {
		case len(s.Properties) > 0:
			typ = "object"
		case s.Items != nil:
			typ = "array"
		case len(s.OneOf) > 0:
			return build(s.OneOf[0], depth+1, onPath)
		}
	}
	switch typ {
	case "object":
		obj := make(map[string]any, len(s.Properties))
		required := make(map[string]bool, len(s.Required))
		for _, name := range s.Required {
			required[name] = true
		}
		for name, ps := range s.Properties {
			if ps == nil || (ps.ReadOnly && !required[name]) {
				continue
			}
			v := build(ps, depth+1, onPath)
			if v == nil && !required[name] && !ps.Nullable {
				continue
			}
			obj[name] = v
		}
		return obj
	case "array":
		item := build(s.Items, depth+1, onPath)
		if item == nil && s.Items == nil {
			item = plainString
		}
		if item == nil {
			return []any{}
		}
		return []any{item}
	case "integer":
		return int64(clamp(1, s.Minimum, s.Maximum, true))
	case "number":
		return clamp(1, s.Minimum, s.Maximum, false)
	case "boolean":
		return true
	case "null":
		return nil
	}
	return fitLength(stringFor(s.Format), s.MinLength, s.MaxLength)
}

// emptyOf is what Body puts where it stops descending: an empty container
// of the right kind, or nothing.
func emptyOf(s *scan.Schema) any {
	switch {
	case s.Type == "object" || (s.Type == "" && len(s.Properties) > 0):
		return map[string]any{}
	case s.Type == "array":
		return []any{}
	}
	return nil
}

// stringFor is a plausible string for a JSON Schema format.
func stringFor(format string) string {
	switch strings.ToLower(format) {
	case "uuid":
		return plainUUID
	case "email", "idn-email":
		return plainEmail
	case "date":
		return plainDate
	case "date-time":
		return plainDate + "T00:00:00Z"
	case "time":
		return "00:00:00Z"
	case "uri", "url", "iri", "uri-reference":
		return "https://example.com/merlon"
	case "hostname", "idn-hostname":
		return "example.com"
	case "ipv4":
		return "192.0.2.1"
	case "ipv6":
		return "2001:db8::1"
	case "byte":
		return "bWVybG9u" // base64 of "merlon"
	case "password":
		return "Merlon-Passw0rd!"
	}
	return plainString
}

// fitLength pads or cuts s to satisfy the length bounds.
func fitLength(s string, minLen, maxLen *int64) string {
	if minLen != nil && *minLen > int64(len(s)) {
		n := min(*minLen, 4096)
		for int64(len(s)) < n {
			s += "x"
		}
	}
	if maxLen != nil && *maxLen >= 0 && *maxLen < int64(len(s)) {
		s = s[:*maxLen]
	}
	return s
}

// clamp moves v into [minimum, maximum], rounding inwards for integers.
func clamp(v float64, minimum, maximum *float64, integer bool) float64 {
	if minimum != nil && v < *minimum {
		v = *minimum
		if integer {
			v = math.Ceil(v)
		}
	}
	if maximum != nil && v > *maximum {
		v = *maximum
		if integer {
			v = math.Floor(v)
		}
	}
	return v
}
