package jobs

import (
	"context"
	"database/sql"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/store"
)

// slowTarget wraps cleanAPI: while slow is set, every answer waits delay
// (or until the client gives up), so a scan lasts as long as a test needs.
type slowTarget struct {
	slow  atomic.Bool
	delay time.Duration
	hits  atomic.Int64
}

func (s *slowTarget) handler() http.Handler {
	api := cleanAPI()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		if s.slow.Load() {
			select {
			case <-time.After(s.delay):
			case <-r.Context().Done():
				return
			}
		}
		api.ServeHTTP(w, r)
	})
}

// openRunner opens a runner on dsn without starting it; the caller stops
// and closes it.
func openRunner(t *testing.T, dsn string, cfg Config) *Runner {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg.Version = "test"
	r, err := Open(ctx, dsn, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return r
}

// newScan stores a target at url and a queued quick scan of it.
func newScan(t *testing.T, st store.Store, url string) (*store.Target, *store.Scan) {
	t.Helper()
	ctx := context.Background()
	tg := &store.Target{Name: "api", URL: url, TargetSettings: store.TargetSettings{Spec: url + "/openapi.json"}}
	if err := st.CreateTarget(ctx, tg); err != nil {
		t.Fatal(err)
	}
	s := &store.Scan{TargetID: tg.ID, RequestedBy: "test", Options: json.RawMessage(`{"profile":"quick"}`)}
	if err := st.CreateScan(ctx, s); err != nil {
		t.Fatal(err)
	}
	return tg, s
}

// waitStatus polls scan id until it has status want.
func waitStatus(t *testing.T, st store.Store, id int64, want store.ScanStatus, timeout time.Duration) *store.Scan {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		s, err := st.GetScan(context.Background(), id)
		if err != nil {
			t.Fatalf("GetScan(%d): %v", id, err)
		}
		if s.Status == want {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("scan %d = %s (%q), want %s within %s", id, s.Status, s.Message, want, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// scanJob returns the one River job of scan id.
func scanJob(t *testing.T, r *Runner, id int64) *rivertype.JobRow {
	t.Helper()
	res, err := r.client.JobList(context.Background(), river.NewJobListParams().Kinds(ScanArgs{}.Kind()).First(1000))
	if err != nil {
		t.Fatalf("JobList: %v", err)
	}
	var found *rivertype.JobRow
	for _, j := range res.Jobs {
		var a ScanArgs
		if err := json.Unmarshal(j.EncodedArgs, &a); err == nil && a.ScanID == id {
			if found != nil {
				t.Fatalf("scan %d has two jobs: %d and %d", id, found.ID, j.ID)
			}
			found = j
		}
	}
	if found == nil {
		t.Fatalf("scan %d has no job", id)
	}
	return found
}

// TestStopRequeuesRunningScan stops a runner in the middle of a slow scan
// with a short grace period: Stop must return cleanly, the scan must be
// back to queued with its job available at once, and the next runner on
// the database must finish it.
func TestStopRequeuesRunningScan(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			target := &slowTarget{delay: 300 * time.Millisecond}
			target.slow.Store(true)
			api := httptest.NewServer(target.handler())
			defer api.Close()
			dsn := be.dsn(t)
			cfg := Config{Workers: 1, ScheduleEvery: -1, AllowPrivateTargets: true}

			first := openRunner(t, dsn, cfg)
			defer first.Close()
			st := first.Store()
			_, s := newScan(t, st, api.URL)
			ctx := context.Background()
			if err := first.Start(ctx); err != nil {
				t.Fatal(err)
			}
			if err := first.EnqueueScan(ctx, s.ID); err != nil {
				t.Fatal(err)
			}
			waitStatus(t, st, s.ID, store.StatusRunning, 30*time.Second)
			for deadline := time.Now().Add(30 * time.Second); target.hits.Load() < 2; {
				if time.Now().After(deadline) {
					t.Fatalf("the scan reached the slow target %d times in 30 s, want 2", target.hits.Load())
				}
				time.Sleep(20 * time.Millisecond)
			}

			stopCtx, cancel := context.WithTimeout(ctx, time.Second)
			defer cancel()
			began := time.Now()
			if err := first.Stop(stopCtx); err != nil {
				t.Fatalf("Stop during a slow scan = %v, want nil", err)
			}
			if took := time.Since(began); took > 10*time.Second {
				t.Errorf("Stop took %s, want about the 1 s grace period", took)
			}
			got, err := st.GetScan(ctx, s.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != store.StatusQueued || !strings.Contains(got.Message, "stopped") {
				t.Errorf("scan after Stop = %s (%q), want queued, saying the worker stopped", got.Status, got.Message)
			}
			job := scanJob(t, first, s.ID)
			if job.State != rivertype.JobStateAvailable && job.State != rivertype.JobStateScheduled {
				t.Errorf("job after Stop = %s, want available again", job.State)
			}
			if wait := time.Until(job.ScheduledAt); wait > 5*time.Second {
				t.Errorf("job scheduled in %s, want at once", wait)
			}
			if job.Attempt > 1 {
				t.Errorf("job attempt = %d, want the interrupted attempt not counted", job.Attempt)
			}

			// The next process finishes it.
			target.slow.Store(false)
			second := openRunner(t, dsn, cfg)
			defer second.Close()
			if err := second.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer second.Stop(ctx)
			done := waitStatus(t, st, s.ID, store.StatusDone, time.Minute)
			if !done.HasReport {
				t.Errorf("scan %d done without a report", s.ID)
			}
		})
	}
}

// TestScanFailsWhenAttemptsRunOut times out every attempt of a scan: once
// River gives up, the scan must be failed with the reason, not left
// queued for a job that will never run again.
func TestScanFailsWhenAttemptsRunOut(t *testing.T) {
	target := &slowTarget{delay: 10 * time.Second}
	target.slow.Store(true)
	api := httptest.NewServer(target.handler())
	defer api.Close()
	r := startRunner(t, filepath.Join(t.TempDir(), "merlon.db"), Config{
		Workers: 1, ScheduleEvery: -1, AllowPrivateTargets: true,
		JobTimeout: 700 * time.Millisecond, RescueAfter: time.Minute,
		ScanAttempts: 2, ScanRetryDelay: 50 * time.Millisecond,
	})
	st := r.Store()
	_, s := newScan(t, st, api.URL)
	if err := r.EnqueueScan(context.Background(), s.ID); err != nil {
		t.Fatal(err)
	}
	got, seen := waitScan(t, st, s.ID, 30*time.Second)
	if got.Status != store.StatusFailed || !strings.Contains(got.Message, "attempt 2 of 2") {
		t.Fatalf("scan = %s (%q), want failed on attempt 2 of 2; statuses seen %v", got.Status, got.Message, seen)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		job := scanJob(t, r, s.ID)
		if job.State == rivertype.JobStateDiscarded {
			if job.Attempt != 2 {
				t.Errorf("job attempts = %d, want 2", job.Attempt)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job = %s, want discarded", job.State)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestReapFailsScanOfDiscardedJob plays River's rescuer discarding the job
// of a worker that died on the scan's last attempt: no worker code runs
// then, so the scheduler's sweep must fail the scan.
func TestReapFailsScanOfDiscardedJob(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "merlon.db")
	r := openRunner(t, path, Config{})
	defer r.Close()
	st := r.Store()
	_, lost := newScan(t, st, "http://127.0.0.1:1")
	_, reported := newScan(t, st, "http://127.0.0.2:1")
	_, finished := newScan(t, st, "http://127.0.0.3:1")
	for _, s := range []*store.Scan{lost, reported, finished} {
		if err := st.UpdateScanStatus(ctx, s.ID, store.StatusRunning, ""); err != nil {
			t.Fatal(err)
		}
		if err := r.EnqueueScan(ctx, s.ID); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	rep := &scan.Report{Target: "http://127.0.0.2:1/", StartedAt: now, FinishedAt: now, Score: scan.Score{Overall: 100, Grade: "A"}}
	if err := st.SaveReport(ctx, reported.ID, rep); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateScanStatus(ctx, finished.ID, store.StatusFailed, "bad spec"); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`UPDATE river_job SET state = 'discarded', attempt = max_attempts, finalized_at = created_at`); err != nil {
		t.Fatal(err)
	}

	if err := r.reap(ctx); err != nil {
		t.Fatalf("reap = %v", err)
	}
	tests := []struct {
		name   string
		id     int64
		status store.ScanStatus
		msg    string
	}{
		{"lost worker", lost.ID, store.StatusFailed, "gave up after 3 attempts"},
		{"report stored", reported.ID, store.StatusDone, ""},
		{"already final", finished.ID, store.StatusFailed, "bad spec"},
	}
	for _, tt := range tests {
		s, err := st.GetScan(ctx, tt.id)
		if err != nil {
			t.Fatal(err)
		}
		if s.Status != tt.status || !strings.Contains(s.Message, tt.msg) {
			t.Errorf("%s: scan = %s (%q), want %s (%q)", tt.name, s.Status, s.Message, tt.status, tt.msg)
		}
	}
}
