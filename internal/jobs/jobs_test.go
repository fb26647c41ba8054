package jobs

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/demo"
	"github.com/merlonsec/merlon/internal/store"
	"github.com/merlonsec/merlon/internal/store/pgtest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// backends are the databases every runner test runs on.
var backends = []struct {
	name string
	dsn  func(t *testing.T) string
}{
	{"sqlite", func(t *testing.T) string { return filepath.Join(t.TempDir(), "merlon.db") }},
	{"postgres", func(t *testing.T) string { return pgtest.NewDatabase(t) }},
}

// startRunner opens a working runner on dsn and stops it when t ends.
func startRunner(t *testing.T, dsn string, cfg Config) *Runner {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	cfg.Version = "test"
	// Every target and receiver here is on 127.0.0.1; the guard has
	// tests of its own.
	cfg.AllowPrivateTargets = true
	if os.Getenv("JOBS_DEBUG") != "" {
		cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	r, err := Open(ctx, dsn, cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := r.Start(ctx); err != nil {
		r.Close()
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := r.Stop(ctx); err != nil {
			t.Errorf("Stop: %v", err)
		}
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return r
}

// waitScan polls the scan until it is final, recording every status seen.
func waitScan(t *testing.T, st store.Store, id int64, timeout time.Duration) (*store.Scan, []store.ScanStatus) {
	t.Helper()
	var seen []store.ScanStatus
	deadline := time.Now().Add(timeout)
	for {
		s, err := st.GetScan(context.Background(), id)
		if err != nil {
			t.Fatalf("GetScan(%d): %v", id, err)
		}
		if len(seen) == 0 || seen[len(seen)-1] != s.Status {
			seen = append(seen, s.Status)
		}
		if s.Status.Final() {
			return s, seen
		}
		if time.Now().After(deadline) {
			t.Fatalf("scan %d still %s (%d%% %q) after %s", id, s.Status, s.Progress, s.Message, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// hook is a webhook receiver that checks signatures and can fail on demand.
type hook struct {
	secret string
	fail   atomic.Int32 // answer 503 to this many more requests
	mu     sync.Mutex
	got    []received
	srv    *httptest.Server
}

type received struct {
	event    string
	verified error
	payload  Payload
	at       time.Time
}

func newHook(t *testing.T, secret string) *hook {
	t.Helper()
	h := &hook{secret: secret}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc := received{
			event:    r.Header.Get(HeaderEvent),
			verified: Verify(h.secret, r.Header.Get(HeaderTimestamp), body, r.Header.Get(HeaderSignature), time.Now(), 5*time.Minute),
			at:       time.Now(),
		}
		_ = json.Unmarshal(body, &rc.payload)
		h.mu.Lock()
		h.got = append(h.got, rc)
		h.mu.Unlock()
		if h.fail.Add(-1) >= 0 {
			http.Error(w, "try later", http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hook) requests() []received {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]received(nil), h.got...)
}

// cleanAPI is a small API the passive checks find nothing serious in.
func cleanAPI() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"openapi":"3.0.3","info":{"title":"clean","version":"1"},"paths":{"/items":{"get":{"responses":{"200":{"description":"ok"}}}}}}`)
	})
	mux.HandleFunc("GET /items", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"id":1,"name":"one"}]`)
	})
	return secureHeaders(mux)
}

func secureHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Security-Policy", "default-src 'none'")
		h.ServeHTTP(w, r)
	})
}

// switchable serves one handler, then another once swapped.
type switchable struct{ h atomic.Value }

func (s *switchable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.h.Load().(http.Handler).ServeHTTP(w, r)
}

