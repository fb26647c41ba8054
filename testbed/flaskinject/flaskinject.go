// Package flaskinject starts Merlon's injection testbed for tests: a real
// Flask app on SQLite, PostgreSQL, a Mongo-style in-memory store, a shell,
// Jinja2 and Mako, with one variant per start (see testbed/flask-injection/app.py).
//
// Processes live in their own process groups and are killed when the test
// ends, or when the test binary dies.
package flaskinject

import (
	"errors"
	"fmt"
	"github.com/merlonsec/merlon/internal/store/pgtest"
	"github.com/merlonsec/merlon/testbed/internal/proc"
	"net"
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

// Python is Debian's interpreter, where python3-flask, python3-mako and
// python3-psycopg2 live.
const Python = "/usr/bin/python3"

const readyTimeout = 30 * time.Second

// Variants returns the names MERLON_VARIANT accepts.
func Variants() []string { return []string{"vulnerable", "fixed", "jitter"} }

// Dir returns the absolute path of testbed/flask-injection.
func Dir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return filepath.Join("testbed", "flask-injection")
	}
	return filepath.Join(filepath.Dir(file), "..", "flask-injection")
}

var available = sync.OnceValue(func() error {
	if err := exec.Command(Python, "-c", "import flask, mako, psycopg2").Run(); err != nil {
		return fmt.Errorf("flask-injection testbed unavailable: %s lacks flask, mako or psycopg2; run testbed/flask-injection/install.sh", Python)
	}
	return nil
})

// pgBin finds the newest installed PostgreSQL's server programs, as the
// store's tests do.
var pgBin = sync.OnceValues(pgtest.BinDir)

var pgAvailable = sync.OnceValue(func() error {
	if _, err := pgBin(); err != nil {
		return fmt.Errorf("%w; run testbed/flask-injection/install.sh", err)
	}
	return nil
})

// Options changes what Start runs.
type Options struct {
	// Postgres starts a throwaway PostgreSQL cluster (or uses the one
	// MERLON_TEST_POSTGRES names, a libpq URL) and gives the app its
	// DATABASE_URL, which turns on the /pg endpoints. The cluster is the
	// harness's own rather than internal/store/pgtest's shared one, which
	// only a TestMain calling pgtest.Main stops: the processes started
	// here die with the test binary, whatever its TestMain.
	Postgres bool
}

// App is one running variant.
type App struct {
	URL     string // http://127.0.0.1:port, without a slash
	Variant string
	// DatabaseURL is the app's PostgreSQL URL, "" without Options.Postgres.
	DatabaseURL string
}

// Start runs the variant on a free 127.0.0.1 port and waits for its
// /openapi.json. When the testbed is not installed, it skips t, or fails
// it when CI or MERLON_REQUIRE_TESTBED is set.
func Start(t testing.TB, variant string, opts Options) *App {
	t.Helper()
	proc.Require(t, available())
	dbURL := ""
	if opts.Postgres {
		dbURL = os.Getenv("MERLON_TEST_POSTGRES")
		if dbURL == "" {
			proc.Require(t, pgAvailable())
			// Not t.TempDir: its parents are private to the test's user,
			// and the server runs as postgres.
			dir, err := os.MkdirTemp("", "merlon-flaskinject-pg-")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(dir) })
			u, stop, err := startPostgres(dir)
			if err != nil {
				t.Fatalf("start postgresql: %v", err)
			}
			t.Cleanup(stop)
			dbURL = u
		}
	}
	var err error
	for range 3 {
		var p *proc.Process
		var app *App
		app, p, err = start(variant, dbURL)
		if err == nil {
			t.Cleanup(p.Stop)
			return app
		}
		if !errors.Is(err, proc.ErrExited) {
			break
		}
	}
	t.Fatalf("start flask-injection testbed %q: %v", variant, err)
	return nil
}

func start(variant, dbURL string) (*App, *proc.Process, error) {
	port, err := proc.FreePort()
	if err != nil {
		return nil, nil, err
	}
	cmd := exec.Command(Python, "-u", "app.py")
	cmd.Dir = Dir()
	cmd.Env = append(os.Environ(), "MERLON_VARIANT="+variant, "PORT="+strconv.Itoa(port),
		"DATABASE_URL="+dbURL, "PYTHONDONTWRITEBYTECODE=1")
	p, err := proc.Launch("flask app", cmd)
	if err != nil {
		return nil, nil, err
	}
	app := &App{URL: "http://127.0.0.1:" + strconv.Itoa(port), Variant: variant, DatabaseURL: dbURL}
	err = proc.WaitFor(p, time.Now().Add(readyTimeout), proc.HTTPOK(app.URL+"/openapi.json"))
	if err != nil {
		p.Stop()
		return nil, nil, fmt.Errorf("flask app on %s: %w\n--- output ---\n%s", app.URL, err, p.Output())
	}
	return app, p, nil
}

// startPostgres runs a throwaway cluster in dir, owned by the postgres OS
// user when run as root (the server refuses to run as root), trusting
// local connections, on a free 127.0.0.1 port.
func startPostgres(dir string) (url string, stop func(), err error) {
	bin, err := pgBin()
	if err != nil {
		return "", nil, err
	}
	data := filepath.Join(dir, "pgdata")
	asPG := func(args ...string) *exec.Cmd {
		if os.Geteuid() == 0 {
			return exec.Command("runuser", append([]string{"-u", "postgres", "--"}, args...)...)
		}
		return exec.Command(args[0], args[1:]...)
	}
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "postgres:postgres", dir).CombinedOutput(); err != nil {
			return "", nil, fmt.Errorf("chown %s: %w: %s", dir, err, out)
		}
		if err := os.Chmod(dir, 0o700); err != nil {
			return "", nil, err
		}
	}
	if out, err := asPG(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "--no-sync").CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("initdb: %w: %s", err, out)
	}
	port, err := proc.FreePort()
	if err != nil {
		return "", nil, err
	}
	cmd := asPG(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port), "-h", "127.0.0.1",
		"-k", dir, "-c", "fsync=off")
	p, err := proc.Launch("postgres", cmd)
	if err != nil {
		return "", nil, err
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	err = proc.WaitFor(p, time.Now().Add(readyTimeout), func() bool {
		out, err := exec.Command(filepath.Join(bin, "pg_isready"), "-h", "127.0.0.1", "-p", strconv.Itoa(port)).CombinedOutput()
		return err == nil && strings.Contains(string(out), "accepting")
	})
	if err != nil {
		p.Stop()
		return "", nil, fmt.Errorf("postgres on %s: %w\n%s", addr, err, p.Output())
	}
	return "postgresql://postgres@" + addr + "/postgres", p.Stop, nil
}
