package spec

import (
	"reflect"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics (the recover inside Parse
// would turn a panic into an "internal error", which the fuzzer reports),
// that success and failure are exclusive and one-line, and that parsing a
// JSON document split by path item (as large ones are) gives what parsing
// it whole gives.
func FuzzParse(f *testing.F) {
	f.Add([]byte("openapi: 3.0.0\npaths: {}\n"))
	f.Add([]byte(`{"swagger":"2.0","paths":{"/a":{"get":{"parameters":[{"in":"body","schema":{"$ref":"#/definitions/A"}}]}}},"definitions":{"A":{"$ref":"#/definitions/A"}}}`))
	f.Add([]byte(`{"openapi":"3.0.0","info":{"title":"t","version":"1"},"paths":{"/b":{"$ref":"#/paths/~1a"},"/a":{"get":{"parameters":[{"name":"q","in":"query","example":1e3}],"responses":{"200":{"$ref":"#/components/responses/R"}}}}},"components":{"responses":{"R":{"description":"ok"}}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// A split parse reads only the path items it maps, so it may
		// accept a document the YAML parser refuses for something in an
		// entry of paths Merlon ignores; otherwise the two agree.
		whole, werr := Parse(data, Options{Source: "fuzz", splitFrom: -1})
		split, serr := Parse(data, Options{Source: "fuzz", splitFrom: 1})
		switch {
		case werr == nil && serr != nil:
			t.Fatalf("Parse split error = %v, whole parse succeeded", serr)
		case werr == nil && !reflect.DeepEqual(split, whole):
			t.Fatalf("Parse split = %+v, whole = %+v", split, whole)
		case werr != nil && serr != nil && werr.Error() != serr.Error():
			t.Fatalf("Parse split error = %v, whole error = %v", serr, werr)
		}
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
