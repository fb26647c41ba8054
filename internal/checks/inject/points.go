package inject

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/property"
	"github.com/merlonsec/merlon/internal/fill"
	"github.com/merlonsec/merlon/internal/scan"
)

// point is one place a value can be injected into an operation's request.
type point struct {
	op   *scan.Operation
	in   string // "path", "query", "header", "cookie" or "body"
	name string // the parameter name, or the body field's path: "filter.name", "items[0].id"
	// keys is the body field's path, for in == "body": a string for an
	// object member, an int for an array element.
	keys []any
	// value is what the unchanged request sends there, as text.
	value string
	// numeric is set when that value is a number, or the schema says so.
	numeric bool
}

// Location is how findings name the point: "id (path)", "filter.name (body)".
func (p *point) Location() string { return p.name + " (" + p.in + ")" }

// operation is one operation with its unchanged request and its points.
type operation struct {
	op     *scan.Operation
	params map[string]string // path, query, header and cookie values by in+":"+name
	body   any               // the decoded JSON body, nil for none
	points []*point

	// res is the resource a create or an update writes, nil for other
	// operations; create and update say which op is.
	res            *property.Resource
	create, update bool
	// key is the key of the object an update is probed on: one the
	// check created for it.
	key string
	// halted stops a create's probes once one made an object that
	// could not be deleted.
	halted bool
}

// plan builds op's unchanged request and lists its points: every path,
// query, header and cookie parameter the operation declares (optional
// ones included, so that they are reachable), and every string or number
// field of its JSON body, nested ones included.
func plan(op *scan.Operation, vals *scan.ValueBank) *operation {
	o := &operation{op: op, params: make(map[string]string)}
	seen := make(map[string]bool)
	for _, name := range scan.PathParams(op.Path) {
		p := param(op, name, "path")
		o.add(p, fill.PathValue(p, vals))
		seen["path:"+name] = true
	}
	for _, p := range op.Parameters {
		if seen[p.In+":"+p.Name] || p.In == "path" {
			continue
		}
		if p.In == "header" {
			switch http.CanonicalHeaderKey(p.Name) {
			case "Accept", "Content-Type", "Authorization", "Content-Length", "Host":
				continue
			}
		}
		if p.In != "query" && p.In != "header" && p.In != "cookie" {
			continue
		}
		seen[p.In+":"+p.Name] = true
		o.add(p, fill.PathValue(p, vals))
	}
	if rb := op.RequestBody; rb != nil && (rb.ContentType == "" || strings.Contains(strings.ToLower(rb.ContentType), "json")) {
		base := fill.Request(op, vals)
		if len(base.Body) > 0 {
			dec := json.NewDecoder(bytes.NewReader(base.Body))
			dec.UseNumber()
			var v any
			if dec.Decode(&v) == nil {
				o.body = v
				o.leaves(nil, v, rb.Schema)
			}
		}
	}
	return o
}

func (o *operation) add(p scan.Parameter, v string) {
	o.params[p.In+":"+p.Name] = v
	o.points = append(o.points, &point{op: o.op, in: p.In, name: p.Name, value: v, numeric: isNumeric(p.Schema, v)})
}

// leaves adds a point for each string or number in v, in key order. An
// array's first element stands for all of them: the elements share one
// schema and, in the code behind it, one path, and probing each would
// multiply the requests by the array's length.
func (o *operation) leaves(keys []any, v any, s *scan.Schema) {
	switch v := v.(type) {
	case map[string]any:
		names := make([]string, 0, len(v))
		for k := range v {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			var sub *scan.Schema
			if s != nil {
				sub = s.Properties[k]
			}
			o.leaves(append(keys[:len(keys):len(keys)], k), v[k], sub)
		}
	case []any:
		if len(v) == 0 {
			return
		}
		var sub *scan.Schema
		if s != nil {
			sub = s.Items
		}
		o.leaves(append(keys[:len(keys):len(keys)], 0), v[0], sub)
	case string, json.Number:
		if len(keys) == 0 {
			return
		}
		text := scalar(v)
		o.points = append(o.points, &point{op: o.op, in: "body", name: fieldName(keys), keys: keys,
			value: text, numeric: isNumeric(s, text)})
	}
}

