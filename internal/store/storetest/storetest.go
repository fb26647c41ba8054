// Package storetest is the conformance suite every store.Store driver must
// pass. Each driver's test calls Run with a function that returns a fresh,
// empty store; the suite then checks every method and every error contract
// documented in package store, so SQLite and PostgreSQL behave the same.
package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/store"
)

// Run runs the suite. newStore must return an empty store for the test it
// is given and close it when that test ends.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"Targets", testTargets},
		{"ListTargets", testListTargets},
		{"Schedule", testSchedule},
		{"Scans", testScans},
		{"SaveReport", testSaveReport},
		{"SaveReportConcurrent", testSaveReportConcurrent},
		{"ListScans", testListScans},
		{"ListFindings", testListFindings},
		{"FindingStatus", testFindingStatus},
		{"AcceptedRiskExpires", testAcceptedRiskExpires},
		{"FixedRegression", testFixedRegression},
		{"Users", testUsers},
		{"DeleteUser", testDeleteUser},
		{"Sessions", testSessions},
		{"APITokens", testAPITokens},
		{"Webhooks", testWebhooks},
		{"DeleteTargetCascades", testDeleteCascade},
		{"Seed", testSeed},
		{"StoredReportRedacted", testStoredReportRedacted},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(t, newStore(t))
		})
	}
}

func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantErr fails unless err wraps want.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s = %v, want %v", what, err, want)
	}
}

func newTarget(t *testing.T, s store.Store, name string) *store.Target {
	t.Helper()
	tg := &store.Target{Name: name, URL: "http://" + name + ".test"}
	must(t, s.CreateTarget(ctx(t), tg))
	return tg
}

func newScan(t *testing.T, s store.Store, targetID int64) *store.Scan {
	t.Helper()
	sc := &store.Scan{TargetID: targetID, RequestedBy: "tester"}
	must(t, s.CreateScan(ctx(t), sc))
	return sc
}

func testTargets(t *testing.T, s store.Store) {
	c := ctx(t)
	next := time.Date(2030, 5, 6, 7, 8, 9, 123456000, time.UTC)
	in := &store.Target{
		Name: "shop",
		URL:  "https://shop.test/api",
		TargetSettings: store.TargetSettings{
			Spec:            "https://shop.test/openapi.json",
			Identities:      json.RawMessage(`{"alice":{"role":"user"}}`),
			IntervalSeconds: 3600,
			Cron:            "0 * * * *",
			WebhookURL:      "https://hooks.test/x",
			WebhookSecret:   "s3cret",
			NextRunAt:       &next,
		},
	}
	must(t, s.CreateTarget(c, in))
	if in.ID == 0 || in.CreatedAt.IsZero() || in.UpdatedAt.IsZero() {
		t.Fatalf("CreateTarget left ID %d, CreatedAt %v, UpdatedAt %v unset", in.ID, in.CreatedAt, in.UpdatedAt)
	}
	got, err := s.GetTarget(c, in.ID)
	must(t, err)
	checkTarget(t, "GetTarget", got, in)
	got, err = s.GetTargetByURL(c, in.URL)
	must(t, err)
	checkTarget(t, "GetTargetByURL", got, in)

	wantErr(t, "CreateTarget(same URL)", s.CreateTarget(c, &store.Target{Name: "dup", URL: in.URL}), store.ErrConflict)
	wantErr(t, "CreateTarget(empty URL)", s.CreateTarget(c, &store.Target{Name: "x"}), store.ErrInvalid)
	_, err = s.GetTarget(c, in.ID+1000)
	wantErr(t, "GetTarget(unknown)", err, store.ErrNotFound)
	_, err = s.GetTargetByURL(c, "https://nowhere.test")
	wantErr(t, "GetTargetByURL(unknown)", err, store.ErrNotFound)

	upd := *got
	upd.Name = "shop v2"
	upd.URL = "https://ignored.test" // URL cannot change
	upd.Identities = nil
	upd.IntervalSeconds = 0
	upd.Cron = ""
	upd.NextRunAt = nil
	must(t, s.UpdateTarget(c, &upd))
	got, err = s.GetTarget(c, in.ID)
	must(t, err)
	if got.Name != "shop v2" || got.URL != in.URL || got.Identities != nil || got.Scheduled() || got.NextRunAt != nil {
		t.Errorf("after UpdateTarget got %+v, want name %q, URL %q, no identities, no schedule", got, "shop v2", in.URL)
	}
	if got.UpdatedAt.Before(in.UpdatedAt) {
		t.Errorf("UpdatedAt = %v, before CreatedAt %v", got.UpdatedAt, in.UpdatedAt)
	}
	wantErr(t, "UpdateTarget(unknown)", s.UpdateTarget(c, &store.Target{ID: in.ID + 1000, URL: "x"}), store.ErrNotFound)

	must(t, s.DeleteTarget(c, in.ID))
	_, err = s.GetTarget(c, in.ID)
	wantErr(t, "GetTarget(deleted)", err, store.ErrNotFound)
	wantErr(t, "DeleteTarget(deleted)", s.DeleteTarget(c, in.ID), store.ErrNotFound)
	// The URL is free again.
	must(t, s.CreateTarget(c, &store.Target{URL: in.URL}))
}

