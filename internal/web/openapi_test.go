package web

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/spec"
)

// TestOpenAPIDescribesEveryRoute holds openapi.json and the route table
// together: every /api/ route is documented, and every documented
// operation is served.
func TestOpenAPIDescribesEveryRoute(t *testing.T) {
	e := newEnv(t, true)
	rec := e.do("GET", "/api/openapi.json", nil, nil)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /api/openapi.json = %d", rec.Code)
	}
	var doc struct {
		Info struct{ Version string } `json:"info"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil || doc.Info.Version != "test" {
		t.Errorf("served document version = %q (%v), want the server's, test", doc.Info.Version, err)
	}
	sp, err := spec.Parse(rec.Body.Bytes(), spec.Options{Source: "openapi.json"})
	if err != nil {
		t.Fatalf("spec.Parse(openapi.json) = %v", err)
	}
	documented := map[string]bool{}
	for _, op := range sp.Operations {
		documented[op.Method+" "+op.Path] = true
	}
	routed := map[string]bool{}
	for _, rt := range e.srv.table() {
		if strings.HasPrefix(rt.pattern, "GET /api/") || strings.Contains(rt.pattern, " /api/") {
			routed[rt.pattern] = true
		}
	}
	if len(routed) < 20 {
		t.Fatalf("found %d API routes, want the whole table", len(routed))
	}
	for _, r := range sortedKeys(routed) {
		if !documented[r] {
			t.Errorf("route %q is not in openapi.json", r)
		}
	}
	for _, d := range sortedKeys(documented) {
		if !routed[d] {
			t.Errorf("openapi.json describes %q, which no route serves", d)
		}
	}
}

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, true)
	e.page("/targets")
	e.api("GET", "/api/targets", "")
	body := e.do("GET", "/metrics", nil, nil).Body.String()
	for _, want := range []string{
		`merlon_http_requests_total{code="200",route="GET /targets"} 1`,
		`merlon_http_requests_total{code="200",route="GET /api/targets"} 1`,
		`merlon_http_request_duration_seconds_bucket{route="GET /targets"`,
		`merlon_scans{status="queued"} 0`,
		`merlon_scan_duration_seconds_count 0`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}
