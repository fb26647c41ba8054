package storetest

import (
	"context"
	"fmt"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/store"
)

// Seed fills s with targets targets of scansPerTarget finished scans each,
// every scan with a stored report of a few findings whose score drifts from
// scan to scan, so that lists, trends and diffs have something to show. It
// returns the target IDs. Use it to benchmark pages over many stored scans:
// Seed(ctx, s, 100, 100) stores 10,000.
func Seed(ctx context.Context, s store.Store, targets, scansPerTarget int) ([]int64, error) {
	ids := make([]int64, 0, targets)
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range targets {
		t := &store.Target{
			Name: fmt.Sprintf("api-%05d", i),
			URL:  fmt.Sprintf("http://seed-%05d.test:8080", i),
		}
		if err := s.CreateTarget(ctx, t); err != nil {
			return ids, fmt.Errorf("seed: %w", err)
		}
		ids = append(ids, t.ID)
		for j := range scansPerTarget {
			sc := &store.Scan{TargetID: t.ID, Status: store.StatusRunning, RequestedBy: "seed"}
			if err := s.CreateScan(ctx, sc); err != nil {
				return ids, fmt.Errorf("seed: %w", err)
			}
			at := start.Add(time.Duration(j) * time.Hour)
			if err := s.SaveReport(ctx, sc.ID, SampleReport(t.URL, at, (i+j)%5)); err != nil {
				return ids, fmt.Errorf("seed: %w", err)
			}
			if err := s.UpdateScanStatus(ctx, sc.ID, store.StatusDone, ""); err != nil {
				return ids, fmt.Errorf("seed: %w", err)
			}
		}
	}
	return ids, nil
}

// SampleReport returns a small, valid report of target finished at at,
// with n+1 findings (the first always present, so consecutive reports share
// a fingerprint) and a score that falls as n grows.
func SampleReport(target string, at time.Time, n int) *scan.Report {
	grades := []string{"A", "B", "C", "D", "F"}
	r := &scan.Report{
		SchemaVersion: scan.SchemaVersion,
		Tool:          scan.Tool{Name: "merlon", Version: "test"},
		Target:        target,
		StartedAt:     at.Add(-time.Minute),
		FinishedAt:    at,
		Score:         scan.Score{Overall: 95 - 15*min(n, 4), Grade: grades[min(n, 4)]},
	}
	for k := range n + 1 {
		op := fmt.Sprintf("GET /items/%d", k)
		f := scan.Finding{
			CheckID:    "exposure.sample",
			Title:      fmt.Sprintf("Sample finding %d", k),
			Severity:   scan.Severity(k % 5),
			Confidence: scan.Likely,
			CWE:        200,
			Operation:  op,
		}
		f.Fingerprint = scan.Fingerprint(f.CheckID, target, op, "")
		r.Findings = append(r.Findings, f)
	}
	return r
}
