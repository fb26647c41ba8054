package pipeline_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/pipeline"
)

// TestSpecProblemsAreWarnings: a spec part that is wrong but does not stop
// the parse reaches the report's warnings with its JSON pointer, and the
// rest of the spec is scanned.
func TestSpecProblemsAreWarnings(t *testing.T) {
	const doc = `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{
 "/items":{"get":{"parameters":[{"name":"q","in":"nowhere"}],"responses":{"200":{"description":"ok"}}}},
 "/broken":{"get":42}}}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/openapi.json" {
			_, _ = w.Write([]byte(doc))
			return
		}
		_, _ = w.Write([]byte(`{"items":[]}`))
	}))
	defer srv.Close()
	cfg := scanConfig(t, srv.URL)
	cfg.Profile = "quick"
	rep, err := pipeline.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	all := strings.Join(rep.Warnings, "\n")
	for _, want := range []string{
		`spec #/paths/~1items/get/parameters/0: parameter "q" has in: "nowhere"`,
		"spec #/paths/~1broken/get: the operation is not an object",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("warnings lack %q:\n%s", want, all)
		}
	}
	if rep.Coverage.Operations != 1 {
		t.Errorf("operations = %d, want 1 (GET /items)", rep.Coverage.Operations)
	}
}
