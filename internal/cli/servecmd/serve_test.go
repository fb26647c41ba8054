package servecmd

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/cli/cmdutil"
)

func TestFlags(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want Options
	}{
		{"defaults", nil, Options{Addr: "127.0.0.1:8080", Workers: 2, JobTimeout: 35 * time.Minute}},
		{"all", []string{"--addr", ":9000", "--db", "postgres://h/db", "--workers", "0", "--allow-private-targets", "--rescue-after", "1h"},
			Options{Addr: ":9000", DB: "postgres://h/db", Workers: 0, AllowPrivateTargets: true, JobTimeout: 35 * time.Minute, RescueAfter: time.Hour}},
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
				g.JobTimeout != tt.want.JobTimeout || g.RescueAfter != tt.want.RescueAfter {
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
