package fill

import (
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/scan"
)

func ptr[T any](v T) *T { return &v }

func TestPathValue(t *testing.T) {
	bank := &scan.ValueBank{}
	bank.Add("username", "alice")
	bank.Add("id", "42")

	tests := []struct {
		name string
		p    scan.Parameter
		vals *scan.ValueBank
		want string
	}{
		{"bank by name", scan.Parameter{Name: "username", Example: "bob"}, bank, "alice"},
		{"id-like falls back to id", scan.Parameter{Name: "userId", Schema: &scan.Schema{Type: "integer"}}, bank, "42"},
		{"snake id-like falls back to id", scan.Parameter{Name: "order_id"}, bank, "42"},
		{"not id-like ignores id", scan.Parameter{Name: "slug", Schema: &scan.Schema{Type: "string"}}, bank, "merlon"},
		{"parameter example", scan.Parameter{Name: "q", Example: "shoes", Schema: &scan.Schema{Example: "hats"}}, nil, "shoes"},
		{"numeric example", scan.Parameter{Name: "limit", Example: float64(25)}, nil, "25"},
		{"schema example", scan.Parameter{Name: "q", Schema: &scan.Schema{Type: "string", Example: "hats", Default: "x"}}, nil, "hats"},
		{"schema default", scan.Parameter{Name: "q", Schema: &scan.Schema{Type: "integer", Default: float64(10), Enum: []any{"a"}}}, nil, "10"},
		{"first enum", scan.Parameter{Name: "sort", Schema: &scan.Schema{Type: "string", Enum: []any{"asc", "desc"}}}, nil, "asc"},
		{"integer", scan.Parameter{Name: "page", Schema: &scan.Schema{Type: "integer"}}, nil, "1"},
		{"integer minimum", scan.Parameter{Name: "page", Schema: &scan.Schema{Type: "integer", Minimum: ptr(4.5)}}, nil, "5"},
		{"integer maximum", scan.Parameter{Name: "offset", Schema: &scan.Schema{Type: "integer", Maximum: ptr(0.0)}}, nil, "0"},
		{"uuid", scan.Parameter{Name: "key", Schema: &scan.Schema{Type: "string", Format: "uuid"}}, nil, "00000000-0000-4000-8000-000000000001"},
		{"email", scan.Parameter{Name: "to", Schema: &scan.Schema{Type: "string", Format: "email"}}, nil, "merlon@example.com"},
		{"date", scan.Parameter{Name: "from", Schema: &scan.Schema{Type: "string", Format: "date"}}, nil, "2024-01-01"},
		{"boolean", scan.Parameter{Name: "all", Schema: &scan.Schema{Type: "boolean"}}, nil, "true"},
		{"string", scan.Parameter{Name: "q", Schema: &scan.Schema{Type: "string"}}, nil, "merlon"},
		{"string too short", scan.Parameter{Name: "code", Schema: &scan.Schema{Type: "string", MinLength: ptr(int64(8))}}, nil, "merlonxx"},
		{"string too long", scan.Parameter{Name: "cc", Schema: &scan.Schema{Type: "string", MaxLength: ptr(int64(2))}}, nil, "me"},
		{"array of integers", scan.Parameter{Name: "ids", Schema: &scan.Schema{Type: "array", Items: &scan.Schema{Type: "integer"}}}, nil, "1"},
		{"no schema id", scan.Parameter{Name: "id"}, nil, "1"},
		{"untyped schema id", scan.Parameter{Name: "petId", Schema: &scan.Schema{}}, nil, "1"},
		{"no schema", scan.Parameter{Name: "name"}, nil, "merlon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := PathValue(tt.p, tt.vals); got != tt.want {
				t.Errorf("PathValue(%+v) = %q, want %q", tt.p, got, tt.want)
			}
		})
	}
}

