package engine

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
)

// funcCheck is a check whose behaviour the test supplies.
type funcCheck struct {
	meta scan.Meta
	run  func(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error)
}

func (c funcCheck) Meta() scan.Meta { return c.meta }
func (c funcCheck) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	return c.run(ctx, t, h)
}

func check(id string, run func(context.Context, *scan.Target, scan.Requester) ([]scan.Finding, error)) funcCheck {
	return funcCheck{meta: scan.Meta{ID: id, Category: scan.API8Misconfiguration, CWE: 16, Title: id + " title"}, run: run}
}

func returns(fs ...scan.Finding) func(context.Context, *scan.Target, scan.Requester) ([]scan.Finding, error) {
	return func(context.Context, *scan.Target, scan.Requester) ([]scan.Finding, error) { return fs, nil }
}

func testTarget(t *testing.T) *scan.Target {
	t.Helper()
	return &scan.Target{BaseURL: mustURL(t, "http://API.test/v1")}
}

func TestRunChecksStatuses(t *testing.T) {
	active := check("write.thing", returns(scan.Finding{Location: "a"}))
	active.meta.Active = true
	checks := []scan.Check{
		check("ok.one", returns(scan.Finding{Location: "x"})),
		check("panics", func(context.Context, *scan.Target, scan.Requester) ([]scan.Finding, error) {
			panic("boom")
		}),
		check("fails", func(context.Context, *scan.Target, scan.Requester) ([]scan.Finding, error) {
			return []scan.Finding{{Location: "partial"}}, errors.New("target went away")
		}),
		check("not.here", func(context.Context, *scan.Target, scan.Requester) ([]scan.Finding, error) {
			return nil, scan.Skip("needs two identities")
		}),
		active,
	}
	tests := []struct {
		name         string
		active       bool
		want         []scan.CheckResult
		wantFindings []string // check IDs of the findings, sorted
	}{
		{
			name: "passive",
			want: []scan.CheckResult{
				{ID: "ok.one", Status: StatusOK, Findings: 1},
				{ID: "panics", Status: StatusError, Error: "panic: boom"},
				{ID: "fails", Status: StatusError, Error: "target went away", Findings: 1},
				{ID: "not.here", Status: StatusSkipped, Reason: "needs two identities"},
				{ID: "write.thing", Status: StatusSkipped, Reason: "needs --active"},
			},
			wantFindings: []string{"fails", "ok.one"},
		},
		{
			name:   "active",
			active: true,
			want: []scan.CheckResult{
				{ID: "ok.one", Status: StatusOK, Findings: 1},
				{ID: "panics", Status: StatusError, Error: "panic: boom"},
				{ID: "fails", Status: StatusError, Error: "target went away", Findings: 1},
				{ID: "not.here", Status: StatusSkipped, Reason: "needs two identities"},
				{ID: "write.thing", Status: StatusOK, Findings: 1},
			},
			wantFindings: []string{"fails", "ok.one", "write.thing"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := testTarget(t)
			tg.Active = tt.active
			var mu sync.Mutex
			var done []string
			fs, res := RunChecks(context.Background(), tg, checks, nil, RunOptions{
				Parallel: 2,
				OnDone: func(r scan.CheckResult) {
					mu.Lock()
					done = append(done, r.ID)
					mu.Unlock()
				},
			})
			if !reflect.DeepEqual(res, tt.want) {
				t.Errorf("results = %+v, want %+v", res, tt.want)
			}
			var ids []string
			for _, f := range fs {
				ids = append(ids, f.CheckID)
			}
			if !slices.Equal(ids, tt.wantFindings) {
				t.Errorf("finding check IDs = %v, want %v", ids, tt.wantFindings)
			}
			slices.Sort(done)
			if want := []string{"fails", "not.here", "ok.one", "panics", "write.thing"}; !slices.Equal(done, want) {
				t.Errorf("OnDone saw %v, want %v", done, want)
			}
		})
	}
}

func TestRunChecksCancellation(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	started := make(chan struct{})
	var laterRan atomic.Bool
	checks := []scan.Check{
		check("slow", func(ctx context.Context, _ *scan.Target, _ scan.Requester) ([]scan.Finding, error) {
			close(started)
			<-ctx.Done()
			return []scan.Finding{{Location: "found-before-cancel"}}, ctx.Err()
		}),
		check("later.one", func(context.Context, *scan.Target, scan.Requester) ([]scan.Finding, error) {
			laterRan.Store(true)
			return nil, nil
		}),
		check("later.two", func(context.Context, *scan.Target, scan.Requester) ([]scan.Finding, error) {
			laterRan.Store(true)
			return nil, nil
		}),
	}
	go func() {
		<-started
		cancel()
	}()
	fs, res := RunChecks(ctx, testTarget(t), checks, nil, RunOptions{Parallel: 1})
	if laterRan.Load() {
		t.Error("a check queued behind the cancellation ran")
	}
	want := []string{StatusCancelled, StatusCancelled, StatusCancelled}
	var got []string
	for _, r := range res {
		got = append(got, r.Status)
	}
	if !slices.Equal(got, want) {
		t.Errorf("statuses = %v, want %v (%+v)", got, want, res)
	}
	if len(fs) != 1 || fs[0].Location != "found-before-cancel" {
		t.Errorf("findings = %+v, want the one found before cancel", fs)
	}
}

