package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
	rep := scanEnv(t, nil, srv.URL, "--checks", "transport", "--insecure")
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
	// No --insecure: the clean twin's CA is trusted through SSL_CERT_FILE,
	// as a private CA would be in real use.
	rep := scanEnv(t, []string{"SSL_CERT_FILE=" + ca}, srv.URL, "--checks", "transport")
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
