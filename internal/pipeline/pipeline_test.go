package pipeline_test

import (
	"context"
	"net/http/httptest"
	"testing"

	"github.com/merlonsec/merlon/internal/checks"
	"github.com/merlonsec/merlon/internal/pipeline"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/spec/spectest"
)

func scanConfig(t testing.TB, url string) pipeline.Config {
	t.Helper()
	target, err := pipeline.ParseTarget(url)
	if err != nil {
		t.Fatal(err)
	}
	return pipeline.Config{Target: target, Checks: checks.All(), Concurrency: 8, ToolVersion: "test"}
}

// TestGeneratedAPI scans the 1,000-operation synthetic API passively and
// checks that the whole inventory was found and probed.
func TestGeneratedAPI(t *testing.T) {
	srv := httptest.NewServer(spectest.Server(1000, 0))
	defer srv.Close()
	rep, err := pipeline.Run(context.Background(), scanConfig(t, srv.URL))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Coverage.Operations != 1000 {
		t.Errorf("operations = %d, want 1000", rep.Coverage.Operations)
	}
	// 400 of the 1,000 operations are GETs; the rest are writes a passive
	// scan must not send.
	if rep.Coverage.Reached < 400 || rep.Coverage.Succeeded < 400 {
		t.Errorf("coverage = %+v, want every GET operation reached and answering 2xx", rep.Coverage)
	}
	if rep.Score.Grade == "N/A" {
		t.Errorf("grade N/A on a reachable API")
	}
	for _, f := range rep.Findings {
		for _, ev := range f.Evidence {
			if scan.IsWrite(ev.Request.Method) {
				t.Errorf("passive scan sent %s %s", ev.Request.Method, ev.Request.URL)
			}
		}
	}
}

// TestRequestBudget: the budget caps the whole scan and the report says so.
func TestRequestBudget(t *testing.T) {
	srv := httptest.NewServer(spectest.Server(100, 0))
	defer srv.Close()
	cfg := scanConfig(t, srv.URL)
	cfg.MaxRequests = 30
	rep, err := pipeline.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Coverage.Requests > 30 {
		t.Errorf("requests = %d, want at most the budget of 30", rep.Coverage.Requests)
	}
	if !rep.Coverage.BudgetExhausted || len(rep.Warnings) == 0 {
		t.Errorf("budget exhaustion not reported: coverage %+v, warnings %q", rep.Coverage, rep.Warnings)
	}
}

// BenchmarkPassiveScan1000 is a full passive scan of the generated
// 1,000-operation API served in-process: spec discovery, inventory probing
// and every passive check.
func BenchmarkPassiveScan1000(b *testing.B) {
	srv := httptest.NewServer(spectest.Server(1000, 0))
	defer srv.Close()
	cfg := scanConfig(b, srv.URL)
	b.ReportAllocs()
	var requests int
	for b.Loop() {
		rep, err := pipeline.Run(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		requests = rep.Coverage.Requests
	}
	b.ReportMetric(float64(requests), "requests/scan")
}

// BenchmarkPassiveScan10000 is the same scan of the 10,000-operation API
// with the spec given by URL, as the bench harness runs it: the size where
// anything quadratic in the operations shows.
func BenchmarkPassiveScan10000(b *testing.B) {
	srv := httptest.NewServer(spectest.Server(10000, 0))
	defer srv.Close()
	cfg := scanConfig(b, srv.URL)
	cfg.Spec = srv.URL + "/openapi.json"
	cfg.MaxRequests = 1000000
	b.ReportAllocs()
	var requests int
	for b.Loop() {
		rep, err := pipeline.Run(context.Background(), cfg)
		if err != nil {
			b.Fatal(err)
		}
		requests = rep.Coverage.Requests
	}
	b.ReportMetric(float64(requests), "requests/scan")
}