func TestRequest(t *testing.T) {
	bank := &scan.ValueBank{}
	bank.Add("userId", "7")
	op := &scan.Operation{
		Method: "post",
		Path:   "/users/{userId}/files/{name}",
		Parameters: []scan.Parameter{
			{Name: "userId", In: "path", Required: true, Schema: &scan.Schema{Type: "integer"}},
			{Name: "name", In: "path", Required: true, Example: "a b/c"},
			{Name: "mode", In: "query", Required: true, Schema: &scan.Schema{Type: "string", Enum: []any{"fast"}}},
			{Name: "tag", In: "query", Schema: &scan.Schema{Type: "string", Example: "red"}},
			{Name: "verbose", In: "query", Schema: &scan.Schema{Type: "boolean"}},
			{Name: "X-Tenant", In: "header", Required: true, Example: "acme"},
			{Name: "Accept", In: "header", Required: true, Example: "text/plain"},
			{Name: "session", In: "cookie", Required: true, Example: "s1"},
		},
		RequestBody: &scan.RequestBody{
			ContentType: "application/json",
			Schema: &scan.Schema{Type: "object", Required: []string{"title"}, Properties: map[string]*scan.Schema{
				"title": {Type: "string"},
				"size":  {Type: "integer", Minimum: ptr(10.0)},
				"id":    {Type: "integer", ReadOnly: true},
			}},
		},
	}
	req := Request(op, bank)

	if req.Method != "POST" {
		t.Errorf("Method = %q, want POST", req.Method)
	}
	if want := "/users/7/files/a%20b%2Fc"; req.Path != want {
		t.Errorf("Path = %q, want %q", req.Path, want)
	}
	if want := (url.Values{"mode": {"fast"}, "tag": {"red"}}); !reflect.DeepEqual(req.Query, want) {
		t.Errorf("Query = %v, want %v", req.Query, want)
	}
	if got := req.Header.Get("X-Tenant"); got != "acme" {
		t.Errorf("X-Tenant = %q, want acme", got)
	}
	if got := req.Header.Get("Accept"); got != "" {
		t.Errorf("Accept = %q, want it left to the engine", got)
	}
	if got := req.Header.Get("Cookie"); got != "session=s1" {
		t.Errorf("Cookie = %q, want session=s1", got)
	}
	if got := req.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", got)
	}
	var body map[string]any
	if err := json.Unmarshal(req.Body, &body); err != nil {
		t.Fatalf("body %q is not JSON: %v", req.Body, err)
	}
	if want := map[string]any{"title": "merlon", "size": float64(10)}; !reflect.DeepEqual(body, want) {
		t.Errorf("body = %v, want %v", body, want)
	}
	if req.Operation != op {
		t.Errorf("Operation = %p, want %p", req.Operation, op)
	}
}

func TestRequestBodies(t *testing.T) {
	tests := []struct {
		name     string
		rb       *scan.RequestBody
		wantBody string
		wantCT   string
	}{
		{"example wins", &scan.RequestBody{ContentType: "application/json", Example: map[string]any{"a": 1},
			Schema: &scan.Schema{Type: "object", Properties: map[string]*scan.Schema{"b": {Type: "string"}}}},
			`{"a":1}`, "application/json"},
		{"no schema sends an empty object", &scan.RequestBody{ContentType: "application/vnd.api+json"}, `{}`, "application/vnd.api+json"},
		{"no media type is JSON", &scan.RequestBody{Schema: &scan.Schema{Type: "array", Items: &scan.Schema{Type: "boolean"}}}, `[true]`, "application/json"},
		{"form", &scan.RequestBody{ContentType: "application/x-www-form-urlencoded",
			Schema: &scan.Schema{Properties: map[string]*scan.Schema{"user": {Type: "string"}, "n": {Type: "integer"}}}},
			`n=1&user=merlon`, "application/x-www-form-urlencoded"},
		{"multipart is left alone", &scan.RequestBody{ContentType: "multipart/form-data", Schema: &scan.Schema{Type: "object"}}, ``, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := Request(&scan.Operation{Method: "PUT", Path: "/x", RequestBody: tt.rb}, nil)
			if string(req.Body) != tt.wantBody {
				t.Errorf("body = %q, want %q", req.Body, tt.wantBody)
			}
			if got := req.Header.Get("Content-Type"); got != tt.wantCT {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantCT)
			}
		})
	}
}

