// Package e2e runs the built merlon binary against real HTTP servers on
// 127.0.0.1 and checks its output and every documented exit code.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/demo"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/store/pgtest"
)

var merlonBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "merlon-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	merlonBin = filepath.Join(dir, "merlon")
	build := exec.Command("go", "build", "-o", merlonBin, "../cmd/merlon")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build merlon:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	// pgtest.Main stops the PostgreSQL cluster distributed_test.go starts.
	code := pgtest.Main(m)
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code   int
	stdout string
	stderr string
}

// run runs the binary with args and a bounded time.
func run(t *testing.T, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, merlonBin, args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run merlon %v: %v", args, err)
	}
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// cleanAPI is a small JSON API with no weakness the passive checks look for.
func cleanAPI() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write([]byte(`{"openapi":"3.0.3","info":{"title":"clean","version":"1"},"paths":{
		  "/items":{"get":{"responses":{"200":{"description":"ok"}}}},
		  "/items/{id}":{"get":{"parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"integer"},"example":1}],"responses":{"200":{"description":"ok"}}}}}}`))
	})
	mux.HandleFunc("GET /items", func(w http.ResponseWriter, r *http.Request) {
		writeClean(w, 200, `[{"id":1,"name":"one"},{"id":2,"name":"two"}]`)
	})
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "1" && r.PathValue("id") != "2" {
			writeClean(w, 404, `{"error":"not found"}`)
			return
		}
		writeClean(w, 200, `{"id":1,"name":"one"}`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeClean(w, 404, `{"error":"not found"}`)
	})
	return mux
}

func writeClean(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write([]byte(body))
}

func TestScanDemoTextReport(t *testing.T) {
	srv := httptest.NewServer(demo.New().Handler())
	defer srv.Close()
	r := run(t, "scan", srv.URL)
	if r.code != 0 {
		t.Fatalf("exit code = %d, want 0 (no --fail-on)\nstderr: %s", r.code, r.stderr)
	}
	for _, want := range []string{"misconfig.cors", "exposure.error-disclosure", "misconfig.version-disclosure", "CWE-942", "API8:2023", "Coverage"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("text report lacks %q\n%s", want, r.stdout)
		}
	}
	if strings.Contains(r.stdout, "\x1b[") {
		t.Errorf("text report to a pipe contains ANSI colour codes")
	}
	if !strings.Contains(r.stderr, "grade") {
		t.Errorf("stderr lacks the closing summary line: %q", r.stderr)
	}
}

