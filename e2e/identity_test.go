package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

const (
	e2ePassword = "e2e-password-4711"
	e2eToken    = "e2e-issued-token-0815"
	e2eStatic   = "e2e-static-token-1234"
)

// authedAPI serves a public spec and items that need a bearer token: the
// static e2eStatic or e2eToken, issued by POST /auth/login for the right
// password. It counts logins.
func authedAPI(t *testing.T) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var logins atomic.Int64
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		writeClean(w, 200, `{"openapi":"3.0.3","info":{"title":"authed","version":"1"},
		  "components":{"securitySchemes":{"bearer":{"type":"http","scheme":"bearer"}}},"security":[{"bearer":[]}],
		  "paths":{"/items":{"get":{"responses":{"200":{"description":"ok"},"401":{"description":"no"}}}}}}`)
	})
	mux.HandleFunc("POST /auth/login", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Username, Password string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Password != e2ePassword {
			writeClean(w, 401, `{"error":"bad credentials"}`)
			return
		}
		logins.Add(1)
		writeClean(w, 200, fmt.Sprintf(`{"auth":{"access_token":%q}}`, e2eToken))
	})
	mux.HandleFunc("GET /items", func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "Bearer " + e2eToken, "Bearer " + e2eStatic:
			writeClean(w, 200, `[{"id":1,"name":"one"}]`)
		default:
			w.Header().Set("WWW-Authenticate", "Bearer")
			writeClean(w, 401, `{"error":"unauthorized"}`)
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeClean(w, 404, `{"error":"not found"}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &logins
}

// runEnv runs the binary with extra environment variables.
func runEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, merlonBin, args...)
	cmd.Env = append(os.Environ(), env...)
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

func TestIdentityWrongTokenExits2(t *testing.T) {
	srv, _ := authedAPI(t)
	r := run(t, "scan", srv.URL, "--profile", "quick", "--identity", "alice:user:Authorization: Bearer wrong-token-999")
	if r.code != 2 {
		t.Fatalf("exit code = %d, want 2 (bad credentials are bad input)\nstderr: %s", r.code, r.stderr)
	}
	for _, want := range []string{`identity "alice" (role user) is not accepted`, "401"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
		}
	}
	if strings.Contains(r.stderr+r.stdout, "wrong-token-999") {
		t.Errorf("output shows the token:\n%s%s", r.stdout, r.stderr)
	}
	if r.stdout != "" {
		t.Errorf("a refused identity still produced a report:\n%s", r.stdout)
	}
}

func TestIdentityStaticTokenWorks(t *testing.T) {
	srv, _ := authedAPI(t)
	r := run(t, "scan", srv.URL, "--profile", "quick", "--format", "json", "--identity", "alice:user:Authorization: Bearer "+e2eStatic)
	if r.code != 0 {
		t.Fatalf("exit code = %d, want 0\nstderr: %s", r.code, r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, e2eStatic) {
		t.Errorf("output shows the static token")
	}
}

func TestIdentityLoginFlow(t *testing.T) {
	srv, logins := authedAPI(t)
	cfg := filepath.Join(t.TempDir(), "merlon.yaml")
	yaml := fmt.Sprintf(`target: %s
profile: quick
identities:
  - name: admin
    role: admin
    login:
      path: /auth/login
      body:
        username: root
        password: ${MERLON_E2E_PASSWORD}
      token:
        json: $.auth.access_token
    check:
      path: /items
`, srv.URL)
	if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "report.json")
	r := runEnv(t, []string{"MERLON_E2E_PASSWORD=" + e2ePassword}, "scan", "--config", cfg, "--format", "json", "-o", out)
	if r.code != 0 {
		t.Fatalf("exit code = %d, want 0\nstderr: %s", r.code, r.stderr)
	}
	if logins.Load() < 1 {
		t.Errorf("the API saw no login")
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Coverage struct{ Succeeded int } `json:"coverage"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}
	if rep.Coverage.Succeeded < 1 {
		t.Errorf("coverage succeeded = %d, want /items reached with the issued token", rep.Coverage.Succeeded)
	}
	for _, secret := range []string{e2ePassword, e2eToken} {
		if strings.Contains(string(data)+r.stderr, secret) {
			t.Errorf("report or stderr contains %q", secret)
		}
	}

	// The same config with the wrong password stops with exit 2.
	r = runEnv(t, []string{"MERLON_E2E_PASSWORD=not-it"}, "scan", "--config", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, `identity "admin" (role admin): login failed`) {
		t.Errorf("wrong password: exit %d, stderr %q; want 2 and a login failure naming admin", r.code, r.stderr)
	}

	// And with the variable unset, the error names it.
	r = runEnv(t, []string{"MERLON_E2E_PASSWORD_UNUSED=1"}, "scan", "--config", cfg)
	if r.code != 2 || !strings.Contains(r.stderr, "MERLON_E2E_PASSWORD") {
		t.Errorf("unset variable: exit %d, stderr %q; want 2 naming MERLON_E2E_PASSWORD", r.code, r.stderr)
	}
}

