package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/testbed/coverage"
)

// scanEnv runs a JSON scan with extra environment variables (SSL_CERT_FILE
// for the clean TLS twin) and returns the report.
func scanEnv(t *testing.T, env []string, args ...string) scan.Report {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, merlonBin, append([]string{"scan", "--format", "json"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			t.Fatalf("merlon scan %v: %v\nstderr: %s", args, err, errOut.String())
		}
	}
	var rep scan.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("report is not JSON: %v\n%s", err, out.String())
	}
	return rep
}

func TestTransportVulnerable(t *testing.T) {
	cfg, err := coverage.TransportVulnerableTLS()
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(coverage.TransportVulnerable())
	srv.TLS = cfg
	srv.StartTLS()
	defer srv.Close()
	port80.Lock() // the redirect check asks 127.0.0.1:80
	defer port80.Unlock()
	rep := scanEnv(t, nil, srv.URL, "--checks", "transport,misconfig.security-headers", "--insecure")
	got := strings.Join(keys(rep), "\n") + "\n"
	for _, want := range []string{
		"transport.tls  TLS 1.0",
		"transport.tls  TLS 1.1",
		"transport.tls  cipher suites",
		"transport.certificate  expiring",
		"transport.certificate  hostname",
		"transport.certificate  trust",
		"transport.cookie-secure  session_id",
		"transport.cookie-httponly  session_id",
		"transport.cookie-samesite  session_id",
		"transport.mixed-content  ",
		"misconfig.security-headers  Strict-Transport-Security", // max-age of five minutes
	} {
		if !strings.Contains(got, want+"\n") {
			t.Errorf("findings lack %q; have\n%s", want, got)
		}
	}
}

func TestTransportClean(t *testing.T) {
	cfg, caPEM, err := coverage.TransportCleanTLS()
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(coverage.TransportClean())
	srv.TLS = cfg
	srv.StartTLS()
	defer srv.Close()
	port80.Lock() // the redirect check asks 127.0.0.1:80, which must be closed
	defer port80.Unlock()
	// No --insecure: the clean twin's CA is trusted through SSL_CERT_FILE,
	// as a private CA would be in real use.
	rep := scanEnv(t, []string{"SSL_CERT_FILE=" + ca}, srv.URL, "--checks", "transport,misconfig.security-headers")
	if len(rep.Findings) != 0 {
		t.Errorf("clean twin has findings:\n%s", strings.Join(keys(rep), "\n"))
	}
	for _, c := range rep.Checks {
		if c.Status != "ok" {
			t.Errorf("check %s ended %s (%s %s), want ok", c.ID, c.Status, c.Error, c.Reason)
		}
	}
}

// TestTransportPlainLoopback: on a plain-HTTP loopback target the
// https-only checks and the redirect check report themselves skipped,
// and the cookie checks that apply still judge cookies.
func TestTransportPlainLoopback(t *testing.T) {
	srv := httptest.NewServer(coverage.TransportVulnerable())
	defer srv.Close()
	rep := scanEnv(t, nil, srv.URL, "--checks", "transport")
	status := make(map[string]string)
	for _, c := range rep.Checks {
		status[c.ID] = c.Status
	}
	for id, want := range map[string]string{
		"transport.https-redirect":  "skipped",
		"transport.tls":             "skipped",
		"transport.certificate":     "skipped",
		"transport.cookie-secure":   "skipped",
		"transport.mixed-content":   "skipped",
		"transport.cookie-httponly": "ok",
	} {
		if status[id] != want {
			t.Errorf("%s status = %q, want %q", id, status[id], want)
		}
	}
	got := strings.Join(keys(rep), "\n")
	if got != "transport.cookie-httponly  session_id\ntransport.cookie-samesite  session_id" {
		t.Errorf("findings =\n%s\nwant the HttpOnly and SameSite findings only", got)
	}
}

// port80 serializes the tests that bind 127.0.0.1:80 or whose result
// depends on what listens there (an https:// scan of 127.0.0.1 asks
// port 80 for the HTTP-to-HTTPS redirect).
var port80 sync.Mutex

// servePort80 serves h on 127.0.0.1:80, the plain HTTP port the redirect
// check asks for an https:// target, until the test ends. It holds
// port80 meanwhile. Binding port 80 needs root (as the tests run here and
// in CI); without it the test is skipped locally and fails in CI.
func servePort80(t *testing.T, h http.Handler) {
	t.Helper()
	port80.Lock()
	ln, err := net.Listen("tcp", "127.0.0.1:80")
	if err != nil {
		port80.Unlock()
		if errors.Is(err, os.ErrPermission) && os.Getenv("CI") == "" && os.Getenv("MERLON_REQUIRE_TESTBED") == "" {
			t.Skipf("cannot bind 127.0.0.1:80 (%v): run as root, or set CI or MERLON_REQUIRE_TESTBED to make this a failure", err)
		}
		t.Fatalf("bind 127.0.0.1:80 for the plain HTTP twin: %v", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
		port80.Unlock()
	})
}

// TestTransportHTTPSRedirect scans an https:// twin on a random port
// whose host also listens on port 80: in clear text serving the API
// (vulnerable), or redirecting to HTTPS (clean).
func TestTransportHTTPSRedirect(t *testing.T) {
	cfg, caPEM, err := coverage.TransportCleanTLS()
	if err != nil {
		t.Fatal(err)
	}
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(coverage.TransportClean())
	srv.TLS = cfg
	srv.StartTLS()
	defer srv.Close()
	tests := []struct {
		name  string
		plain http.Handler
		want  string // the finding's key, "" for none
	}{
		{"vulnerable", coverage.PlainVulnerable(), "transport.https-redirect  http://127.0.0.1"},
		{"clean", coverage.PlainRedirect(srv.URL), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			servePort80(t, tt.plain)
			rep := scanEnv(t, []string{"SSL_CERT_FILE=" + ca}, srv.URL, "--checks", "transport.https-redirect")
			if got := strings.Join(keys(rep), "\n"); got != tt.want {
				t.Errorf("findings =\n%s\nwant\n%s", got, tt.want)
			}
			for _, c := range rep.Checks {
				if c.Status != "ok" {
					t.Errorf("check %s ended %s (%s %s), want ok", c.ID, c.Status, c.Error, c.Reason)
				}
			}
			if tt.want == "" {
				return
			}
			f := rep.Findings[0]
			if f.Confidence != scan.Confirmed || len(f.Evidence) != 1 {
				t.Fatalf("finding confidence %v with %d evidence, want confirmed with 1", f.Confidence, len(f.Evidence))
			}
			ev := f.Evidence[0]
			if ev.Request.URL != "http://127.0.0.1:80/" || ev.Response.Status != http.StatusOK || ev.Request.Identity != scan.Anonymous {
				t.Errorf("evidence = %s %d as %q, want http://127.0.0.1:80/ 200 as %q", ev.Request.URL, ev.Response.Status, ev.Request.Identity, scan.Anonymous)
			}
		})
	}
}
