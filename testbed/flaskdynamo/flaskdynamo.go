// Package flaskdynamo starts Merlon's Flask + DynamoDB testbed for tests: a
// real Flask app on boto3, backed by dynalite, an in-memory DynamoDB
// emulator, with one variant of a user API per start (see
// testbed/flask-dynamodb/README.md).
//
// Each Start runs its own emulator, so tests never share state and may run
// in parallel. The processes live in their own process groups and are
// killed when the test ends, or when the test binary dies.
package flaskdynamo

import (
	"encoding/json"
	"errors"
	"fmt"
	"github.com/merlonsec/merlon/testbed/internal/proc"
	"io"
	"net"
	"net/http"
	"net/url"
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

// Python is the interpreter the testbed runs on: Debian's, because Flask and
// boto3 come from Debian packages, not from whatever python3 is on PATH.
const Python = "/usr/bin/python3"

// readyTimeout bounds how long Start waits for both processes to serve.
const readyTimeout = 20 * time.Second

// Variants returns the names MERLON_VARIANT accepts, in a stable order.
func Variants() []string {
	return []string{"vulnerable", "fixed", "nested", "keychange", "echo", "storeall"}
}

// Dir returns the absolute path of testbed/flask-dynamodb. It is found from
// this source file, so that tests in any package, run from any directory,
// reach the same testbed.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("testbed", "flask-dynamodb")
	}
	return filepath.Join(filepath.Dir(file), "..", "flask-dynamodb")
}

// FixedRoutesPath returns the path of fixed_routes.py, the fixed variant's
// create and update handlers, which Merlon's remediation text quotes.
func FixedRoutesPath() string {
	return filepath.Join(Dir(), "fixed_routes.py")
}

func dynaliteBin() string {
	return filepath.Join(Dir(), "node_modules", ".bin", "dynalite")
}

// available caches Available: the check starts a Python interpreter.
var available = sync.OnceValue(func() error {
	var missing []string
	if err := exec.Command(Python, "-c", "import flask, boto3").Run(); err != nil {
		missing = append(missing, Python+" with flask and boto3 (Debian python3-flask, python3-boto3)")
	}
	if _, err := exec.LookPath("node"); err != nil {
		missing = append(missing, "node (Debian nodejs)")
	}
	if _, err := os.Stat(dynaliteBin()); err != nil {
		missing = append(missing, "dynalite in "+filepath.Join(Dir(), "node_modules")+" (npm ci)")
	}
	if len(missing) > 0 {
		return fmt.Errorf("flask-dynamodb testbed unavailable: missing %s; run make deps (testbed/flask-dynamodb/install.sh)",
			strings.Join(missing, ", "))
	}
	return nil
})

// Available reports whether the testbed can start on this machine: nil when
// /usr/bin/python3 imports flask and boto3, node is on PATH and dynalite is
// installed, otherwise an error naming what is missing.
func Available() error {
	return available()
}

// App is one running variant of the testbed.
type App struct {
	// URL is the app's base URL, http://127.0.0.1:port, without a slash.
	URL string
	// Variant is the MERLON_VARIANT the app runs.
	Variant string
	// DynamoEndpoint is the URL of the app's own dynalite, for tests that
	// want to look at the table without going through the app.
	DynamoEndpoint string
}

// Start runs a fresh emulator and the given variant of the app on free
// 127.0.0.1 ports, waits until the app serves /openapi.json, and stops both
// when t ends. When the testbed is not installed, Start skips t, or fails it
// if the environment sets CI or MERLON_REQUIRE_TESTBED.
func Start(t testing.TB, variant string) *App {
	t.Helper()
	return StartWith(t, variant, Options{})
}

// Options changes how StartWith runs the app.
type Options struct {
	// NoSpec runs the app with MERLON_NO_SPEC=1: it serves no
	// /openapi.json, and GET / answers JSON links to its collections, as
	// an API without a published spec does.
	NoSpec bool
}