func checkTarget(t *testing.T, what string, got, want *store.Target) {
	t.Helper()
	if got.ID != want.ID || got.Name != want.Name || got.URL != want.URL || got.Spec != want.Spec ||
		string(got.Identities) != string(want.Identities) || got.IntervalSeconds != want.IntervalSeconds ||
		got.Cron != want.Cron || got.WebhookURL != want.WebhookURL || got.WebhookSecret != want.WebhookSecret {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
	if !timesEqual(got.NextRunAt, want.NextRunAt) {
		t.Errorf("%s NextRunAt = %v, want %v", what, got.NextRunAt, want.NextRunAt)
	}
	if !got.CreatedAt.Equal(want.CreatedAt) {
		t.Errorf("%s CreatedAt = %v, want %v", what, got.CreatedAt, want.CreatedAt)
	}
}

func timesEqual(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func testListTargets(t *testing.T, s store.Store) {
	c := ctx(t)
	got, err := s.ListTargets(c)
	must(t, err)
	if len(got) != 0 {
		t.Fatalf("ListTargets(empty store) = %d targets, want 0", len(got))
	}
	beta := newTarget(t, s, "beta")
	alpha := newTarget(t, s, "alpha")
	at := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	n := store.HistoryLen + 3
	for i := range n {
		sc := newScan(t, s, alpha.ID)
		must(t, s.SaveReport(c, sc.ID, SampleReport(alpha.URL, at.Add(time.Duration(i)*time.Hour), i%5)))
	}
	newScan(t, s, alpha.ID) // queued, no report: not in the history

	got, err = s.ListTargets(c)
	must(t, err)
	if len(got) != 2 || got[0].ID != alpha.ID || got[1].ID != beta.ID {
		t.Fatalf("ListTargets order = %v, want alpha then beta", names(got))
	}
	a, b := got[0], got[1]
	if len(a.History) != store.HistoryLen {
		t.Fatalf("len(History) = %d, want %d", len(a.History), store.HistoryLen)
	}
	for i := 1; i < len(a.History); i++ {
		if a.History[i].ScanID <= a.History[i-1].ScanID {
			t.Fatalf("History not oldest first: %+v", a.History)
		}
	}
	last := a.History[len(a.History)-1]
	want := SampleReport(alpha.URL, at, (n-1)%5).Score
	if a.LatestScanID != last.ScanID || a.Score != want.Overall || a.Grade != want.Grade {
		t.Errorf("latest = scan %d score %d grade %q, want scan %d score %d grade %q",
			a.LatestScanID, a.Score, a.Grade, last.ScanID, want.Overall, want.Grade)
	}
	if wantAt := at.Add(time.Duration(n-1) * time.Hour); !last.At.Equal(wantAt) {
		t.Errorf("last History.At = %v, want the report's FinishedAt %v", last.At, wantAt)
	}
	if b.LatestScanID != 0 || b.Grade != "" || len(b.History) != 0 {
		t.Errorf("never-scanned target summary = %+v, want no score", b)
	}
}

func names(ts []store.TargetSummary) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

func testSchedule(t *testing.T, s store.Store) {
	c := ctx(t)
	now := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	mk := func(name string, interval int64, cron string, next *time.Time) *store.Target {
		tg := &store.Target{Name: name, URL: "http://" + name + ".test",
			TargetSettings: store.TargetSettings{IntervalSeconds: interval, Cron: cron, NextRunAt: next}}
		must(t, s.CreateTarget(c, tg))
		return tg
	}
	dueInterval := mk("due-interval", 60, "", &past)
	dueCron := mk("due-cron", 0, "*/5 * * * *", &now)
	mk("later", 60, "", &future)
	mk("unscheduled", 0, "", &past)
	mk("no-next", 60, "", nil)

	got, err := s.DueTargets(c, now)
	must(t, err)
	if len(got) != 2 || got[0].ID != dueInterval.ID || got[1].ID != dueCron.ID {
		t.Fatalf("DueTargets(now) = %d targets %v, want due-interval then due-cron", len(got), got)
	}
	must(t, s.SetNextRun(c, dueInterval.ID, &future))
	must(t, s.SetNextRun(c, dueCron.ID, nil))
	got, err = s.DueTargets(c, now)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("DueTargets after SetNextRun = %d targets, want 0", len(got))
	}
	tg, err := s.GetTarget(c, dueInterval.ID)
	must(t, err)
	if !timesEqual(tg.NextRunAt, &future) || tg.IntervalSeconds != 60 {
		t.Errorf("after SetNextRun: NextRunAt %v interval %d, want %v and 60", tg.NextRunAt, tg.IntervalSeconds, future)
	}
	wantErr(t, "SetNextRun(unknown)", s.SetNextRun(c, 99999, nil), store.ErrNotFound)
}

func testScans(t *testing.T, s store.Store) {
	c := ctx(t)
	tg := newTarget(t, s, "api")
	sc := &store.Scan{TargetID: tg.ID, RequestedBy: "alice@example.com", Active: true, Options: json.RawMessage(`{"profile":"quick"}`)}
	must(t, s.CreateScan(c, sc))
	if sc.ID == 0 || sc.Status != store.StatusQueued || sc.CreatedAt.IsZero() {
		t.Fatalf("CreateScan left ID %d status %q created %v", sc.ID, sc.Status, sc.CreatedAt)
	}
	got, err := s.GetScan(c, sc.ID)
	must(t, err)
	if got.TargetID != tg.ID || got.Status != store.StatusQueued || got.RequestedBy != sc.RequestedBy || !got.Active ||
		string(got.Options) != `{"profile":"quick"}` || got.HasReport || got.StartedAt != nil || got.FinishedAt != nil ||
		!got.CreatedAt.Equal(sc.CreatedAt) {
		t.Errorf("GetScan = %+v, want %+v", got, sc)
	}

	wantErr(t, "CreateScan(unknown target)", s.CreateScan(c, &store.Scan{TargetID: tg.ID + 1000}), store.ErrNotFound)
	wantErr(t, "CreateScan(bad status)", s.CreateScan(c, &store.Scan{TargetID: tg.ID, Status: "paused"}), store.ErrInvalid)
	_, err = s.GetScan(c, sc.ID+1000)
	wantErr(t, "GetScan(unknown)", err, store.ErrNotFound)

	must(t, s.UpdateScanStatus(c, sc.ID, store.StatusRunning, ""))
	must(t, s.UpdateScanProgress(c, sc.ID, 150, "authz checks"))
	got, err = s.GetScan(c, sc.ID)
	must(t, err)
	if got.Status != store.StatusRunning || got.StartedAt == nil || got.Progress != 100 || got.Message != "authz checks" {
		t.Errorf("running scan = status %q started %v progress %d message %q, want running, set, 100 (clamped), %q",
			got.Status, got.StartedAt, got.Progress, got.Message, "authz checks")
	}
	started := *got.StartedAt
	must(t, s.UpdateScanProgress(c, sc.ID, -5, ""))
	must(t, s.UpdateScanStatus(c, sc.ID, store.StatusRunning, "retried"))
	must(t, s.UpdateScanStatus(c, sc.ID, store.StatusFailed, "target unreachable"))
	got, err = s.GetScan(c, sc.ID)
	must(t, err)
	if got.Status != store.StatusFailed || got.Message != "target unreachable" || got.FinishedAt == nil ||
		!got.StartedAt.Equal(started) || got.Progress != 0 {
		t.Errorf("failed scan = %+v, want failed, message kept, finished set, StartedAt %v kept, progress 0", got, started)
	}

	wantErr(t, "UpdateScanStatus(unknown)", s.UpdateScanStatus(c, sc.ID+1000, store.StatusDone, ""), store.ErrNotFound)
	wantErr(t, "UpdateScanStatus(bad status)", s.UpdateScanStatus(c, sc.ID, "paused", ""), store.ErrInvalid)
	wantErr(t, "UpdateScanProgress(unknown)", s.UpdateScanProgress(c, sc.ID+1000, 1, ""), store.ErrNotFound)
}

func testSaveReport(t *testing.T, s store.Store) {
	c := ctx(t)
	tg := newTarget(t, s, "api")
	sc := newScan(t, s, tg.ID)
	_, err := s.GetReport(c, sc.ID)
	wantErr(t, "GetReport(before SaveReport)", err, store.ErrNotFound)

	at := time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC)
	r := SampleReport(tg.URL, at, 3)
	r.Findings[0].Evidence = []scan.Evidence{{Note: "baseline", Matched: "secret"}}
	must(t, s.SaveReport(c, sc.ID, r))
	// The same scan again, even with another report: stored once.
	must(t, s.SaveReport(c, sc.ID, r))
	must(t, s.SaveReport(c, sc.ID, SampleReport(tg.URL, at, 0)))

	got, err := s.GetReport(c, sc.ID)
	must(t, err)
	if got.Target != r.Target || got.Score.Overall != r.Score.Overall || len(got.Findings) != len(r.Findings) ||
		!got.FinishedAt.Equal(r.FinishedAt) || len(got.Findings[0].Evidence) != 1 || got.Findings[0].Evidence[0].Matched != "secret" {
		t.Errorf("GetReport = %+v, want the first report saved %+v", got, r)
	}
	rows, err := s.ListFindings(c, sc.ID)
	must(t, err)
	if len(rows) != len(r.Findings) {
		t.Errorf("len(ListFindings) = %d after three saves, want %d", len(rows), len(r.Findings))
	}
	scn, err := s.GetScan(c, sc.ID)
	must(t, err)
	if !scn.HasReport || scn.Score != r.Score.Overall || scn.Grade != r.Score.Grade || scn.Findings != len(r.Findings) ||
		scn.Status != store.StatusQueued {
		t.Errorf("scan after SaveReport = %+v, want report %d/%s with %d findings, status unchanged", scn, r.Score.Overall, r.Score.Grade, len(r.Findings))
	}

	wantErr(t, "SaveReport(unknown scan)", s.SaveReport(c, sc.ID+1000, r), store.ErrNotFound)
	_, err = s.GetReport(c, sc.ID+1000)
	wantErr(t, "GetReport(unknown scan)", err, store.ErrNotFound)

	// A report with many findings spans several INSERT batches.
	big := SampleReport(tg.URL, at, 0)
	for i := range 250 {
		f := big.Findings[0]
		f.Operation = fmt.Sprintf("GET /many/%d", i)
		f.Fingerprint = scan.Fingerprint(f.CheckID, tg.URL, f.Operation, "")
		big.Findings = append(big.Findings, f)
	}
	sc2 := newScan(t, s, tg.ID)
	must(t, s.SaveReport(c, sc2.ID, big))
	rows, err = s.ListFindings(c, sc2.ID)
	must(t, err)
	if len(rows) != len(big.Findings) {
		t.Errorf("len(ListFindings(big)) = %d, want %d", len(rows), len(big.Findings))
	}
}

