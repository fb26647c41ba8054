package jobs

import (
	"context"
	"errors"
	"net"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/merlonsec/merlon/internal/demo"
	"github.com/merlonsec/merlon/internal/store"
)

// webhookSetup stores a target whose webhook is receiver and a scan to
// hang deliveries on.
func webhookSetup(t *testing.T, st store.Store, receiver *hook) (*store.Target, *store.Scan) {
	t.Helper()
	ctx := context.Background()
	tg := &store.Target{Name: "hooked", URL: "http://api.test/", TargetSettings: store.TargetSettings{
		WebhookURL: receiver.srv.URL, WebhookSecret: receiver.secret,
	}}
	if err := st.CreateTarget(ctx, tg); err != nil {
		t.Fatal(err)
	}
	s := &store.Scan{TargetID: tg.ID, RequestedBy: "test"}
	if err := st.CreateScan(ctx, s); err != nil {
		t.Fatal(err)
	}
	return tg, s
}

// waitDelivery polls the target's one delivery until ok says it is done.
func waitDelivery(t *testing.T, st store.Store, targetID int64, ok func(store.WebhookDelivery) bool) store.WebhookDelivery {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ds, err := st.ListDeliveries(context.Background(), targetID, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) > 1 {
			t.Fatalf("deliveries = %+v, want one", ds)
		}
		if len(ds) == 1 && ok(ds[0]) {
			return ds[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries = %+v, not there yet", ds)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// webhookJob returns the state of the only webhook job.
func webhookJob(t *testing.T, r *Runner) *rivertype.JobRow {
	t.Helper()
	res, err := r.client.JobList(context.Background(), river.NewJobListParams().Kinds(WebhookArgs{}.Kind()))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Jobs) != 1 {
		t.Fatalf("webhook jobs = %d, want 1", len(res.Jobs))
	}
	return res.Jobs[0]
}

func TestWebhookGivesUpAfterConfiguredAttempts(t *testing.T) {
	receiver := newHook(t, "whsec")
	receiver.fail.Store(1000)
	r := startRunner(t, filepath.Join(t.TempDir(), "merlon.db"), Config{
		ScheduleEvery: -1, WebhookAttempts: 3, WebhookBackoff: func(int) time.Duration { return 20 * time.Millisecond },
	})
	st := r.Store()
	tg, s := webhookSetup(t, st, receiver)
	if _, err := r.enqueueWebhook(context.Background(), WebhookArgs{TargetID: tg.ID, ScanID: s.ID, Event: EventGradeDrop, Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	d := waitDelivery(t, st, tg.ID, func(d store.WebhookDelivery) bool { return d.Attempts == 3 && d.NextAttemptAt == nil })
	if d.DeliveredAt != nil || d.StatusCode != 503 || d.Error == "" {
		t.Errorf("delivery = %+v, want undelivered, 503, an error", d)
	}
	// Ten backoffs later, nothing more may have been tried.
	time.Sleep(500 * time.Millisecond)
	if got := len(receiver.requests()); got != 3 {
		t.Errorf("receiver got %d requests, want exactly WebhookAttempts = 3", got)
	}
	// River records the job's end after the delivery row: wait for it.
	job := webhookJob(t, r)
	for deadline := time.Now().Add(10 * time.Second); job.State != rivertype.JobStateDiscarded && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		job = webhookJob(t, r)
	}
	if job.State != rivertype.JobStateDiscarded || job.Attempt != 3 || job.MaxAttempts != 3 {
		t.Errorf("webhook job = %s, attempt %d of %d; want discarded after 3 of 3", job.State, job.Attempt, job.MaxAttempts)
	}
}

func TestWebhookDefaultAttempts(t *testing.T) {
	if got := (WebhookArgs{}).InsertOpts().MaxAttempts; got != DefaultWebhookAttempts || DefaultWebhookAttempts != 8 {
		t.Errorf("WebhookArgs MaxAttempts = %d (default %d), want the documented 8", got, DefaultWebhookAttempts)
	}
}

func TestWebhookSameEventDeliveredOnce(t *testing.T) {
	receiver := newHook(t, "whsec")
	r := startRunner(t, filepath.Join(t.TempDir(), "merlon.db"), Config{ScheduleEvery: -1})
	st := r.Store()
	tg, s := webhookSetup(t, st, receiver)
	args := WebhookArgs{TargetID: tg.ID, ScanID: s.ID, Event: EventNewFindings, Payload: []byte(`{"n":1}`)}
	ctx := context.Background()
	// A retried scan job enqueues the same event again, its payload maybe
	// rebuilt: only scan and event make it the same.
	for i, want := range []bool{true, false} {
		args.Payload = []byte(`{"try":` + string(rune('0'+i)) + `}`)
		inserted, err := r.enqueueWebhook(ctx, args)
		if err != nil || inserted != want {
			t.Fatalf("enqueueWebhook #%d = %v, %v; want %v", i+1, inserted, err, want)
		}
	}
	waitDelivery(t, st, tg.ID, func(d store.WebhookDelivery) bool { return d.DeliveredAt != nil })
	// Once delivered, the same event is still not sent again.
	if inserted, err := r.enqueueWebhook(ctx, args); err != nil || inserted {
		t.Errorf("enqueueWebhook after delivery = %v, %v; want skipped", inserted, err)
	}
	// Another event of the same scan is another delivery.
	other := args
	other.Event = EventGradeDrop
	if inserted, err := r.enqueueWebhook(ctx, other); err != nil || !inserted {
		t.Errorf("enqueueWebhook(%s) = %v, %v; want inserted", other.Event, inserted, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(receiver.requests()) < 2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond)
	got := map[string]int{}
	for _, rc := range receiver.requests() {
		got[rc.event]++
	}
	if got[EventNewFindings] != 1 || got[EventGradeDrop] != 1 {
		t.Errorf("requests by event = %v, want one of each", got)
	}
}

func TestWebhookRefusesPrivateAddress(t *testing.T) {
	receiver := newHook(t, "whsec")
	r := openRunner(t, filepath.Join(t.TempDir(), "merlon.db"), Config{Workers: 1, ScheduleEvery: -1})
	defer r.Close()
	ctx := context.Background()
	if err := r.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer r.Stop(ctx)
	st := r.Store()
	tg, s := webhookSetup(t, st, receiver)
	if _, err := r.enqueueWebhook(ctx, WebhookArgs{TargetID: tg.ID, ScanID: s.ID, Event: EventGradeDrop, Payload: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	d := waitDelivery(t, st, tg.ID, func(d store.WebhookDelivery) bool { return d.Attempts > 0 })
	if d.DeliveredAt != nil || !strings.Contains(d.Error, "loopback") || d.NextAttemptAt != nil {
		t.Errorf("delivery = %+v, want refused as loopback, no retry", d)
	}
	time.Sleep(200 * time.Millisecond)
	if n := len(receiver.requests()); n != 0 {
		t.Errorf("receiver on 127.0.0.1 got %d requests, want none", n)
	}
	// River records the job's end after the delivery row: wait for it.
	job := webhookJob(t, r)
	for deadline := time.Now().Add(10 * time.Second); job.State == rivertype.JobStateRunning && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		job = webhookJob(t, r)
	}
	if job.State != rivertype.JobStateCancelled {
		t.Errorf("webhook job = %s, want cancelled", job.State)
	}
}

// TestTickRefusesPrivateTargets: a scheduled scan whose target (or spec)
// now resolves inside is created failed, with the reason, not queued.
func TestTickRefusesPrivateTargets(t *testing.T) {
	ctx := context.Background()
	now := mustTime(t, "2026-03-01 10:00")
	past := now.Add(-time.Minute)
	for _, allow := range []bool{false, true} {
		// rebind.test is a name that points inside, as a rebinding name
		// does once it has passed the server's check.
		lookup := func(_ context.Context, host string) ([]net.IPAddr, error) {
			if host == "rebind.test" {
				return []net.IPAddr{{IP: net.ParseIP("10.9.9.9")}}, nil
			}
			return nil, errors.New("no such host")
		}
		r := openRunner(t, filepath.Join(t.TempDir(), "merlon.db"), Config{Now: func() time.Time { return now }, AllowPrivateTargets: allow, lookup: lookup})
		defer r.Close()
		st := r.Store()
		targets := []struct {
			name, url, spec, refusal string
		}{
			{"loopback", "http://127.0.0.1:8080/", "", "loopback"},
			{"metadata", "http://169.254.169.254/", "", "link-local"},
			{"private spec", "http://93.184.216.34/", "http://10.0.0.5/openapi.json", "private"},
			{"private spec, scheme in capitals", "http://93.184.216.36/", "HTTP://10.0.0.6/openapi.json", "private"},
			{"name that resolves inside", "http://rebind.test/", "", "private"},
			{"public", "http://93.184.216.35/", "", ""},
		}
		ids := make([]int64, len(targets))
		for i, tt := range targets {
			tg := &store.Target{Name: tt.name, URL: tt.url, TargetSettings: store.TargetSettings{Spec: tt.spec, IntervalSeconds: 600, NextRunAt: &past}}
			if err := st.CreateTarget(ctx, tg); err != nil {
				t.Fatal(err)
			}
			ids[i] = tg.ID
		}
		started, err := r.Tick(ctx)
		if err != nil {
			t.Fatalf("Tick = %v", err)
		}
		want := 1
		if allow {
			want = len(targets)
		}
		if len(started) != want {
			t.Errorf("allow %v: Tick queued %d scans, want %d", allow, len(started), want)
		}
		for i, tt := range targets {
			scans, err := st.ListScans(ctx, ids[i], store.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if len(scans) != 1 {
				t.Fatalf("allow %v, %s: %d scans, want 1", allow, tt.name, len(scans))
			}
			s := scans[0]
			wantFailed := tt.refusal != "" && !allow
			switch {
			case wantFailed && (s.Status != store.StatusFailed || !strings.Contains(s.Message, tt.refusal)):
				t.Errorf("allow %v, %s: scan = %s (%q), want failed, %s", allow, tt.name, s.Status, s.Message, tt.refusal)
			case !wantFailed && s.Status != store.StatusQueued:
				t.Errorf("allow %v, %s: scan = %s (%q), want queued", allow, tt.name, s.Status, s.Message)
			}
		}
	}
}

// TestScheduledMonitoring runs the scheduler as River's periodic job, not
// by calling Tick: a target with an interval is scanned again and again;
// once it turns vulnerable, a scheduled scan is diffed against the one
// before and the new findings are POSTed, signed, to its webhook.
func TestScheduledMonitoring(t *testing.T) {
	target := &switchable{}
	target.h.Store(cleanAPI())
	api := httptest.NewServer(target)
	defer api.Close()
	receiver := newHook(t, "s3cret")

	r := startRunner(t, filepath.Join(t.TempDir(), "merlon.db"), Config{ScheduleEvery: 300 * time.Millisecond})
	st := r.Store()
	ctx := context.Background()
	past := time.Now().Add(-time.Minute)
	// One second is below what ValidateSchedule lets a person choose, and
	// keeps the test short; the scheduler itself takes it as it is.
	tg := &store.Target{Name: "monitored", URL: api.URL, TargetSettings: store.TargetSettings{
		Spec: api.URL + "/openapi.json", IntervalSeconds: 1, NextRunAt: &past,
		WebhookURL: receiver.srv.URL, WebhookSecret: "s3cret",
	}}
	if err := st.CreateTarget(ctx, tg); err != nil {
		t.Fatal(err)
	}

	// Wait for a scheduled scan of the clean API to be done.
	deadline := time.Now().Add(time.Minute)
	for {
		scans, err := st.ListScans(ctx, tg.ID, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		done := 0
		for _, s := range scans {
			if s.RequestedBy != "schedule" {
				t.Fatalf("scan %d requested by %q, want schedule", s.ID, s.RequestedBy)
			}
			if s.Status == store.StatusDone {
				done++
			}
		}
		if done > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scheduled scan done after a minute: %+v", scans)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := len(receiver.requests()); n != 0 {
		t.Fatalf("webhooks before any change = %d, want none", n)
	}

	target.h.Store(demo.New().Handler())
	var got received
	for {
		for _, rc := range receiver.requests() {
			if rc.event == EventNewFindings {
				got = rc
			}
		}
		if got.event != "" {
			break
		}
		if time.Now().After(deadline.Add(time.Minute)) {
			t.Fatalf("no %s webhook after the target changed", EventNewFindings)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if got.verified != nil {
		t.Errorf("webhook signature: %v", got.verified)
	}
	p := got.payload
	if p.Target.ID != tg.ID || p.Previous.ID == 0 || p.Previous.ID >= p.Scan.ID || len(p.NewFindings) == 0 {
		t.Fatalf("payload = %+v, want scan after previous of target %d, with new findings", p, tg.ID)
	}
	for _, id := range []int64{p.Scan.ID, p.Previous.ID} {
		s, err := st.GetScan(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if s.RequestedBy != "schedule" || s.Status != store.StatusDone {
			t.Errorf("scan %d = %s by %q, want a done scheduled scan", id, s.Status, s.RequestedBy)
		}
	}
	// The diff is real: no new finding was in the previous report.
	prev, err := st.GetReport(ctx, p.Previous.ID)
	if err != nil {
		t.Fatal(err)
	}
	before := map[string]bool{}
	for _, f := range prev.Findings {
		before[f.Fingerprint] = true
	}
	for _, f := range p.NewFindings {
		if before[f.Fingerprint] {
			t.Errorf("new finding %s (%s) was in scan %d already", f.Fingerprint, f.CheckID, p.Previous.ID)
		}
	}
	// The receiver answers before the worker records the delivery.
	for wait := time.Now().Add(10 * time.Second); ; {
		ds, err := st.ListDeliveries(ctx, tg.ID, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		delivered := false
		for _, d := range ds {
			delivered = delivered || (d.ScanID == p.Scan.ID && d.Event == EventNewFindings && d.DeliveredAt != nil)
		}
		if delivered {
			break
		}
		if time.Now().After(wait) {
			t.Fatalf("deliveries = %+v, want %s of scan %d recorded as delivered", ds, EventNewFindings, p.Scan.ID)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
