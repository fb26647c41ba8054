package engine

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/scan"
)

// TestShapeCounts: each broken answer is counted once, under its own
// name, and a well-formed one under none.
func TestShapeCounts(t *testing.T) {
	elsewhere := httptest.NewServer(http.NotFoundHandler())
	defer elsewhere.Close()
	answers := map[string]func(w http.ResponseWriter){
		"/fine": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"a":[{"b":"[[[[ \" {{{{"}]}`)
		},
		"/headers": func(w http.ResponseWriter) {
			for i := range 1500 {
				w.Header().Set(fmt.Sprintf("X-N-%d", i), "x")
			}
		},
		"/invalid-json": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/problem+json")
			fmt.Fprint(w, `{"id": 1,, }`)
		},
		"/deep": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, strings.Repeat("[", 65)+strings.Repeat("]", 65))
		},
		"/utf8": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, "caf\xe9")
		},
		"/latin1": func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "text/plain; charset=iso-8859-1")
			fmt.Fprint(w, "caf\xe9")
		},
		"/offscope": func(w http.ResponseWriter) {
			w.Header().Set("Location", elsewhere.URL+"/x")
			w.WriteHeader(http.StatusFound)
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		answers[r.URL.Path](w)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	counts := func(s Stats) map[string]int {
		m := map[string]int{"ManyHeaders": s.ManyHeaders, "InvalidJSON": s.InvalidJSON, "DeepJSON": s.DeepJSON,
			"InvalidUTF8": s.InvalidUTF8, "OffScopeRedirects": s.OffScopeRedirects}
		for k, v := range m {
			if v == 0 {
				delete(m, k)
			}
		}
		return m
	}
	tests := []struct{ path, want string }{
		{"/fine", ""},
		{"/latin1", ""},
		{"/headers", "ManyHeaders"},
		{"/invalid-json", "InvalidJSON"},
		{"/deep", "DeepJSON"},
		{"/utf8", "InvalidUTF8"},
		{"/offscope", "OffScopeRedirects"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			c := New(Config{BaseURL: u})
			if _, err := c.Do(t.Context(), &scan.Request{Path: tt.path}); err != nil {
				t.Fatal(err)
			}
			want := map[string]int{}
			if tt.want != "" {
				want[tt.want] = 1
			}
			if got := counts(c.Stats()); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("GET %s: counts = %v, want %v", tt.path, got, want)
			}
		})
	}
}