// StartWith is Start with options. Readiness is GET /openapi.json, or GET /
// when opts.NoSpec is set.
func StartWith(t testing.TB, variant string, opts Options) *App {
	t.Helper()
	proc.Require(t, Available())
	// A free port can be taken between choosing it and binding it, so a
	// start whose process died early is tried again on new ports.
	var err error
	for range 3 {
		var app *App
		var procs []*proc.Process
		app, procs, err = start(variant, opts)
		if err == nil {
			t.Cleanup(func() {
				for _, p := range procs {
					p.Stop()
				}
			})
			return app
		}
		if !errors.Is(err, proc.ErrExited) {
			break
		}
	}
	t.Fatalf("start flask-dynamodb testbed %q: %v", variant, err)
	return nil
}

// start launches dynalite and the app. On error, both are already stopped
// and the error carries their output.
func start(variant string, opts Options) (app *App, procs []*proc.Process, err error) {
	deadline := time.Now().Add(readyTimeout)
	defer func() {
		if err != nil {
			for _, p := range procs {
				p.Stop()
				err = fmt.Errorf("%w\n--- %s output ---\n%s", err, p.Name, p.Output())
			}
		}
	}()

	dynPort, err := proc.FreePort()
	if err != nil {
		return nil, nil, err
	}
	dyn, err := proc.Launch("dynalite", exec.Command(dynaliteBin(),
		"--host", "127.0.0.1", "--port", strconv.Itoa(dynPort), "--createTableMs", "0"))
	if err != nil {
		return nil, nil, err
	}
	procs = append(procs, dyn)
	dynAddr := net.JoinHostPort("127.0.0.1", strconv.Itoa(dynPort))
	if err := proc.WaitFor(dyn, deadline, proc.Dialable(dynAddr)); err != nil {
		return nil, procs, fmt.Errorf("dynalite on %s: %w", dynAddr, err)
	}

	appPort, err := proc.FreePort()
	if err != nil {
		return nil, procs, err
	}
	cmd := exec.Command(Python, "-u", "app.py")
	cmd.Dir = Dir()
	cmd.Env = append(os.Environ(),
		"MERLON_VARIANT="+variant,
		"PORT="+strconv.Itoa(appPort),
		"DYNAMO_ENDPOINT=http://"+dynAddr,
		"PYTHONDONTWRITEBYTECODE=1",
	)
	ready := "/openapi.json"
	if opts.NoSpec {
		cmd.Env = append(cmd.Env, "MERLON_NO_SPEC=1")
		ready = "/"
	} else {
		// An inherited MERLON_NO_SPEC must not change what Start means.
		cmd.Env = append(cmd.Env, "MERLON_NO_SPEC=")
	}
	flask, err := proc.Launch("flask app", cmd)
	if err != nil {
		return nil, procs, err
	}
	procs = append(procs, flask)
	app = &App{
		URL:            "http://127.0.0.1:" + strconv.Itoa(appPort),
		Variant:        variant,
		DynamoEndpoint: "http://" + dynAddr,
	}
	if err := proc.WaitFor(flask, deadline, proc.HTTPOK(app.URL+ready)); err != nil {
		return nil, procs, fmt.Errorf("flask app on %s: %w", app.URL, err)
	}
	return app, procs, nil
}

// GetUser reads a user through the app's GET /users/{username}, the same
// read a client makes, and returns the stored item, or nil when the app
// answers 404. Any other answer fails t.
func (a *App) GetUser(t testing.TB, username string) map[string]any {
	t.Helper()
	resp, err := http.Get(a.URL + "/users/" + url.PathEscape(username))
	if err != nil {
		t.Fatalf("GET user %q: %v", username, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET user %q: read body: %v", username, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		return nil
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET user %q = %d %s, want 200 or 404", username, resp.StatusCode, body)
	}
	var user map[string]any
	if err := json.Unmarshal(body, &user); err != nil {
		t.Fatalf("GET user %q: decode %s: %v", username, body, err)
	}
	return user
}