func testSaveReportConcurrent(t *testing.T, s store.Store) {
	c := ctx(t)
	tg := newTarget(t, s, "api")
	sc := newScan(t, s, tg.ID)
	r := SampleReport(tg.URL, time.Now(), 4)
	const workers = 4
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for i := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.SaveReport(c, sc.ID, r)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("SaveReport in goroutine %d = %v, want nil", i, err)
		}
	}
	rows, err := s.ListFindings(c, sc.ID)
	must(t, err)
	if len(rows) != len(r.Findings) {
		t.Errorf("after %d concurrent SaveReport: %d finding rows, want %d", workers, len(rows), len(r.Findings))
	}
	n, err := s.CountScans(c, tg.ID)
	must(t, err)
	if n != 1 {
		t.Errorf("CountScans = %d, want 1", n)
	}
}

func testListScans(t *testing.T, s store.Store) {
	c := ctx(t)
	a := newTarget(t, s, "a")
	b := newTarget(t, s, "b")
	var aIDs []int64
	for i := range 7 {
		aIDs = append(aIDs, newScan(t, s, a.ID).ID)
		if i%2 == 0 {
			newScan(t, s, b.ID)
		}
	}
	cases := []struct {
		name   string
		target int64
		page   store.Page
		want   []int64
	}{
		{"first page", a.ID, store.Page{Limit: 3}, []int64{aIDs[6], aIDs[5], aIDs[4]}},
		{"second page", a.ID, store.Page{Limit: 3, Offset: 3}, []int64{aIDs[3], aIDs[2], aIDs[1]}},
		{"last page", a.ID, store.Page{Limit: 3, Offset: 6}, []int64{aIDs[0]}},
		{"past the end", a.ID, store.Page{Limit: 3, Offset: 9}, nil},
		{"default limit", a.ID, store.Page{}, []int64{aIDs[6], aIDs[5], aIDs[4], aIDs[3], aIDs[2], aIDs[1], aIDs[0]}},
		{"unknown target", 99999, store.Page{}, nil},
	}
	for _, tc := range cases {
		got, err := s.ListScans(c, tc.target, tc.page)
		must(t, err)
		if fmt.Sprint(scanIDs(got)) != fmt.Sprint(tc.want) {
			t.Errorf("%s: ListScans(%d, %+v) = %v, want %v", tc.name, tc.target, tc.page, scanIDs(got), tc.want)
		}
	}
	all, err := s.ListScans(c, 0, store.Page{Limit: 100})
	must(t, err)
	if len(all) != 11 {
		t.Errorf("len(ListScans(all)) = %d, want 11", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID {
			t.Fatalf("ListScans(all) not newest first: %v", scanIDs(all))
		}
	}
	for _, tc := range []struct {
		target int64
		want   int
	}{{a.ID, 7}, {b.ID, 4}, {0, 11}, {99999, 0}} {
		n, err := s.CountScans(c, tc.target)
		must(t, err)
		if n != tc.want {
			t.Errorf("CountScans(%d) = %d, want %d", tc.target, n, tc.want)
		}
	}

	// LatestReported skips scans without a report.
	got, err := s.LatestReported(c, a.ID)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("LatestReported(no reports) = %v, want none", scanIDs(got))
	}
	at := time.Now()
	must(t, s.SaveReport(c, aIDs[1], SampleReport(a.URL, at, 0)))
	got, err = s.LatestReported(c, a.ID)
	must(t, err)
	if fmt.Sprint(scanIDs(got)) != fmt.Sprint([]int64{aIDs[1]}) {
		t.Errorf("LatestReported(one report) = %v, want [%d]", scanIDs(got), aIDs[1])
	}
	must(t, s.SaveReport(c, aIDs[3], SampleReport(a.URL, at, 1)))
	must(t, s.SaveReport(c, aIDs[4], SampleReport(a.URL, at, 2)))
	got, err = s.LatestReported(c, a.ID)
	must(t, err)
	if fmt.Sprint(scanIDs(got)) != fmt.Sprint([]int64{aIDs[4], aIDs[3]}) {
		t.Errorf("LatestReported = %v, want [%d %d]", scanIDs(got), aIDs[4], aIDs[3])
	}
}

