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
	"io"
	"net"
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
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" || os.Getenv("MERLON_REQUIRE_TESTBED") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	// A free port can be taken between choosing it and binding it, so a
	// start whose process died early is tried again on a new port.
	var err error
	for range 3 {
		var app *App
		var p *process
		app, p, err = start(variant)
		if err == nil {
			t.Cleanup(p.stop)
			return app
		}
		if !errors.Is(err, errExited) {
			break
		}
	}
	t.Fatalf("start express-users testbed %q: %v", variant, err)
	return nil
}

var errExited = errors.New("process exited")

// start launches the app. On error, it is already stopped and the error
// carries its output.
func start(variant string) (*App, *process, error) {
	port, err := freePort()
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
	p, err := launch("express app", cmd)
	if err != nil {
		return nil, nil, err
	}
	app := &App{URL: "http://127.0.0.1:" + strconv.Itoa(port), Variant: variant, JWTSecret: secret}
	client := &http.Client{Timeout: 2 * time.Second}
	err = waitFor(p, time.Now().Add(readyTimeout), func() bool {
		resp, err := client.Get(app.URL + "/health")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode == http.StatusOK
	})
	if err != nil {
		p.stop()
		return nil, nil, fmt.Errorf("express app on %s: %w\n--- output ---\n%s", app.URL, err, p.out.String())
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

// waitFor polls ready until it holds, p exits or the deadline passes.
func waitFor(p *process, deadline time.Time, ready func() bool) error {
	for {
		if ready() {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%w: %v", errExited, p.waitErr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v", readyTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// process is one started child and what it wrote.
type process struct {
	name    string
	cmd     *exec.Cmd
	out     *tail
	done    chan struct{} // closed when the process has been waited for
	waitErr error         // set before done is closed
	once    sync.Once
}

func launch(name string, cmd *exec.Cmd) (*process, error) {
	p := &process{name: name, cmd: cmd, out: &tail{max: 64 << 10}, done: make(chan struct{})}
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	cmd.SysProcAttr = sysProcAttr()
	// Output pipes stay open while any child holds them; do not let Wait
	// hang on them once the process itself is gone.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// stop kills the process's whole group and waits for it.
func (p *process) stop() {
	p.once.Do(func() {
		killGroup(p.cmd)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
		}
	})
}

// tail keeps the last max bytes written to it, for failure messages.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (w *tail) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	if over := len(w.buf) - w.max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(b), nil
}

func (w *tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
