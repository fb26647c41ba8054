// Package expressusers starts Merlon's Express multi-user testbed for tests:
// an order API in Node.js with JWT login, seeded users of two roles, and
// the authentication, BOLA, BFLA and input-validation weaknesses described
// in testbed/express-users/README.md, or none of them in the fixed twin.
//
// Each Start runs its own process with freshly seeded data, so tests never
// share state and may run in parallel. The process lives in its own process
// group and is killed when the test ends, or when the test binary dies.
package expressusers

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/merlonsec/merlon/testbed/internal/proc"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// WeakSecret is the HMAC key the vulnerable variants sign and verify JWTs
// with; it is on every JWT secret wordlist.
const WeakSecret = "secret"

// readyTimeout bounds how long Start waits for the app to serve.
const readyTimeout = 20 * time.Second

// Variants returns the names MERLON_VARIANT accepts, in a stable order.
func Variants() []string {
	return []string{"vulnerable", "unverified", "fixed"}
}

// User is a seeded account. IDs are stable: alice 1, bob 2, admin 3.
type User struct {
	ID       int
	Name     string
	Password string
	Role     string
}

// Users returns the accounts every start is seeded with.
func Users() []User {
	return []User{
		{ID: 1, Name: "alice", Password: "alice-pw", Role: "user"},
		{ID: 2, Name: "bob", Password: "bob-pw", Role: "user"},
		{ID: 3, Name: "admin", Password: "admin-pw", Role: "admin"},
	}
}

// Dir returns the absolute path of testbed/express-users. It is found from
// this source file, so that tests in any package, run from any directory,
// reach the same testbed.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("testbed", "express-users")
	}
	return filepath.Join(filepath.Dir(file), "..", "express-users")
}

// available caches Available.
var available = sync.OnceValue(func() error {
	var missing []string
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node (Debian nodejs)")
	}
	for _, pkg := range []string{"express", "jsonwebtoken"} {
		if _, err := os.Stat(filepath.Join(Dir(), "node_modules", pkg, "package.json")); err != nil {
			missing = append(missing, pkg+" in "+filepath.Join(Dir(), "node_modules")+" (npm ci)")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("express-users testbed unavailable: missing %s; run make deps (testbed/express-users/install.sh)",
			strings.Join(missing, ", "))
	}
	return nil
})

// Available reports whether the testbed can start on this machine: nil when
// node is on PATH and the npm packages are installed, otherwise an error
// naming what is missing.
func Available() error {
	return available()
}

// App is one running variant of the testbed.
type App struct {
	// URL is the app's base URL, http://127.0.0.1:port, without a slash.
	URL string
	// Variant is the MERLON_VARIANT the app runs.
	Variant string
	// JWTSecret is the HMAC key the app signs tokens with: WeakSecret in
	// the vulnerable variants, a random 64-character key in fixed. Tests
	// use it to forge tokens the app would otherwise accept (an expired
	// one, say) and prove that it refuses them.
	JWTSecret string
}

// Start runs the given variant on a free 127.0.0.1 port, waits until it
// answers GET /health, and stops it when t ends. When the testbed is not
// installed, Start skips t, or fails it if the environment sets CI or
// MERLON_REQUIRE_TESTBED.
func Start(t testing.TB, variant string) *App {
	t.Helper()
	proc.Require(t, Available())
	// A free port can be taken between choosing it and binding it, so a
	// start whose process died early is tried again on a new port.
	var err error
	for range 3 {
		var app *App
		var p *proc.Process
		app, p, err = start(variant)
		if err == nil {
			t.Cleanup(p.Stop)
			return app
		}
		if !errors.Is(err, proc.ErrExited) {
			break
		}
	}
	t.Fatalf("start express-users testbed %q: %v", variant, err)
	return nil
}

// start launches the app. On error, it is already stopped and the error
// carries its output.
func start(variant string) (*App, *proc.Process, error) {
	port, err := proc.FreePort()
	if err != nil {
		return nil, nil, err
	}
	secret := WeakSecret
	if variant == "fixed" {
		b := make([]byte, 32)
		_, _ = rand.Read(b) // never fails, by its documentation
		secret = hex.EncodeToString(b)
	}
	cmd := exec.Command("node", "app.js")
	cmd.Dir = Dir()
	cmd.Env = append(os.Environ(),
		"MERLON_VARIANT="+variant,
		"PORT="+strconv.Itoa(port),
		"JWT_SECRET="+secret,
	)
	p, err := proc.Launch("express app", cmd)
	if err != nil {
		return nil, nil, err
	}
	app := &App{URL: "http://127.0.0.1:" + strconv.Itoa(port), Variant: variant, JWTSecret: secret}
	err = proc.WaitFor(p, time.Now().Add(readyTimeout), proc.HTTPOK(app.URL+"/health"))
	if err != nil {
		p.Stop()
		return nil, nil, fmt.Errorf("express app on %s: %w\n--- output ---\n%s", app.URL, err, p.Output())
	}
	return app, p, nil
}

// Login signs in through POST /login and returns the access token. Any
// answer but 200 with a token fails t.
func (a *App) Login(t testing.TB, user, pass string) string {
	t.Helper()
	body, err := json.Marshal(map[string]string{"username": user, "password": pass})
	if err != nil {
		t.Fatal(err)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Post(a.URL+"/login", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("login %q: %v", user, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("login %q: read body: %v", user, err)
	}
	var out struct {
		AccessToken string `json:"access_token"`
	}
	if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &out) != nil || out.AccessToken == "" {
		t.Fatalf("login %q = %d %s, want 200 with an access_token", user, resp.StatusCode, raw)
	}
	return out.AccessToken
}