func scanIDs(ss []store.Scan) []int64 {
	var out []int64
	for _, s := range ss {
		out = append(out, s.ID)
	}
	return out
}

func testListFindings(t *testing.T, s store.Store) {
	c := ctx(t)
	tg := newTarget(t, s, "api")
	sc := newScan(t, s, tg.ID)
	got, err := s.ListFindings(c, sc.ID)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("ListFindings(no report) = %d rows, want 0", len(got))
	}
	_, err = s.ListFindings(c, sc.ID+1000)
	wantErr(t, "ListFindings(unknown scan)", err, store.ErrNotFound)

	r := SampleReport(tg.URL, time.Now(), 4) // severities info, low, medium, high, critical
	r.Findings[2].Confidence = scan.Confirmed
	must(t, s.SaveReport(c, sc.ID, r))
	got, err = s.ListFindings(c, sc.ID)
	must(t, err)
	if len(got) != 5 {
		t.Fatalf("len(ListFindings) = %d, want 5", len(got))
	}
	for i, want := range []scan.Severity{scan.Critical, scan.High, scan.Medium, scan.Low, scan.Info} {
		if got[i].Severity != want {
			t.Errorf("ListFindings[%d].Severity = %v, want %v (most severe first)", i, got[i].Severity, want)
		}
	}
	med := got[2]
	f := r.Findings[2]
	want := store.FindingRow{ScanID: sc.ID, Fingerprint: f.Fingerprint, CheckID: f.CheckID, Severity: f.Severity,
		Confidence: scan.Confirmed, Title: f.Title, Operation: f.Operation, State: store.StateOpen}
	if med != want {
		t.Errorf("ListFindings[2] = %+v, want %+v", med, want)
	}
}