func TestScanJSONReportAndFailOn(t *testing.T) {
	srv := httptest.NewServer(demo.New().Handler())
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "report.json")
	r := run(t, "scan", srv.URL, "--format", "json", "-o", out, "--fail-on", "high")
	if r.code != 1 {
		t.Fatalf("exit code = %d, want 1 (CORS with credentials is high)\nstderr: %s", r.code, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing when -o is given", r.stdout)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep scan.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}
	if rep.SchemaVersion != scan.SchemaVersion {
		t.Errorf("schemaVersion = %q, want %q", rep.SchemaVersion, scan.SchemaVersion)
	}
	if rep.Spec == nil || !strings.HasSuffix(rep.Spec.Source, "/openapi.json") {
		t.Errorf("spec = %+v, want the discovered /openapi.json", rep.Spec)
	}
	if rep.Coverage.Operations < 5 || rep.Coverage.Reached == 0 || rep.Coverage.Succeeded == 0 {
		t.Errorf("coverage = %+v, want the demo's operations reached", rep.Coverage)
	}
	if rep.Score.Grade == "" || rep.Score.Grade == "A" || rep.Score.Grade == "N/A" {
		t.Errorf("grade = %q, want a low grade for the vulnerable demo", rep.Score.Grade)
	}
	seen := map[string]bool{}
	for _, f := range rep.Findings {
		seen[f.CheckID] = true
		if f.Fingerprint == "" || f.CWE == 0 || !f.Category.Valid() || f.Remediation == "" || len(f.Evidence) == 0 {
			t.Errorf("finding %s lacks a field: %+v", f.CheckID, f)
		}
		for _, ev := range f.Evidence {
			if ev.Request.Method != "GET" && ev.Request.Method != "HEAD" && ev.Request.Method != "OPTIONS" {
				t.Errorf("passive scan sent %s %s", ev.Request.Method, ev.Request.URL)
			}
		}
	}
	for _, id := range []string{"misconfig.cors", "exposure.error-disclosure", "misconfig.version-disclosure", "misconfig.security-headers"} {
		if !seen[id] {
			t.Errorf("no %s finding on the demo", id)
		}
	}
	// The flask fingerprint comes from the Server header and the traceback.
	if rep.Stack.Framework != "flask" {
		t.Errorf("stack = %+v, want framework flask", rep.Stack)
	}

	// Same target, second run: fingerprints are stable.
	out2 := filepath.Join(t.TempDir(), "report2.json")
	run(t, "scan", srv.URL, "--format", "json", "-o", out2)
	data2, _ := os.ReadFile(out2)
	var rep2 scan.Report
	if err := json.Unmarshal(data2, &rep2); err != nil {
		t.Fatal(err)
	}
	if fps(rep) != fps(rep2) {
		t.Errorf("fingerprints changed between runs:\n%s\n%s", fps(rep), fps(rep2))
	}
}

func fps(r scan.Report) string {
	var s []string
	for _, f := range r.Findings {
		s = append(s, f.Fingerprint)
	}
	return strings.Join(s, ",")
}

func TestScanCleanAPIExitsZero(t *testing.T) {
	srv := httptest.NewServer(cleanAPI())
	defer srv.Close()
	r := run(t, "scan", srv.URL, "--fail-on", "low", "--format", "json")
	if r.code != 0 {
		t.Fatalf("exit code = %d, want 0 on a clean API\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	var rep scan.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	for _, f := range rep.Findings {
		if f.Severity >= scan.Low {
			t.Errorf("clean API has finding %s (%s) at %s", f.CheckID, f.Severity, f.Operation)
		}
	}
	if rep.Score.Grade != "A" {
		t.Errorf("grade = %q, want A", rep.Score.Grade)
	}
}

func TestUsageAndRuntimeErrors(t *testing.T) {
	srv := httptest.NewServer(demo.New().Handler())
	defer srv.Close()
	dir := t.TempDir()
	badSpec := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badSpec, []byte("openapi: 3.0.0\ninfo: [unclosed\n"), 0o644)
	closed := closedPort(t)

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no args", []string{"scan"}, 2, "exactly one target URL"},
		{"invalid url", []string{"scan", "http://[::1"}, 2, "invalid target URL"},
		{"unsupported scheme", []string{"scan", "ftp://127.0.0.1/"}, 2, "unsupported scheme"},
		{"no scheme", []string{"scan", "127.0.0.1:8080"}, 2, "has no scheme; use http://127.0.0.1:8080"},
		{"unknown format", []string{"scan", srv.URL, "--format", "xml"}, 2, "unknown format"},
		{"unknown check", []string{"scan", srv.URL, "--checks", "nope.nothing"}, 2, "unknown check"},
		{"unknown flag", []string{"scan", srv.URL, "--frobnicate"}, 2, "unknown flag"},
		{"bad severity", []string{"scan", srv.URL, "--fail-on", "severe"}, 2, "unknown severity"},
		{"bad profile", []string{"scan", srv.URL, "--profile", "huge"}, 2, "unknown profile"},
		{"bad header", []string{"scan", srv.URL, "-H", "NoColonHere"}, 2, "invalid header"},
		{"missing spec", []string{"scan", srv.URL, "--spec", filepath.Join(dir, "nope.yaml")}, 2, "does not exist"},
		{"malformed spec", []string{"scan", srv.URL, "--spec", badSpec}, 2, "bad.yaml"},
		{"spec url 404", []string{"scan", srv.URL, "--spec", srv.URL + "/nope.json"}, 2, "404"},
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"unreachable host", []string{"scan", "http://" + closed}, 3, "cannot connect"},
		{"tls to plain http", []string{"scan", strings.Replace(srv.URL, "http://", "https://", 1)}, 3, "http://"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := run(t, tt.args...)
			if r.code != tt.code {
				t.Fatalf("merlon %v: exit code = %d, want %d\nstderr: %s", tt.args, r.code, tt.code, r.stderr)
			}
			if !strings.Contains(r.stderr, tt.want) {
				t.Errorf("stderr = %q, want it to mention %q", r.stderr, tt.want)
			}
			if strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic") {
				t.Errorf("stderr has a stack trace: %s", r.stderr)
			}
			if lines := strings.Split(strings.TrimSpace(r.stderr), "\n"); len(lines) != 1 || !strings.HasPrefix(lines[0], "merlon: ") {
				t.Errorf("stderr = %q, want one 'merlon: …' line", r.stderr)
			}
			if strings.Contains(r.stderr, "load spec: load spec") {
				t.Errorf("stderr = %q, want each prefix once", r.stderr)
			}
		})
	}
}