func TestRequestUndeclaredPathParam(t *testing.T) {
	req := Request(&scan.Operation{Method: "GET", Path: "/orders/{orderId}/lines/{line}"}, nil)
	if want := "/orders/1/lines/merlon"; req.Path != want {
		t.Errorf("Path = %q, want %q", req.Path, want)
	}
	if req.Body != nil || req.Query != nil {
		t.Errorf("GET without inputs got body %q and query %v, want neither", req.Body, req.Query)
	}
}

func TestBody(t *testing.T) {
	tests := []struct {
		name   string
		schema *scan.Schema
		want   any
	}{
		{"nil", nil, nil},
		{"example", &scan.Schema{Type: "object", Example: map[string]any{"x": "y"}}, map[string]any{"x": "y"}},
		{"default", &scan.Schema{Type: "string", Default: "d"}, "d"},
		{"enum", &scan.Schema{Type: "string", Enum: []any{"b", "a"}}, "b"},
		{"number", &scan.Schema{Type: "number", Maximum: ptr(0.5)}, 0.5},
		{"integer", &scan.Schema{Type: "integer", Minimum: ptr(100.0), Maximum: ptr(200.0)}, int64(100)},
		{"date-time", &scan.Schema{Type: "string", Format: "date-time"}, "2024-01-01T00:00:00Z"},
		{"null", &scan.Schema{Type: "null"}, nil},
		{"untyped", &scan.Schema{}, "merlon"},
		{"array", &scan.Schema{Type: "array", Items: &scan.Schema{Type: "string", Format: "email"}}, []any{"merlon@example.com"}},
		{"array without items", &scan.Schema{Type: "array"}, []any{"merlon"}},
		{"oneOf takes the first", &scan.Schema{OneOf: []*scan.Schema{{Type: "integer"}, {Type: "string"}}}, int64(1)},
		{"object skips readOnly, keeps required readOnly", &scan.Schema{Type: "object", Required: []string{"kind"},
			Properties: map[string]*scan.Schema{
				"id":    {Type: "integer", ReadOnly: true},
				"kind":  {Type: "string", ReadOnly: true, Enum: []any{"cat"}},
				"name":  {Type: "string"},
				"admin": {Type: "boolean"},
			}}, map[string]any{"kind": "cat", "name": "merlon", "admin": true}},
		{"untyped object", &scan.Schema{Properties: map[string]*scan.Schema{"a": {Type: "integer"}}}, map[string]any{"a": int64(1)}},
		{"circular marked", &scan.Schema{Type: "object", Required: []string{"parent"}, Properties: map[string]*scan.Schema{
			"name":     {Type: "string"},
			"parent":   {Type: "object", Ref: "Node", Circular: true},
			"children": {Type: "array", Ref: "Node", Circular: true},
			"other":    {Ref: "Node", Circular: true},
		}}, map[string]any{"name": "merlon", "parent": map[string]any{}, "children": []any{}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Body(tt.schema); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Body(%s) = %#v, want %#v", tt.name, got, tt.want)
			}
		})
	}
}

func TestBodyCycleAndDepth(t *testing.T) {
	// A schema that refers to itself through pointers, as a parser that did
	// not cut the cycle would leave it.
	node := &scan.Schema{Type: "object", Properties: map[string]*scan.Schema{"name": {Type: "string"}}}
	node.Properties["next"] = node
	node.Properties["kids"] = &scan.Schema{Type: "array", Items: node}
	got, err := json.Marshal(Body(node))
	if err != nil {
		t.Fatalf("Body(cycle) does not marshal: %v", err)
	}
	if want := `{"kids":[{}],"name":"merlon","next":{}}`; string(got) != want {
		t.Errorf("Body(cycle) = %s, want %s", got, want)
	}

	// A chain ten objects deep is cut after six levels.
	leaf := &scan.Schema{Type: "string"}
	s := leaf
	for range 10 {
		s = &scan.Schema{Type: "object", Properties: map[string]*scan.Schema{"in": s}}
	}
	b, _ := json.Marshal(Body(s))
	if depth := strings.Count(string(b), "{"); depth != 7 {
		t.Errorf("Body(10-deep chain) = %s, %d objects deep, want 7 (six levels below the root)", b, depth)
	}
	if strings.Contains(string(b), "merlon") {
		t.Errorf("Body(10-deep chain) = %s, reached the leaf past the depth limit", b)
	}
}