func testFindingStatus(t *testing.T, s store.Store) {
	c := ctx(t)
	setClock(t, s, time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) // before the acceptance below expires
	tg := newTarget(t, s, "api")
	other := newTarget(t, s, "other")
	r := SampleReport(tg.URL, time.Now(), 1)
	fp := r.Findings[0].Fingerprint

	_, err := s.GetFindingStatus(c, tg.ID, fp)
	wantErr(t, "GetFindingStatus(never set)", err, store.ErrNotFound)
	hist, err := s.FindingStatusHistory(c, tg.ID, fp)
	must(t, err)
	if len(hist) != 0 {
		t.Errorf("FindingStatusHistory(never set) = %d changes, want 0", len(hist))
	}

	first := newScan(t, s, tg.ID)
	must(t, s.SaveReport(c, first.ID, r))

	expires := time.Date(2031, 1, 2, 3, 4, 5, 6000, time.UTC)
	t1 := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	accepted := &store.FindingStatus{TargetID: tg.ID, Fingerprint: fp, State: store.StateAccepted,
		Reason: "behind VPN", ExpiresAt: &expires, UpdatedBy: "alice@example.com", UpdatedAt: t1}
	must(t, s.SetFindingStatus(c, accepted))
	got, err := s.GetFindingStatus(c, tg.ID, fp)
	must(t, err)
	if got.State != store.StateAccepted || got.Reason != "behind VPN" || !timesEqual(got.ExpiresAt, &expires) ||
		got.UpdatedBy != "alice@example.com" || !got.UpdatedAt.Equal(t1) {
		t.Errorf("GetFindingStatus = %+v, want %+v", got, accepted)
	}

	// The status follows the fingerprint into the next scan.
	second := newScan(t, s, tg.ID)
	must(t, s.SaveReport(c, second.ID, r))
	rows, err := s.ListFindings(c, second.ID)
	must(t, err)
	states := map[string]store.FindingState{}
	for _, row := range rows {
		states[row.Fingerprint] = row.State
	}
	if states[fp] != store.StateAccepted || states[r.Findings[1].Fingerprint] != store.StateOpen {
		t.Errorf("states in the next scan = %v, want %s accepted and the other open", states, fp)
	}
	// It belongs to the target, not to the fingerprint alone.
	_, err = s.GetFindingStatus(c, other.ID, fp)
	wantErr(t, "GetFindingStatus(other target)", err, store.ErrNotFound)

	fp2 := &store.FindingStatus{TargetID: tg.ID, Fingerprint: fp, State: store.StateFalsePositive,
		Reason: "test data", UpdatedBy: "bob@example.com"}
	must(t, s.SetFindingStatus(c, fp2))
	if fp2.UpdatedAt.IsZero() {
		t.Error("SetFindingStatus left UpdatedAt zero")
	}
	must(t, s.SetFindingStatus(c, &store.FindingStatus{TargetID: tg.ID, Fingerprint: fp, State: store.StateFixed, UpdatedBy: "system"}))
	got, err = s.GetFindingStatus(c, tg.ID, fp)
	must(t, err)
	if got.State != store.StateFixed || got.ExpiresAt != nil || got.Reason != "" {
		t.Errorf("after the third change GetFindingStatus = %+v, want fixed with no reason or expiry", got)
	}
	hist, err = s.FindingStatusHistory(c, tg.ID, fp)
	must(t, err)
	var seq []string
	for _, h := range hist {
		seq = append(seq, string(h.State)+"/"+h.UpdatedBy)
	}
	if fmt.Sprint(seq) != "[accepted/alice@example.com false_positive/bob@example.com fixed/system]" {
		t.Errorf("FindingStatusHistory = %v, want accepted, false_positive, fixed in order with who", seq)
	}
	all, err := s.ListFindingStatuses(c, tg.ID)
	must(t, err)
	if len(all) != 1 || all[0].Fingerprint != fp {
		t.Errorf("ListFindingStatuses = %+v, want one for %s", all, fp)
	}

	wantErr(t, "SetFindingStatus(bad state)",
		s.SetFindingStatus(c, &store.FindingStatus{TargetID: tg.ID, Fingerprint: fp, State: "ignored"}), store.ErrInvalid)
	wantErr(t, "SetFindingStatus(empty fingerprint)",
		s.SetFindingStatus(c, &store.FindingStatus{TargetID: tg.ID, State: store.StateOpen}), store.ErrInvalid)
	wantErr(t, "SetFindingStatus(unknown target)",
		s.SetFindingStatus(c, &store.FindingStatus{TargetID: 99999, Fingerprint: fp, State: store.StateOpen}), store.ErrNotFound)
}

