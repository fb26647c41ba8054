package spec

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/spec/spectest"
)

// refsIntoPaths points $refs into path items: a whole path item, a
// response and a parameter of another path, so that the split parser must
// build path items out of order and again after they were dropped.
const refsIntoPaths = `{
  "openapi": "3.0.3",
  "info": {"title": "refs into paths", "version": "1"},
  "paths": {
    "/b": {"$ref": "#/paths/~1a"},
    "/a": {
      "get": {
        "operationId": "getA",
        "parameters": [{"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 8}}],
        "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Thing"}}}}}
      }
    },
    "/c": {
      "get": {
        "parameters": [{"$ref": "#/paths/~1a/get/parameters/0"}],
        "responses": {"200": {"$ref": "#/paths/~1a/get/responses/200"}}
      }
    },
    "/d/{id}": {
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
      "delete": {"responses": {"204": {"description": "gone"}}}
    }
  },
  "components": {"schemas": {"Thing": {"type": "object", "properties": {"n": {"type": "number", "example": 1.5}}}}}
}`

// escapedSlash uses a JSON escape ("\/") that the YAML parser does not
// read but JSON does.
const escapedSlash = `{"openapi": "3.0.0", "info": {"title": "t", "version": "1"},
  "paths": {"/a": {"get": {"summary": "a\/b", "responses": {"200": {"description": "ok"}}}}}}`

// scalars holds the scalars a path item can carry: escapes, a surrogate
// pair, text that is UTF-8 already, numbers of every form, booleans and
// null, in examples and descriptions.
const scalars = `{"openapi": "3.1.0", "info": {"title": "scalars", "version": "1"},
  "paths": {"/s": {"get": {"summary": "caf\u00e9 \"q\" \\ \ud83d\ude00 é\t",
    "parameters": [
      {"name": "a", "in": "query", "example": -0},
      {"name": "b", "in": "query", "example": 1.5e3},
      {"name": "c", "in": "query", "example": 12345678901234567890},
      {"name": "d", "in": "query", "example": [true, false, null, {"k": "v"}]},
      {"name": "e", "in": "query", "schema": {"type": "integer", "minimum": -3, "maximum": 2E2}},
      {"name": "f", "in": "query", "example": [-0.0, 123456789012345678901234, 1e400, 0.1]}
    ],
    "responses": {"200": {"description": "ok"}}}}}}`

// TestSplitMatchesWhole parses the same JSON documents whole and split by
// path item and wants the same Spec, field for field.
func TestSplitMatchesWhole(t *testing.T) {
	read := func(name string) []byte {
		t.Helper()
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"openapi 3.1", read("petstore-3.1.json")},
		{"swagger 2.0", read("swagger-2.0.json")},
		{"generated 1000", read("generated-1000.json")},
		{"generated 7", spectest.Generate(7)},
		{"refs into paths", []byte(refsIntoPaths)},
		{"escaped slash", []byte(escapedSlash)},
		{"scalars", []byte(scalars)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			whole, err := parseDoc(tt.data, Options{Source: tt.name}, nil)
			if err != nil {
				t.Fatalf("parseDoc(whole) error: %v", err)
			}
			lp, err := split(tt.data)
			if err != nil {
				t.Fatalf("split() error: %v", err)
			}
			parts, err := parseDoc(lp.skeleton, Options{Source: tt.name}, lp)
			if err != nil {
				t.Fatalf("parseDoc(split) error: %v", err)
			}
			if len(parts.Operations) != len(whole.Operations) {
				t.Fatalf("split parse has %d operations, want %d", len(parts.Operations), len(whole.Operations))
			}
			for i := range whole.Operations {
				if !reflect.DeepEqual(parts.Operations[i], whole.Operations[i]) {
					t.Errorf("split parse operation %d = %+v, want %+v", i, parts.Operations[i], whole.Operations[i])
				}
			}
			check(t, "split parse info", parts.Info, whole.Info)
			check(t, "split parse security schemes", parts.SecuritySchemes, whole.SecuritySchemes)
		})
	}
}

// TestSplitFallsBack: documents the split parse cannot take are parsed
// whole, with the same result or the same error as without splitting.
func TestSplitFallsBack(t *testing.T) {
	tests := []struct {
		name      string
		data      string
		splitable bool // split itself succeeds; parsing the parts does not
	}{
		{"path item nested too deep", `{"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"x-deep": ` +
			strings.Repeat("[", maxJSONDepth+10) + strings.Repeat("]", maxJSONDepth+10) + `, "get": {"responses": {"200": {"description": "ok"}}}}}}`, true},
		{"dangling ref", `{"openapi": "3.0.0", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"get": {"responses": {"200": {"$ref": "#/components/responses/Nope"}}}}}}`, true},
		{"unsupported version", `{"openapi": "4.0.0", "paths": {"/a": {}}}`, true},
		{"no paths", `{"openapi": "3.0.0", "info": {"title": "t", "version": "1"}}`, false},
		{"paths not an object", `{"openapi": "3.0.0", "paths": []}`, false},
		{"duplicate paths", `{"openapi": "3.0.0", "paths": {}, "paths": {"/a": {}}}`, false},
		{"malformed json", `{"openapi": "3.0.0", "paths": {"/a": {,}}}`, false},
		{"trailing data", `{"openapi": "3.0.0", "paths": {}} {}`, false},
		{"yaml", "openapi: 3.0.0\npaths: {}\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lp, err := split([]byte(tt.data))
			if tt.splitable {
				if err != nil {
					t.Fatalf("split() error: %v, want a split", err)
				}
				if _, err := parseDoc(lp.skeleton, Options{Source: "api.json"}, lp); err == nil {
					t.Fatalf("parseDoc(split) error = nil, want one so that the whole document is parsed")
				}
			} else if !errors.Is(err, errNoSplit) {
				t.Fatalf("split() error = %v, want errNoSplit", err)
			}
			whole, werr := Parse([]byte(tt.data), Options{Source: "api.json", splitFrom: -1})
			got, gerr := Parse([]byte(tt.data), Options{Source: "api.json", splitFrom: 1})
			if (werr == nil) != (gerr == nil) || (werr != nil && werr.Error() != gerr.Error()) {
				t.Fatalf("Parse(split) error = %v, want %v", gerr, werr)
			}
			if werr == nil && !reflect.DeepEqual(got, whole) {
				t.Errorf("Parse(split) = %+v, want %+v", got, whole)
			}
		})
	}
}

// BenchmarkParse10000 parses the 10 MB generated document, split by path
// item as Parse does for large JSON documents.
func BenchmarkParse10000(b *testing.B) {
	data := spectest.Generate(10000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, Options{Source: "generated"}); err != nil {
			b.Fatal(err)
		}
	}
}
