package servecmd

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/cli/cmdutil"
	"github.com/merlonsec/merlon/internal/jobs"
	"github.com/merlonsec/merlon/internal/store"
)

func TestFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want Options
	}{
		{"defaults", nil, Options{Addr: "127.0.0.1:8080", Workers: 2, JobTimeout: 35 * time.Minute, StopGrace: 30 * time.Second}},
		{"all", []string{"--addr", ":9000", "--db", "postgres://h/db", "--workers", "0", "--allow-private-targets", "--rescue-after", "1h", "--stop-grace", "5s"},
			Options{Addr: ":9000", DB: "postgres://h/db", Workers: 0, AllowPrivateTargets: true, JobTimeout: 35 * time.Minute, RescueAfter: time.Hour, StopGrace: 5 * time.Second}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *Options
			cmd := NewCmd(cmdutil.NewIO(nil, &bytes.Buffer{}, &bytes.Buffer{}), func(_ context.Context, o *Options) error { got = o; return nil })
			cmd.SetArgs(tt.args)
			if err := cmd.Execute(); err != nil {
				t.Fatal(err)
			}
			g := *got
			g.IO, g.Getenv = nil, nil
			if g.Addr != tt.want.Addr || g.DB != tt.want.DB || g.Workers != tt.want.Workers || g.AllowPrivateTargets != tt.want.AllowPrivateTargets ||
				g.JobTimeout != tt.want.JobTimeout || g.RescueAfter != tt.want.RescueAfter || g.StopGrace != tt.want.StopGrace {
				t.Errorf("serve %v = %+v, want %+v", tt.args, *got, tt.want)
			}
		})
	}
}

func TestRunRefusesWorkersZeroOnSQLite(t *testing.T) {
	o := &Options{IO: cmdutil.NewIO(nil, &bytes.Buffer{}, &bytes.Buffer{}), DB: filepath.Join(t.TempDir(), "m.db")}
	err := Run(context.Background(), o)
	var ue *cmdutil.UsageError
	if !errors.As(err, &ue) {
		t.Errorf("Run(--workers 0, sqlite) = %v, want a usage error", err)
	}
}

// TestRunServes starts the real server on SQLite and checks that it
// answers, then that cancelling stops it cleanly.
func TestRunServes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	home := t.TempDir()
	o := &Options{
		IO: cmdutil.NewIO(nil, &bytes.Buffer{}, &errOut), Workers: 1, JobTimeout: time.Minute, Listener: ln,
		Getenv: func(k string) string {
			if k == "HOME" {
				return home
			}
			return ""
		},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, o) }()
	url := "http://" + ln.Addr().String() + "/api/openapi.json"
	var resp *http.Response
	for i := 0; ; i++ {
		resp, err = http.Get(url)
		if err == nil {
			break
		}
		if i > 100 {
			cancel()
			t.Fatalf("GET %s: %v (%s)", url, err, <-done)
		}
		time.Sleep(50 * time.Millisecond)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /api/openapi.json = %d, want 200", resp.StatusCode)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run after cancel = %v, want nil", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if db := filepath.Join(home, ".local", "share", "merlon", "merlon.db"); !strings.Contains(errOut.String(), db) {
		t.Errorf("stderr = %q, want the default database path %s", errOut.String(), db)
	}
}

// TestRunStopsMidScan stops the server while a scan of a slow target is
// running: Run must return nil once the grace period is over, not an
// error, and the scan must be back to queued for the next start.
func TestRunStopsMidScan(t *testing.T) {
	var hits atomic.Int64
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		select {
		case <-time.After(500 * time.Millisecond):
		case <-r.Context().Done():
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{}`))
	}))
	defer slow.Close()
	db := filepath.Join(t.TempDir(), "merlon.db")

	// Queue the scan the way the API does, through an insert-only runner
	// on the same file.
	ctx := context.Background()
	enq, err := jobs.Open(ctx, db, jobs.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer enq.Close()
	st := enq.Store()
	tg := &store.Target{Name: "slow", URL: slow.URL}
	if err := st.CreateTarget(ctx, tg); err != nil {
		t.Fatal(err)
	}
	s := &store.Scan{TargetID: tg.ID, RequestedBy: "test", Options: []byte(`{"profile":"quick"}`)}
	if err := st.CreateScan(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := enq.EnqueueScan(ctx, s.ID); err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	o := &Options{
		IO: cmdutil.NewIO(nil, &bytes.Buffer{}, &errOut), DB: db, Workers: 1, JobTimeout: time.Minute,
		StopGrace: time.Second, AllowPrivateTargets: true, Listener: ln,
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- Run(runCtx, o) }()

	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := st.GetScan(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == store.StatusRunning && hits.Load() > 0 {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			runErr := <-done
			t.Fatalf("scan = %s (%q) after 30 s, want running; Run returned %v; stderr:\n%s", got.Status, got.Message, runErr, errOut.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	began := time.Now()
	cancel() // what SIGTERM does through signal.NotifyContext
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Run stopped mid-scan = %v, want nil", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return 30 s after the stop")
	}
	if took := time.Since(began); took > 15*time.Second {
		t.Errorf("stop took %s, want about the 1 s grace period", took)
	}
	got, err := st.GetScan(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusQueued {
		t.Errorf("scan after stop = %s (%q), want queued again", got.Status, got.Message)
	}
}