func testUsers(t *testing.T, s store.Store) {
	c := ctx(t)
	n, err := s.CountUsers(c)
	must(t, err)
	if n != 0 {
		t.Fatalf("CountUsers(empty) = %d, want 0", n)
	}
	hash, err := store.HashPassword("correct horse")
	must(t, err)
	u := &store.User{Email: " Alice@Example.COM ", PasswordHash: hash}
	must(t, s.CreateUser(c, u))
	if u.ID == 0 || u.Email != "alice@example.com" || u.CreatedAt.IsZero() {
		t.Errorf("CreateUser left %+v, want an ID, the email lowercased and trimmed, CreatedAt", u)
	}
	got, err := s.GetUserByEmail(c, "ALICE@example.com")
	must(t, err)
	if got.ID != u.ID || !store.CheckPassword(got.PasswordHash, "correct horse") || store.CheckPassword(got.PasswordHash, "wrong") {
		t.Errorf("GetUserByEmail = %+v; want user %d whose hash checks the password", got, u.ID)
	}
	got, err = s.GetUser(c, u.ID)
	must(t, err)
	if got.Email != u.Email || !got.CreatedAt.Equal(u.CreatedAt) {
		t.Errorf("GetUser = %+v, want %+v", got, u)
	}
	wantErr(t, "CreateUser(same email, other case)", s.CreateUser(c, &store.User{Email: "ALICE@example.com", PasswordHash: "x"}), store.ErrConflict)
	wantErr(t, "CreateUser(empty email)", s.CreateUser(c, &store.User{PasswordHash: "x"}), store.ErrInvalid)
	_, err = s.GetUser(c, u.ID+1000)
	wantErr(t, "GetUser(unknown)", err, store.ErrNotFound)
	_, err = s.GetUserByEmail(c, "nobody@example.com")
	wantErr(t, "GetUserByEmail(unknown)", err, store.ErrNotFound)
	n, err = s.CountUsers(c)
	must(t, err)
	if n != 1 {
		t.Errorf("CountUsers = %d, want 1", n)
	}
}

func testDeleteUser(t *testing.T, s store.Store) {
	c := ctx(t)
	alice := newUser(t, s, "alice@example.com")
	bob := newUser(t, s, "bob@example.com")
	users, err := s.ListUsers(c)
	must(t, err)
	if len(users) != 2 || users[0].ID != alice.ID || users[1].Email != "bob@example.com" || users[1].CreatedAt.IsZero() {
		t.Fatalf("ListUsers = %+v, want alice then bob", users)
	}
	must(t, s.CreateSession(c, &store.Session{TokenHash: store.HashToken("bob session"), UserID: bob.ID, ExpiresAt: time.Now().Add(time.Hour)}))
	must(t, s.CreateAPIToken(c, &store.APIToken{UserID: bob.ID, Name: "ci", Hash: store.HashToken("bob token")}))

	must(t, s.DeleteUser(c, bob.ID))
	_, err = s.GetUser(c, bob.ID)
	wantErr(t, "GetUser(deleted)", err, store.ErrNotFound)
	_, err = s.GetSession(c, store.HashToken("bob session"), time.Now())
	wantErr(t, "GetSession(of deleted user)", err, store.ErrNotFound)
	_, err = s.GetAPIToken(c, store.HashToken("bob token"))
	wantErr(t, "GetAPIToken(of deleted user)", err, store.ErrNotFound)
	wantErr(t, "DeleteUser(deleted)", s.DeleteUser(c, bob.ID), store.ErrNotFound)
	wantErr(t, "DeleteUser(last user)", s.DeleteUser(c, alice.ID), store.ErrConflict)
	if n, err := s.CountUsers(c); err != nil || n != 1 {
		t.Errorf("CountUsers after removals = %d, %v; want 1", n, err)
	}

	// Two removals racing for the last two users: one wins, one is
	// refused, and an account remains.
	carol := newUser(t, s, "carol@example.com")
	errs := make(chan error, 2)
	for _, id := range []int64{alice.ID, carol.ID} {
		go func() { errs <- s.DeleteUser(c, id) }()
	}
	var refused int
	for range 2 {
		if err := <-errs; errors.Is(err, store.ErrConflict) {
			refused++
		} else if err != nil {
			t.Errorf("DeleteUser(racing) = %v, want nil or ErrConflict", err)
		}
	}
	if n, err := s.CountUsers(c); err != nil || n != 1 || refused != 1 {
		t.Errorf("after two racing removals: %d users (%v), %d refused; want 1 and 1", n, err, refused)
	}
}