// publicRootAPI answers its root to anybody and /items only to the static
// token: the root proves nothing about credentials. With open set, /items
// answers anybody too.
func publicRootAPI(t *testing.T, open bool) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		writeClean(w, 200, `{"openapi":"3.0.3","info":{"title":"public root","version":"1"},
		  "paths":{"/items":{"get":{"responses":{"200":{"description":"ok"}}}}}}`)
	})
	mux.HandleFunc("GET /items", func(w http.ResponseWriter, r *http.Request) {
		if !open && r.Header.Get("Authorization") != "Bearer "+e2eStatic {
			writeClean(w, 401, `{"error":"unauthorized"}`)
			return
		}
		writeClean(w, 200, `[{"id":1,"name":"one"}]`)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		writeClean(w, 200, `{"service":"items","docs":"/openapi.json"}`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeClean(w, 404, `{"error":"not found"}`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// A public root must not vouch for a wrong token: the scan stops with
// exit 2 instead of grading what an anonymous caller sees.
func TestIdentityPublicRootWrongToken(t *testing.T) {
	srv := publicRootAPI(t, false)
	r := run(t, "scan", srv.URL, "--profile", "quick", "--fail-on", "high",
		"--identity", "alice:user:Authorization: Bearer WRONG-token-4242")
	if r.code != 2 {
		t.Fatalf("exit code = %d, want 2\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
	}
	want := `identity "alice" (role user) is not accepted: GET ` + srv.URL + `/items answered 401 Unauthorized; check its credentials`
	if !strings.Contains(r.stderr, want) {
		t.Errorf("stderr = %q, want it to contain %q", r.stderr, want)
	}
	if strings.Contains(r.stderr, "WRONG-token-4242") {
		t.Errorf("stderr shows the token: %s", r.stderr)
	}

	r = run(t, "scan", srv.URL, "--profile", "quick", "--identity", "alice:user:Authorization: Bearer "+e2eStatic)
	if r.code != 0 {
		t.Errorf("right token: exit code = %d, want 0\nstderr: %s", r.code, r.stderr)
	}
}

// When nothing refuses anonymous callers, the identity cannot be proven:
// the report says so, naming it.
func TestIdentityUnverifiableWarns(t *testing.T) {
	srv := publicRootAPI(t, true)
	r := run(t, "scan", srv.URL, "--profile", "quick", "--format", "json",
		"--identity", "alice:user:Authorization: Bearer anything-at-all")
	if r.code != 0 {
		t.Fatalf("exit code = %d, want 0\nstderr: %s", r.code, r.stderr)
	}
	var rep struct {
		Warnings []string `json:"warnings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("report is not JSON: %v", err)
	}
	want := `identity "alice" (role user) could not be verified: no operation tried refuses anonymous callers (GET /items answered 200)`
	if !strings.Contains(strings.Join(rep.Warnings, "\n"), want) {
		t.Errorf("warnings = %q, want one containing %q", rep.Warnings, want)
	}
}
