package spec

import (
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics (the recover inside Parse
// would turn a panic into an "internal error", which the fuzzer reports)
// and that success and failure are exclusive and one-line.
func FuzzParse(f *testing.F) {
	f.Add([]byte("openapi: 3.0.0\npaths: {}\n"))
	f.Add([]byte(`{"swagger":"2.0","paths":{"/a":{"get":{"parameters":[{"in":"body","schema":{"$ref":"#/definitions/A"}}]}}},"definitions":{"A":{"$ref":"#/definitions/A"}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse(data, Options{Source: "fuzz"})
		if err != nil {
			if s != nil {
				t.Fatalf("Parse returned a spec and an error: %v", err)
			}
			if strings.Contains(err.Error(), "internal error") {
				t.Fatalf("Parse panicked: %v", err)
			}
			return
		}
		if s == nil {
			t.Fatal("Parse returned neither spec nor error")
		}
		for _, op := range s.Operations {
			if op.Method == "" || op.ID == "" || op.Source != "spec" {
				t.Fatalf("incomplete operation %+v", op)
			}
		}
	})
}