func newUser(t *testing.T, s store.Store, email string) *store.User {
	t.Helper()
	u := &store.User{Email: email, PasswordHash: "not-a-real-hash"}
	must(t, s.CreateUser(ctx(t), u))
	return u
}

func testSessions(t *testing.T, s store.Store) {
	c := ctx(t)
	u := newUser(t, s, "alice@example.com")
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	tok, err := store.NewToken()
	must(t, err)
	live := &store.Session{TokenHash: store.HashToken(tok), UserID: u.ID, ExpiresAt: now.Add(time.Hour)}
	must(t, s.CreateSession(c, live))
	old := &store.Session{TokenHash: store.HashToken("old"), UserID: u.ID, ExpiresAt: now.Add(-time.Second)}
	must(t, s.CreateSession(c, old))

	got, err := s.GetSession(c, live.TokenHash, now)
	must(t, err)
	if got.UserID != u.ID || !got.ExpiresAt.Equal(live.ExpiresAt) || got.CreatedAt.IsZero() {
		t.Errorf("GetSession = %+v, want %+v", got, live)
	}
	_, err = s.GetSession(c, old.TokenHash, now)
	wantErr(t, "GetSession(expired)", err, store.ErrNotFound)
	_, err = s.GetSession(c, live.TokenHash, now.Add(2*time.Hour))
	wantErr(t, "GetSession(live one, later)", err, store.ErrNotFound)
	_, err = s.GetSession(c, store.HashToken("unknown"), now)
	wantErr(t, "GetSession(unknown)", err, store.ErrNotFound)
	wantErr(t, "CreateSession(same hash)", s.CreateSession(c, &store.Session{TokenHash: live.TokenHash, UserID: u.ID, ExpiresAt: now}), store.ErrConflict)
	wantErr(t, "CreateSession(unknown user)", s.CreateSession(c, &store.Session{TokenHash: "h", UserID: u.ID + 1000, ExpiresAt: now}), store.ErrNotFound)

	n, err := s.DeleteExpiredSessions(c, now)
	must(t, err)
	if n != 1 {
		t.Errorf("DeleteExpiredSessions = %d, want 1", n)
	}
	must(t, s.DeleteSession(c, live.TokenHash))
	_, err = s.GetSession(c, live.TokenHash, now)
	wantErr(t, "GetSession(deleted)", err, store.ErrNotFound)
	must(t, s.DeleteSession(c, live.TokenHash)) // missing: not an error
}

func testAPITokens(t *testing.T, s store.Store) {
	c := ctx(t)
	u := newUser(t, s, "alice@example.com")
	a := &store.APIToken{UserID: u.ID, Name: "ci", Hash: store.HashToken("a")}
	b := &store.APIToken{UserID: u.ID, Name: "laptop", Hash: store.HashToken("b")}
	must(t, s.CreateAPIToken(c, a))
	must(t, s.CreateAPIToken(c, b))
	got, err := s.GetAPIToken(c, a.Hash)
	must(t, err)
	if got.ID != a.ID || got.Name != "ci" || got.UserID != u.ID || got.LastUsedAt != nil {
		t.Errorf("GetAPIToken = %+v, want %+v", got, a)
	}
	used := time.Date(2030, 2, 3, 4, 5, 6, 7000, time.UTC)
	must(t, s.TouchAPIToken(c, a.ID, used))
	list, err := s.ListAPITokens(c, u.ID)
	must(t, err)
	if len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID || !timesEqual(list[0].LastUsedAt, &used) {
		t.Errorf("ListAPITokens = %+v, want ci (used %v) then laptop", list, used)
	}
	wantErr(t, "CreateAPIToken(same hash)", s.CreateAPIToken(c, &store.APIToken{UserID: u.ID, Hash: a.Hash}), store.ErrConflict)
	wantErr(t, "CreateAPIToken(unknown user)", s.CreateAPIToken(c, &store.APIToken{UserID: u.ID + 1000, Hash: "z"}), store.ErrNotFound)
	wantErr(t, "CreateAPIToken(empty hash)", s.CreateAPIToken(c, &store.APIToken{UserID: u.ID}), store.ErrInvalid)
	wantErr(t, "TouchAPIToken(unknown)", s.TouchAPIToken(c, b.ID+1000, used), store.ErrNotFound)

	must(t, s.DeleteAPIToken(c, a.ID))
	_, err = s.GetAPIToken(c, a.Hash)
	wantErr(t, "GetAPIToken(revoked)", err, store.ErrNotFound)
	wantErr(t, "DeleteAPIToken(revoked)", s.DeleteAPIToken(c, a.ID), store.ErrNotFound)
	if got := store.HashToken("a"); len(got) != 64 || got == "a" {
		t.Errorf("HashToken(a) = %q, want 64 hex digits", got)
	}
}