func TestTLSCertificateError(t *testing.T) {
	srv := httptest.NewTLSServer(cleanAPI())
	defer srv.Close()
	r := run(t, "scan", srv.URL, "--profile", "quick")
	if r.code != 3 || !strings.Contains(r.stderr, "--insecure") {
		t.Fatalf("exit %d, stderr %q; want 3 and a hint about --insecure", r.code, r.stderr)
	}
	r = run(t, "scan", srv.URL, "--profile", "quick", "--insecure")
	if r.code != 0 {
		t.Fatalf("with --insecure: exit %d, want 0\nstderr: %s", r.code, r.stderr)
	}
}

func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// TestInterrupt sends SIGINT mid-scan: merlon exits 130 and still prints
// the report of what it found so far.
func TestInterrupt(t *testing.T) {
	slow := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/" {
			select {
			case <-time.After(300 * time.Millisecond):
			case <-r.Context().Done():
				return
			}
		}
		w.Header().Set("Server", "nginx/1.18.0")
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"links":["/a","/b","/c","/d","/e","/f","/g","/h"]}`))
	})
	srv := httptest.NewServer(slow)
	defer srv.Close()
	cmd := exec.Command(merlonBin, "scan", srv.URL, "--format", "json", "--concurrency", "1")
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGINT)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("merlon did not stop within 30s of SIGINT")
	}
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit code = %d, want 130\nstderr: %s", code, errOut.String())
	}
	var rep scan.Report
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("no report after SIGINT: %v\nstdout: %s", err, out.String())
	}
	if !rep.Interrupted {
		t.Errorf("report not marked interrupted")
	}
}

func TestHelpAndVersion(t *testing.T) {
	r := run(t, "scan", "--help")
	if r.code != 0 || !strings.Contains(r.stdout, "--active") || !strings.Contains(r.stdout, "Exit codes") {
		t.Errorf("scan --help: exit %d, out %q", r.code, r.stdout)
	}
	r = run(t, "--version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "merlon ") {
		t.Errorf("--version: exit %d, out %q", r.code, r.stdout)
	}
	r = run(t, "checks")
	if r.code != 0 || !strings.Contains(r.stdout, "misconfig.cors") {
		t.Errorf("checks: exit %d, out %q", r.code, r.stdout)
	}
}

func TestDemo(t *testing.T) {
	r := run(t, "demo", "--passive")
	if r.code != 0 {
		t.Fatalf("demo: exit %d\nstderr: %s", r.code, r.stderr)
	}
	if !strings.Contains(r.stdout, "GRADE") && !strings.Contains(r.stdout, "Grade") {
		t.Errorf("demo output has no grade:\n%s", r.stdout)
	}
}

// answering serves cleanAPI's spec, and answers every other request with
// status: an API scanned at the wrong URL (404) or without its
// credentials (401).
func answering(status int) http.Handler {
	api := cleanAPI()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/openapi.json" {
			api.ServeHTTP(w, r)
			return
		}
		writeClean(w, status, `{"error":"no"}`)
	})
}

// TestScanThatProvesNothing: a scan that reaches the server but never sees
// an operation answer 2xx is not graded. The text report and the summary
// say why; with a gate it exits 3, never 0.
func TestScanThatProvesNothing(t *testing.T) {
	tests := []struct {
		name   string
		status int
		cause  string
	}{
		{"every path 404", http.StatusNotFound, "--base-url"},
		{"every path 401", http.StatusUnauthorized, "credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(answering(tt.status))
			defer srv.Close()
			r := run(t, "scan", srv.URL, "--profile", "quick")
			if r.code != 0 {
				t.Fatalf("exit code = %d, want 0 without a gate\nstderr: %s", r.code, r.stderr)
			}
			for _, want := range []string{"GRADE N/A", "WARNING: this scan proves nothing", "0 answered 2xx", tt.cause} {
				if !strings.Contains(r.stdout, want) {
					t.Errorf("text report lacks %q\n%s", want, r.stdout)
				}
			}
			if strings.Contains(r.stdout, "GRADE A") || !strings.Contains(r.stderr, "merlon: not graded") {
				t.Errorf("the scan reads as graded\nstdout: %s\nstderr: %s", r.stdout, r.stderr)
			}

			r = run(t, "scan", srv.URL, "--profile", "quick", "--fail-on", "high")
			if r.code != 3 || !strings.Contains(r.stderr, "the gate cannot decide: none of the 2 operations answered 2xx") {
				t.Errorf("with --fail-on: exit %d, stderr %q; want 3 and the reason", r.code, r.stderr)
			}
		})
	}
}

// TestBudgetCutScanIsPartial: a scan the request budget cuts short shows a
// partial grade in text and JSON; a gate does not pass it when nothing
// failing was found, and fails it on what was found.
func TestBudgetCutScanIsPartial(t *testing.T) {
	clean := httptest.NewServer(cleanAPI())
	defer clean.Close()
	r := run(t, "scan", clean.URL, "--max-requests", "25")
	if r.code != 0 {
		t.Fatalf("exit code = %d, want 0 without a gate\nstderr: %s", r.code, r.stderr)
	}
	for _, want := range []string{"GRADE A (partial)", "PARTIAL: the request budget ran out"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("text report lacks %q\n%s", want, r.stdout)
		}
	}
	if !strings.Contains(r.stderr, "merlon: grade A (partial") {
		t.Errorf("summary line does not say partial: %q", r.stderr)
	}

	r = run(t, "scan", clean.URL, "--max-requests", "25", "--format", "json", "--fail-on", "low")
	if r.code != 3 || !strings.Contains(r.stderr, "the gate cannot pass an unfinished scan") {
		t.Errorf("clean but partial, --fail-on low: exit %d, stderr %q; want 3", r.code, r.stderr)
	}
	var rep scan.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if !rep.Score.Partial || !rep.Coverage.BudgetExhausted {
		t.Errorf("JSON score.partial = %v, coverage.budgetExhausted = %v, want both true", rep.Score.Partial, rep.Coverage.BudgetExhausted)
	}

	// The demo's first answers already show a high CORS finding: it fails
	// the gate however little of the scan ran.
	demoSrv := httptest.NewServer(demo.New().Handler())
	defer demoSrv.Close()
	r = run(t, "scan", demoSrv.URL, "--max-requests", "60", "--format", "json", "--fail-on", "high")
	if r.code != 1 {
		t.Errorf("partial scan with a high finding, --fail-on high: exit %d, want 1\nstderr: %s", r.code, r.stderr)
	}
}

// TestActiveScanShowsEachWrite: with --active every state-changing request
// gets one line on stderr, with its status, as many as the API received;
// passive and quiet scans print none.
func TestActiveScanShowsEachWrite(t *testing.T) {
	var mu sync.Mutex
	writes := 0
	api := demo.New().Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
		default:
			mu.Lock()
			writes++
			mu.Unlock()
		}
		api.ServeHTTP(w, r)
	}))
	defer srv.Close()
	line := regexp.MustCompile(`(?m)^merlon: write [A-Z]+ ` + regexp.QuoteMeta(srv.URL) + `/\S* -> [1-5][0-9][0-9]$`)

	r := run(t, "scan", srv.URL, "--active", "--profile", "quick")
	if r.code != 0 {
		t.Fatalf("exit code = %d\nstderr: %s", r.code, r.stderr)
	}
	mu.Lock()
	sent := writes
	writes = 0
	mu.Unlock()
	if sent == 0 {
		t.Fatal("the active scan sent no write; the test proves nothing")
	}
	if got := len(line.FindAllString(r.stderr, -1)); got != sent {
		t.Errorf("stderr has %d write lines, the API received %d writes\nstderr: %s", got, sent, r.stderr)
	}

	for _, args := range [][]string{{"scan", srv.URL, "--profile", "quick"}, {"scan", srv.URL, "--active", "--profile", "quick", "-q"}} {
		r := run(t, args...)
		if strings.Contains(r.stderr, "merlon: write ") {
			t.Errorf("merlon %v printed write lines:\n%s", args, r.stderr)
		}
	}
}