func TestRunChecksParallelBound(t *testing.T) {
	var running, most atomic.Int64
	gate := make(chan struct{})
	var checks []scan.Check
	for i := range 12 {
		checks = append(checks, check("c"+string(rune('a'+i)), func(context.Context, *scan.Target, scan.Requester) ([]scan.Finding, error) {
			n := running.Add(1)
			defer running.Add(-1)
			for {
				m := most.Load()
				if n <= m || most.CompareAndSwap(m, n) {
					break
				}
			}
			<-gate
			return nil, nil
		}))
	}
	go func() {
		// Hold the gate until three checks run, then give any check the
		// bound failed to hold back time to start too. A slow machine can
		// only make this pass late, never fail wrongly.
		defer close(gate)
		for deadline := time.Now().Add(5 * time.Second); running.Load() < 3 && time.Now().Before(deadline); {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(20 * time.Millisecond)
	}()
	_, res := RunChecks(context.Background(), testTarget(t), checks, nil, RunOptions{Parallel: 3})
	if m := most.Load(); m < 3 {
		t.Errorf("at most %d checks ran at once, want 3", m)
	}
	if m := most.Load(); m > 3 {
		t.Errorf("%d checks ran at once, want at most 3", m)
	}
	for _, r := range res {
		if r.Status != StatusOK {
			t.Errorf("result %+v, want ok", r)
		}
	}
}

func TestRunChecksFillDedupeSort(t *testing.T) {
	a := check("authz.bola", returns(
		scan.Finding{Severity: scan.Medium, Confidence: scan.Likely, Operation: "GET /users/{id}", Location: "id"},
		scan.Finding{Severity: scan.High, Confidence: scan.Possible, Operation: "GET /users/{id}", Location: "id",
			Evidence: []scan.Evidence{{Note: "kept"}}},
		scan.Finding{Severity: scan.High, Confidence: scan.Confirmed, Operation: "GET /orders/{id}", Location: "id"},
	))
	b := check("misconfig.cors", returns(
		scan.Finding{Severity: scan.Low, Confidence: scan.Confirmed},
		scan.Finding{Severity: scan.High, Confidence: scan.Possible, Operation: "GET /a", CheckID: "custom.id",
			Category: scan.API1BOLA, CWE: 639, Fingerprint: "given"},
	))
	fs, res := RunChecks(context.Background(), testTarget(t), []scan.Check{a, b}, nil, RunOptions{})
	if res[0].Findings != 3 || res[1].Findings != 2 {
		t.Errorf("result finding counts = %d, %d; want 3, 2", res[0].Findings, res[1].Findings)
	}

	type key struct {
		check, op string
		sev       scan.Severity
		conf      scan.Confidence
	}
	var got []key
	for _, f := range fs {
		got = append(got, key{f.CheckID, f.Operation, f.Severity, f.Confidence})
	}
	want := []key{
		{"authz.bola", "GET /orders/{id}", scan.High, scan.Confirmed},
		{"authz.bola", "GET /users/{id}", scan.High, scan.Possible},
		{"custom.id", "GET /a", scan.High, scan.Possible},
		{"misconfig.cors", "", scan.Low, scan.Confirmed},
	}
	if !slices.Equal(got, want) {
		t.Fatalf("findings = %+v, want %+v", got, want)
	}

	users := fs[1]
	if wantFP := scan.Fingerprint("authz.bola", "http://api.test:80", "GET /users/{id}", "id"); users.Fingerprint != wantFP {
		t.Errorf("fingerprint = %q, want %q", users.Fingerprint, wantFP)
	}
	if users.Category != scan.API8Misconfiguration || users.CWE != 16 || users.Title != "authz.bola title" {
		t.Errorf("filled finding = %+v, want category, CWE and title from Meta", users)
	}
	if len(users.Evidence) != 1 || users.Evidence[0].Note != "kept" {
		t.Errorf("merged evidence = %+v, want the high-severity one's", users.Evidence)
	}
	if custom := fs[2]; custom.Fingerprint != "given" || custom.Category != scan.API1BOLA || custom.CWE != 639 {
		t.Errorf("finding with its own identity = %+v, want it untouched", custom)
	}
}

func TestOrigin(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://API.test/v1", "http://api.test:80"},
		{"https://api.test", "https://api.test:443"},
		{"http://127.0.0.1:8080/x", "http://127.0.0.1:8080"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		if got := Origin(u); got != tt.want {
			t.Errorf("Origin(%s) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := Origin(nil); got != "" {
		t.Errorf("Origin(nil) = %q, want empty", got)
	}
}

// TestRunChecksThroughClient runs a check through a real Client, as a scan
// does, to show the method policy holds for checks.
func TestRunChecksThroughClient(t *testing.T) {
	srv := newCounter(t, ok)
	c := newClient(t, srv.URL, Config{})
	var writeErr error
	chk := check("probe", func(ctx context.Context, _ *scan.Target, h scan.Requester) ([]scan.Finding, error) {
		if _, err := h.Do(ctx, &scan.Request{Path: "/"}); err != nil {
			return nil, err
		}
		_, writeErr = h.Do(ctx, &scan.Request{Method: http.MethodDelete, Path: "/"})
		return nil, nil
	})
	_, res := RunChecks(context.Background(), testTarget(t), []scan.Check{chk}, c, RunOptions{})
	if res[0].Status != StatusOK {
		t.Errorf("result = %+v, want ok", res[0])
	}
	if !errors.Is(writeErr, scan.ErrWriteNotAllowed) || srv.hits.Load() != 1 {
		t.Errorf("DELETE error = %v with %d hits, want refused and 1 hit", writeErr, srv.hits.Load())
	}
}