func testWebhooks(t *testing.T, s store.Store) {
	c := ctx(t)
	tg := newTarget(t, s, "api")
	sc := newScan(t, s, tg.ID)
	next := time.Date(2030, 1, 1, 0, 1, 0, 0, time.UTC)
	d := &store.WebhookDelivery{TargetID: tg.ID, ScanID: sc.ID, Event: "findings.new", Payload: []byte(`{"new":2}`), NextAttemptAt: &next}
	must(t, s.CreateDelivery(c, d))
	if d.ID == 0 || d.CreatedAt.IsZero() {
		t.Fatalf("CreateDelivery left %+v", d)
	}
	d.Attempts, d.StatusCode, d.Error = 1, 502, "bad gateway"
	must(t, s.UpdateDelivery(c, d))
	delivered := next.Add(time.Minute)
	d.Attempts, d.StatusCode, d.Error, d.NextAttemptAt, d.DeliveredAt = 2, 204, "", nil, &delivered
	must(t, s.UpdateDelivery(c, d))
	got, err := s.GetDelivery(c, d.ID)
	must(t, err)
	if got.TargetID != tg.ID || got.ScanID != sc.ID || got.Event != "findings.new" || string(got.Payload) != `{"new":2}` ||
		got.Attempts != 2 || got.StatusCode != 204 || got.Error != "" || got.NextAttemptAt != nil ||
		!timesEqual(got.DeliveredAt, &delivered) || !got.CreatedAt.Equal(d.CreatedAt) {
		t.Errorf("GetDelivery = %+v, want %+v", got, d)
	}
	noScan := &store.WebhookDelivery{TargetID: tg.ID, Event: "grade.drop"}
	must(t, s.CreateDelivery(c, noScan))
	list, err := s.ListDeliveries(c, tg.ID, store.Page{Limit: 1})
	must(t, err)
	if len(list) != 1 || list[0].ID != noScan.ID || list[0].ScanID != 0 {
		t.Errorf("ListDeliveries(limit 1) = %+v, want the newest, without a scan", list)
	}
	list, err = s.ListDeliveries(c, tg.ID, store.Page{Limit: 1, Offset: 1})
	must(t, err)
	if len(list) != 1 || list[0].ID != d.ID {
		t.Errorf("ListDeliveries(offset 1) = %+v, want delivery %d", list, d.ID)
	}
	wantErr(t, "CreateDelivery(unknown target)", s.CreateDelivery(c, &store.WebhookDelivery{TargetID: 99999, Event: "x"}), store.ErrNotFound)
	wantErr(t, "UpdateDelivery(unknown)", s.UpdateDelivery(c, &store.WebhookDelivery{ID: 99999}), store.ErrNotFound)
	_, err = s.GetDelivery(c, 99999)
	wantErr(t, "GetDelivery(unknown)", err, store.ErrNotFound)
}

func testDeleteCascade(t *testing.T, s store.Store) {
	c := ctx(t)
	tg := newTarget(t, s, "api")
	keep := newTarget(t, s, "keep")
	sc := newScan(t, s, tg.ID)
	r := SampleReport(tg.URL, time.Now(), 2)
	must(t, s.SaveReport(c, sc.ID, r))
	must(t, s.SetFindingStatus(c, &store.FindingStatus{TargetID: tg.ID, Fingerprint: r.Findings[0].Fingerprint, State: store.StateFixed}))
	must(t, s.CreateDelivery(c, &store.WebhookDelivery{TargetID: tg.ID, ScanID: sc.ID, Event: "x"}))
	kept := newScan(t, s, keep.ID)

	must(t, s.DeleteTarget(c, tg.ID))
	_, err := s.GetScan(c, sc.ID)
	wantErr(t, "GetScan(of deleted target)", err, store.ErrNotFound)
	_, err = s.GetReport(c, sc.ID)
	wantErr(t, "GetReport(of deleted target)", err, store.ErrNotFound)
	hist, err := s.FindingStatusHistory(c, tg.ID, r.Findings[0].Fingerprint)
	must(t, err)
	if len(hist) != 0 {
		t.Errorf("status history of a deleted target = %d changes, want 0", len(hist))
	}
	if _, err := s.GetScan(c, kept.ID); err != nil {
		t.Errorf("GetScan(other target's scan) = %v, want nil", err)
	}
}

func testSeed(t *testing.T, s store.Store) {
	c := ctx(t)
	ids, err := Seed(c, s, 3, 4)
	must(t, err)
	if len(ids) != 3 {
		t.Fatalf("Seed returned %d targets, want 3", len(ids))
	}
	n, err := s.CountScans(c, 0)
	must(t, err)
	if n != 12 {
		t.Errorf("CountScans after Seed(3, 4) = %d, want 12", n)
	}
	latest, err := s.LatestReported(c, ids[0])
	must(t, err)
	if len(latest) != 2 || latest[0].Status != store.StatusDone {
		t.Errorf("LatestReported after Seed = %+v, want two done scans", latest)
	}
}