func TestScanWorkerEndToEnd(t *testing.T) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			t.Parallel()
			target := &switchable{}
			target.h.Store(cleanAPI())
			api := httptest.NewServer(target)
			defer api.Close()
			receiver := newHook(t, "s3cret")

			r := startRunner(t, be.dsn(t), Config{ScheduleEvery: -1, WebhookBackoff: func(int) time.Duration { return 50 * time.Millisecond }})
			st := r.Store()
			ctx := context.Background()
			tg := &store.Target{Name: "api", URL: api.URL, TargetSettings: store.TargetSettings{
				Spec: api.URL + "/openapi.json", WebhookURL: receiver.srv.URL, WebhookSecret: "s3cret",
			}}
			if err := st.CreateTarget(ctx, tg); err != nil {
				t.Fatal(err)
			}
			scanOnce := func() *store.Scan {
				t.Helper()
				s := &store.Scan{TargetID: tg.ID, RequestedBy: "test", Options: json.RawMessage(`{"profile":"quick"}`)}
				if err := st.CreateScan(ctx, s); err != nil {
					t.Fatal(err)
				}
				if s.Status != store.StatusQueued {
					t.Fatalf("new scan status = %q, want queued", s.Status)
				}
				if err := r.EnqueueScan(ctx, s.ID); err != nil {
					t.Fatal(err)
				}
				done, seen := waitScan(t, st, s.ID, time.Minute)
				if done.Status != store.StatusDone {
					t.Fatalf("scan %d = %s (%q), want done; statuses seen %v", s.ID, done.Status, done.Message, seen)
				}
				if !done.HasReport || done.StartedAt == nil || done.FinishedAt == nil || done.Progress != 100 {
					t.Errorf("scan %d = report %v started %v finished %v progress %d, want a report, both times and 100",
						s.ID, done.HasReport, done.StartedAt, done.FinishedAt, done.Progress)
				}
				if _, err := st.GetReport(ctx, s.ID); err != nil {
					t.Errorf("GetReport(%d) = %v", s.ID, err)
				}
				return done
			}

			first := scanOnce()
			time.Sleep(300 * time.Millisecond)
			if got := receiver.requests(); len(got) != 0 {
				t.Fatalf("first scan sent %d webhooks, want none (nothing to compare with)", len(got))
			}

			// The same target turns into the vulnerable demo API: new
			// findings and a lower grade. The receiver fails twice first.
			target.h.Store(demo.New().Handler())
			receiver.fail.Store(2)
			second := scanOnce()
			if !GradeDropped(first.Grade, second.Grade) {
				t.Fatalf("grades %s -> %s: the test needs a drop", first.Grade, second.Grade)
			}

			deadline := time.Now().Add(30 * time.Second)
			var ds []store.WebhookDelivery
			for {
				var err error
				ds, err = st.ListDeliveries(ctx, tg.ID, store.Page{})
				if err != nil {
					t.Fatal(err)
				}
				delivered := 0
				for _, d := range ds {
					if d.DeliveredAt != nil {
						delivered++
					}
				}
				if len(ds) == 2 && delivered == 2 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("deliveries = %+v, want 2 delivered", ds)
				}
				time.Sleep(50 * time.Millisecond)
			}
			events := map[string]bool{}
			attempts := 0
			for _, d := range ds {
				events[d.Event] = true
				attempts += d.Attempts
				if d.ScanID != second.ID || d.StatusCode != http.StatusNoContent || d.Error != "" || d.NextAttemptAt != nil {
					t.Errorf("delivery %+v, want scan %d, status 204, no error, no next attempt", d, second.ID)
				}
			}
			if !events[EventNewFindings] || !events[EventGradeDrop] {
				t.Errorf("delivered events = %v, want %s and %s", events, EventNewFindings, EventGradeDrop)
			}
			// Two failures plus one success for each of two events.
			if attempts != 4 {
				t.Errorf("attempts recorded = %d, want 4 (two failed, two delivered)", attempts)
			}
			reqs := receiver.requests()
			if len(reqs) != 4 {
				t.Errorf("receiver got %d requests, want 4", len(reqs))
			}
			for _, rc := range reqs {
				if rc.verified != nil {
					t.Errorf("webhook %s: Verify = %v, want a valid signature", rc.event, rc.verified)
				}
				if rc.payload.Event != rc.event || rc.payload.Scan.ID != second.ID || rc.payload.Previous.ID != first.ID {
					t.Errorf("payload = %+v, want event %s, scan %d after %d", rc.payload, rc.event, second.ID, first.ID)
				}
				if rc.event == EventNewFindings && len(rc.payload.NewFindings) == 0 {
					t.Errorf("findings.new payload lists no finding")
				}
			}
		})
	}
}
