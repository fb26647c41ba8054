package fill

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzWalk checks that Walk never panics, accepts exactly the valid JSON
// documents, and, where encoding/json reads a document as an object, visits
// every member name it sees.
func FuzzWalk(f *testing.F) {
	for _, seed := range []string{`{}`, `[]`, `{"a":[1,{"b":null}],"c":"d"}`, `{"a":1,"a":2}`, `"x"`, `{"\u0000":true}`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		top := make(map[string]bool)
		err := Walk(body, func(path []string, key string, _ any) bool {
			if len(path) == 0 {
				top[key] = true
			}
			return true
		})
		valid := json.Valid(body)
		if err == nil && !valid {
			t.Fatalf("Walk(%q) = nil for invalid JSON", body)
		}
		if err != nil {
			if valid && !errors.Is(err, ErrTooDeep) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("Walk(%q) = %v for valid JSON within no limit", body, err)
			}
			return
		}
		var m map[string]any
		if json.Unmarshal(body, &m) != nil || m == nil {
			return
		}
		for k := range m {
			if !top[k] {
				t.Errorf("Walk(%q) did not visit top-level key %q", body, k)
			}
		}
		if len(top) != len(m) {
			t.Errorf("Walk(%q) visited %d distinct top-level keys, encoding/json saw %d", body, len(top), len(m))
		}
	})
}
