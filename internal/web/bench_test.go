package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/store"
	"github.com/merlonsec/merlon/internal/store/sqlite"
)

// seedScans fills st with targets×perTarget reported scans of a few
// findings each, and returns the first target and one of its fingerprints.
func seedScans(b *testing.B, st store.Store, targets, perTarget int) (int64, string) {
	b.Helper()
	ctx := context.Background()
	var firstTarget int64
	var fp string
	for i := range targets {
		tg := &store.Target{Name: fmt.Sprintf("api %d", i), URL: fmt.Sprintf("https://api%d.example.com", i)}
		if err := st.CreateTarget(ctx, tg); err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			firstTarget = tg.ID
		}
		for j := range perTarget {
			sc := &store.Scan{TargetID: tg.ID, RequestedBy: "schedule"}
			if err := st.CreateScan(ctx, sc); err != nil {
				b.Fatal(err)
			}
			var fs []scan.Finding
			for k := range 5 + j%3 {
				op := fmt.Sprintf("GET /items/%d", k)
				fs = append(fs, scan.Finding{
					CheckID: "misconfig.verbose-errors", Title: "Verbose error", Severity: scan.Severity(k % 5), Confidence: scan.Likely,
					Operation: op, Description: "The API answered with a stack trace.", Remediation: "Turn off debug output.",
					Fingerprint: scan.Fingerprint("misconfig.verbose-errors", tg.URL, op, ""),
					Evidence: []scan.Evidence{{Exchange: scan.Exchange{
						Request:  scan.RecordedRequest{Method: "GET", URL: tg.URL + "/items/1"},
						Response: scan.RecordedResponse{Status: 500, Body: "Traceback (most recent call last): ..."},
					}}},
				})
			}
			if i == 0 {
				fp = fs[0].Fingerprint
			}
			score := 60 + (i+j)%40
			rep := &scan.Report{Target: tg.URL, Findings: fs, Score: scan.Score{Overall: score, Grade: "B"}}
			if err := st.SaveReport(ctx, sc.ID, rep); err != nil {
				b.Fatal(err)
			}
			if err := st.UpdateScanStatus(ctx, sc.ID, store.StatusDone, ""); err != nil {
				b.Fatal(err)
			}
		}
	}
	return firstTarget, fp
}

// BenchmarkDashboard times the dashboard pages over a store of 10,000
// scans (10 targets of 1,000) and reports each page's p95 latency.
func BenchmarkDashboard(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	start := time.Now()
	tid, fp := seedScans(b, st, 10, 1000)
	n, err := st.CountScans(ctx, 0)
	if err != nil || n != 10000 {
		b.Fatalf("CountScans = %d, %v; want 10000", n, err)
	}
	b.Logf("seeded %d scans in %s", n, time.Since(start).Round(time.Millisecond))

	srv, err := New(Options{Store: st, Jobs: &localRunner{st: st}})
	if err != nil {
		b.Fatal(err)
	}
	h := srv.Handler()
	hash, err := store.HashPassword("benchmark password")
	if err != nil {
		b.Fatal(err)
	}
	u := &store.User{Email: "bench@example.com", PasswordHash: hash}
	if err := st.CreateUser(ctx, u); err != nil {
		b.Fatal(err)
	}
	cookie, _ := store.NewToken()
	if err := st.CreateSession(ctx, &store.Session{TokenHash: store.HashToken(cookie), UserID: u.ID, ExpiresAt: time.Now().Add(time.Hour)}); err != nil {
		b.Fatal(err)
	}
	latest, err := st.LatestReported(ctx, tid)
	if err != nil || len(latest) == 0 {
		b.Fatal(err)
	}
	pages := []struct{ name, path string }{
		{"targets", "/targets"},
		{"target", "/targets/" + itoa(tid)},
		{"finding", "/targets/" + itoa(tid) + "/findings/" + fp},
		{"scan", "/scans/" + itoa(latest[0].ID)},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			durs := make([]time.Duration, 0, b.N)
			for b.Loop() {
				req := httptest.NewRequest(http.MethodGet, p.path, nil)
				req.AddCookie(&http.Cookie{Name: sessionCookie, Value: cookie})
				rec := httptest.NewRecorder()
				t0 := time.Now()
				h.ServeHTTP(rec, req)
				durs = append(durs, time.Since(t0))
				if rec.Code != http.StatusOK {
					b.Fatalf("GET %s = %d", p.path, rec.Code)
				}
			}
			slices.Sort(durs)
			p95 := durs[min(len(durs)-1, len(durs)*95/100)]
			b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
		})
	}
}
