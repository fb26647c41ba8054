package ssrf

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/merlonsec/merlon/internal/fill"
	"github.com/merlonsec/merlon/internal/scan"
)

// Point is one input of one operation that may take a URL.
type Point struct {
	Op   *scan.Operation
	In   string // "query" or "body" (a top-level JSON property)
	Name string
	// Why says what made Merlon think the input takes a URL.
	Why string
}

// Location is how findings name the point: "query:url", "body:image".
func (p Point) Location() string { return p.In + ":" + p.Name }

// urlWords are names (lower case, '_' and '-' removed) of inputs that
// usually take a URL; a name ending in url or uri counts too.
var urlWords = map[string]bool{
	"url": true, "uri": true, "link": true, "src": true, "source": true, "dest": true, "destination": true,
	"callback": true, "webhook": true, "image": true, "imageurl": true, "feed": true, "fetch": true,
	"proxy": true, "target": true, "endpoint": true, "host": true, "avatar": true, "icon": true,
}

// URLName reports whether an input's name suggests it takes a URL.
func URLName(name string) bool {
	n := strings.NewReplacer("_", "", "-", "").Replace(strings.ToLower(name))
	return urlWords[n] || strings.HasSuffix(n, "url") || strings.HasSuffix(n, "uri") ||
		strings.HasSuffix(n, "webhook") || strings.HasSuffix(n, "callback")
}

// looksLikeURL reports whether v is an absolute http(s) URL.
func looksLikeURL(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// why says whether an input takes a URL and on what grounds.
func why(t *scan.Target, name string, s *scan.Schema, example any) string {
	switch {
	case s != nil && (strings.EqualFold(s.Format, "uri") || strings.EqualFold(s.Format, "url") || strings.EqualFold(s.Format, "iri")):
		return "its schema has format " + s.Format
	case URLName(name):
		return "its name"
	case looksLikeURL(example) || (s != nil && (looksLikeURL(s.Example) || looksLikeURL(s.Default))):
		return "its example value is a URL"
	}
	if t != nil && t.Values != nil {
		if v, ok := t.Values.Get(name); ok && looksLikeURL(v) {
			return "a value seen in responses is a URL"
		}
	}
	return ""
}

// WebhookPoint reports whether p registers a URL for the API to call
// later (a webhook or callback subscription) rather than one it fetches
// now. Such points belong to unsafe.webhook-any-url, so that one weakness
// is not reported twice.
func WebhookPoint(p Point) bool {
	if !scan.IsWrite(p.Op.Method) || p.In != "body" {
		return false
	}
	n := strings.ToLower(p.Name)
	path := strings.ToLower(p.Op.Path)
	for _, w := range []string{"webhook", "callback", "hook", "notify", "notification"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	for _, w := range []string{"webhook", "hook", "subscription", "callback"} {
		if strings.Contains(path, w) {
			return true
		}
	}
	return false
}

// Points returns the inputs of t's operations that may take a URL: query
// parameters and top-level properties of JSON bodies, in a stable order.
func Points(t *scan.Target) []Point {
	var out []Point
	for _, op := range t.Operations {
		for _, p := range op.Parameters {
			if p.In != "query" {
				continue
			}
			if w := why(t, p.Name, p.Schema, p.Example); w != "" {
				out = append(out, Point{Op: op, In: "query", Name: p.Name, Why: w})
			}
		}
		rb := op.RequestBody
		if rb == nil || rb.Schema == nil || !strings.Contains(strings.ToLower(rb.ContentType), "json") {
			continue
		}
		names := make([]string, 0, len(rb.Schema.Properties))
		for n := range rb.Schema.Properties {
			names = append(names, n)
		}
		sort.Strings(names)
		for _, n := range names {
			ps := rb.Schema.Properties[n]
			if ps == nil || ps.ReadOnly || (ps.Type != "" && ps.Type != "string") {
				continue
			}
			if w := why(t, n, ps, nil); w != "" {
				out = append(out, Point{Op: op, In: "body", Name: n, Why: w})
			}
		}
	}
	return out
}

// Request builds a request for p's operation with value in p's input and
// every other input filled as fill.Request fills it. It returns nil when
// the body cannot carry the value (not a JSON object).
func Request(t *scan.Target, p Point, value string) *scan.Request {
	req := fill.Request(p.Op, t.Values)
	switch p.In {
	case "query":
		q := url.Values{}
		for k, v := range req.Query {
			q[k] = v
		}
		q.Set(p.Name, value)
		req.Query = q
	case "body":
		var body map[string]any
		if len(req.Body) > 0 {
			if err := json.Unmarshal(req.Body, &body); err != nil {
				return nil
			}
		}
		if body == nil {
			body = map[string]any{}
		}
		body[p.Name] = value
		b, err := json.Marshal(body)
		if err != nil {
			return nil
		}
		req.Body = b
		if req.Header == nil {
			req.Header = http.Header{}
		}
		if req.Header.Get("Content-Type") == "" {
			req.Header.Set("Content-Type", "application/json")
		}
	default:
		return nil
	}
	return req
}