// fieldName spells a body path as code would: members joined by dots,
// array elements in brackets ("items[0].name").
func fieldName(keys []any) string {
	var b strings.Builder
	for _, k := range keys {
		switch k := k.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", k)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(k)
		}
	}
	return b.String()
}

func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

func isNumeric(s *scan.Schema, v string) bool {
	if s != nil && (s.Type == "integer" || s.Type == "number") {
		return true
	}
	_, err := strconv.ParseFloat(v, 64)
	return err == nil && v != ""
}

func param(op *scan.Operation, name, in string) scan.Parameter {
	for _, p := range op.Parameters {
		if p.Name == name && p.In == in {
			return p
		}
	}
	return scan.Parameter{Name: name, In: in, Required: true}
}

// request builds the operation's request with pt (nil for none) set to
// value, a string or, for a body field, any JSON value. A query point
// whose value is a url.Values replaces the parameter with those keys
// (param[$ne]=…).
func (o *operation) request(pt *point, value any) *scan.Request {
	req := &scan.Request{Method: strings.ToUpper(o.op.Method), Operation: o.op, Query: url.Values{}, Header: http.Header{}}
	is := func(in, name string) bool { return pt != nil && pt.in == in && pt.name == name }
	text, _ := value.(string)

	req.Path = o.op.Path
	for _, name := range scan.PathParams(o.op.Path) {
		v := o.params["path:"+name]
		if is("path", name) {
			v = text
		}
		req.Path = strings.Replace(req.Path, "{"+name+"}", url.PathEscape(v), 1)
	}
	var cookies []string
	for _, p := range o.op.Parameters {
		v, ok := o.params[p.In+":"+p.Name]
		if !ok {
			continue
		}
		if is(p.In, p.Name) {
			if q, isQ := value.(url.Values); isQ && p.In == "query" {
				for k, vs := range q {
					req.Query[k] = vs
				}
				continue
			}
			v = text
		}
		switch p.In {
		case "query":
			req.Query.Set(p.Name, v)
		case "header":
			req.Header.Set(p.Name, headerValue(v))
		case "cookie":
			cookies = append(cookies, p.Name+"="+cookieValue(v))
		}
	}
	if len(cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(cookies, "; "))
	}
	if o.body != nil {
		body := o.body
		if pt != nil && pt.in == "body" {
			body = replaced(o.body, pt.keys, value)
		}
		if b, err := json.Marshal(body); err == nil {
			req.Body = b
			req.Header.Set("Content-Type", "application/json")
		}
	}
	if len(req.Query) == 0 {
		req.Query = nil
	}
	return req
}

// replaced returns a copy of doc with the value at keys set to v.
func replaced(doc any, keys []any, v any) any {
	if len(keys) == 0 {
		return v
	}
	switch d := doc.(type) {
	case map[string]any:
		k, ok := keys[0].(string)
		if !ok {
			return doc
		}
		out := make(map[string]any, len(d))
		for name, val := range d {
			out[name] = val
		}
		out[k] = replaced(d[k], keys[1:], v)
		return out
	case []any:
		i, ok := keys[0].(int)
		if !ok || i < 0 || i >= len(d) {
			return doc
		}
		out := append([]any(nil), d...)
		out[i] = replaced(d[i], keys[1:], v)
		return out
	}
	return doc
}

// cookieValue is v as a Cookie header can carry it. A payload must reach
// the application as the characters it is made of, and servers differ:
// most (Go, Werkzeug, Rack, Spring) hand the application the raw octets,
// and only some (Node's cookie module) percent-decode them. So v goes
// raw, and only what the header's syntax cannot hold is percent-encoded:
// ';' (which ends the cookie), a double quote and a backslash (quoting),
// '%' (so that a decoding server gets v back, not something else),
// controls and non-ASCII bytes. A single quote, a space, '|', '$' or '{'
// go as they are.
func cookieValue(v string) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c < 0x20 || c >= 0x7f || c == ';' || c == '"' || c == '\\' || c == '%' {
			fmt.Fprintf(&b, "%%%02X", c)
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// headerValue is v as a header can carry it: raw, with controls (a
// newline payload's line breaks, which no header may hold and Go's client
// refuses to send) percent-encoded.
func headerValue(v string) string {
	ctl := func(c byte) bool { return (c < 0x20 && c != '\t') || c == 0x7f }
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if c := v[i]; ctl(c) {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return b.String()
}
