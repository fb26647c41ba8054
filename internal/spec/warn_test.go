package spec

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestWarnings: parts of a spec that are wrong but do not stop the parse
// are skipped or ignored with a warning naming their JSON pointer, and
// the rest of the document still loads.
func TestWarnings(t *testing.T) {
	oas := func(pathItem string) string {
		return `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/a":` + pathItem +
			`,"/ok":{"get":{"responses":{"200":{"description":"ok"}}}}}}`
	}
	tests := []struct {
		name string
		doc  string
		want []string // substrings of the warnings, in order
		ops  int
	}{
		{"operation not an object", oas(`{"get":42}`),
			[]string{"spec #/paths/~1a/get: the operation is not an object"}, 1},
		{"unknown parameter location", oas(`{"get":{"parameters":[{"name":"q","in":"nowhere"}],"responses":{}}}`),
			[]string{`spec #/paths/~1a/get/parameters/0: parameter "q" has in: "nowhere"`}, 2},
		{"parameter without a name", oas(`{"parameters":[{"in":"query"}],"get":{"responses":{}}}`),
			[]string{"spec #/paths/~1a/parameters/0: the parameter has no name"}, 2},
		{"schema type not a JSON Schema type", oas(`{"get":{"parameters":[{"name":"q","in":"query","schema":{"type":12}}],"responses":{}}}`),
			[]string{`spec #/paths/~1a/get/parameters/0/schema/type: "12" is not a JSON Schema type`}, 2},
		{"a shared parameter warns once", `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{
"/a":{"get":{"parameters":[{"$ref":"#/components/parameters/Bad"}],"responses":{}}},
"/b":{"get":{"parameters":[{"$ref":"#/components/parameters/Bad"}],"responses":{}}}},
"components":{"parameters":{"Bad":{"name":"q","in":"nowhere"}}}}`,
			[]string{`spec #/components/parameters/Bad: parameter "q" has in: "nowhere"`}, 2},
		{"swagger parameter location", `{"swagger":"2.0","info":{"title":"t","version":"1"},"paths":{"/a":{"get":{"parameters":[{"name":"f","in":"cookie","type":"string"}],"responses":{"200":{"description":"ok"}}}}}}`,
			[]string{`spec #/paths/~1a/get/parameters/0: parameter "f" has in: "cookie", want path, query, header, body or formData`}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse([]byte(tt.doc), Options{Source: "t.json"})
			if err != nil {
				t.Fatalf("Parse error: %v", err)
			}
			if len(s.Warnings) != len(tt.want) {
				t.Fatalf("warnings = %q, want %d like %q", s.Warnings, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(s.Warnings[i], w) {
					t.Errorf("warning %d = %q, want it to start %q", i, s.Warnings[i], w)
				}
			}
			if len(s.Operations) != tt.ops {
				t.Errorf("operations = %v, want %d", ids(s), tt.ops)
			}
		})
	}
	t.Run("bounded", func(t *testing.T) {
		var b strings.Builder
		b.WriteString(`{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{`)
		for i := range 50 {
			if i > 0 {
				b.WriteString(",")
			}
			fmt.Fprintf(&b, `"/p%d":{"get":1}`, i)
		}
		b.WriteString("}}")
		s, err := Parse([]byte(b.String()), Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(s.Warnings) != maxWarnings+1 || s.Warnings[maxWarnings] != "spec: 30 more problems like these" {
			t.Errorf("got %d warnings ending %q, want %d and a count of the rest", len(s.Warnings), s.Warnings[len(s.Warnings)-1], maxWarnings+1)
		}
	})
}

// TestNoWarningsOnValidSpecs: the specs in testdata are valid, so they
// give no warning.
func TestNoWarningsOnValidSpecs(t *testing.T) {
	files, _ := filepath.Glob("testdata/*.*")
	for _, f := range files {
		name := filepath.Base(f)
		if name == "malformed.yaml" || name == "dangling.yaml" {
			continue
		}
		s, err := LoadFile(f)
		if err != nil {
			continue // the error cases have their own tests
		}
		if len(s.Warnings) > 0 {
			t.Errorf("%s: warnings %q, want none", name, s.Warnings)
		}
	}
}
