// Package pgtest gives tests a real PostgreSQL database. If
// MERLON_TEST_POSTGRES holds a postgres:// URL of a role that may create
// databases, it is used; otherwise pgtest starts a throwaway cluster with
// the newest PostgreSQL installed in Debian's layout (see BinDir) in a
// temporary directory, listening on a free port of 127.0.0.1, shared by
// every test of the test binary and stopped by Main, or by the kernel when
// the test binary dies first. Each test gets a database of its own.
//
// Without PostgreSQL, tests skip, except in CI (CI=true) or when
// MERLON_REQUIRE_TESTBED=1, where they fail: a green CI run must mean the
// Postgres tests ran.
package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// binRoot is where Debian's postgresql packages install their programs, one
// directory per major version (/usr/lib/postgresql/<major>/bin).
const binRoot = "/usr/lib/postgresql"

// dirPrefix names the temp dir of every cluster pgtest starts, so that a
// later run can find the ones a crashed run left behind.
const dirPrefix = "merlon-pgtest-"

// ownerFile, in a cluster's dir, holds the PID of the test process that
// started it.
const ownerFile = "owner.pid"

// startTimeout bounds initdb plus server startup.
const startTimeout = 60 * time.Second

// staleAge is how old a cluster dir without an owner file must be before
// another run removes it: younger, it may be one being set up right now.
const staleAge = 2 * startTimeout

// cluster is the server every test of this binary shares.
type cluster struct {
	once  sync.Once
	admin string  // URL of the maintenance database
	srv   *server // the cluster we started; nil when MERLON_TEST_POSTGRES names one
	err   error
}

var shared cluster

// Main runs the tests and stops the cluster they started, if any. Use it
// from TestMain: os.Exit(pgtest.Main(m)). A test binary that never reaches
// the end of Main (a panic, a timeout, a kill) does not leave the cluster
// running either: on Linux the server dies with the process that started
// it, and the next run removes what is left on disk.
func Main(m *testing.M) int {
	code := m.Run()
	if shared.srv != nil {
		if err := shared.srv.stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		}
	}
	return code
}

// BinDir returns the bin directory of the newest PostgreSQL installed in
// Debian's layout (/usr/lib/postgresql/<major>/bin with an initdb), so any
// supported major works, or an error saying what to install.
func BinDir() (string, error) { return newestBinDir(binRoot) }

// newestBinDir is BinDir under root.
func newestBinDir(root string) (string, error) {
	entries, err := os.ReadDir(root)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("find postgresql: %w", err)
	}
	var (
		best  string
		bestV []int
	)
	for _, e := range entries {
		v := parseMajor(e.Name())
		if v == nil {
			continue
		}
		bin := filepath.Join(root, e.Name(), "bin")
		if _, err := os.Stat(filepath.Join(bin, "initdb")); err != nil {
			continue // a client-only package
		}
		if best == "" || slices.Compare(v, bestV) > 0 {
			best, bestV = bin, v
		}
	}
	if best == "" {
		return "", fmt.Errorf("no PostgreSQL server in %s/*/bin (apt-get install postgresql)", root)
	}
	return best, nil
}

// parseMajor reads a version directory name ("15", "9.6") as numbers to
// compare, or nil when it is not one.
func parseMajor(name string) []int {
	var v []int
	for p := range strings.SplitSeq(name, ".") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 {
			return nil
		}
		v = append(v, n)
	}
	return v
}

// Required reports whether a missing PostgreSQL must fail the tests
// instead of skipping them.
func Required() bool {
	return os.Getenv("CI") == "true" || os.Getenv("MERLON_REQUIRE_TESTBED") == "1"
}

// NewDatabase creates an empty database for t, drops it when t ends, and
// returns its postgres:// URL.
func NewDatabase(t testing.TB) string {
	t.Helper()
	shared.once.Do(func() { shared.admin, shared.srv, shared.err = find() })
	if shared.err != nil {
		if Required() {
			t.Fatalf("pgtest: no PostgreSQL: %v", shared.err)
		}
		t.Skipf("pgtest: no PostgreSQL (set MERLON_TEST_POSTGRES or install postgresql): %v", shared.err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	name := "merlon_test_" + hex.EncodeToString(b)
	if err := adminExec(ctx, shared.admin, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("pgtest: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := adminExec(ctx, shared.admin, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("pgtest: drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(shared.admin)
	if err != nil {
		t.Fatalf("pgtest: admin URL: %v", err)
	}
	u.Path = "/" + name
	return u.String()
}

func adminExec(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// find returns the admin URL of MERLON_TEST_POSTGRES, or starts a cluster.
func find() (admin string, srv *server, err error) {
	if dsn := os.Getenv("MERLON_TEST_POSTGRES"); dsn != "" {
		if _, err := url.Parse(dsn); err != nil {
			return "", nil, fmt.Errorf("MERLON_TEST_POSTGRES must be a postgres:// URL")
		}
		return dsn, nil, nil
	}
	bin, err := BinDir()
	if err != nil {
		return "", nil, err
	}
	reapStale(os.TempDir())
	srv, err = start(bin, os.TempDir())
	if err != nil {
		return "", nil, err
	}
	return srv.admin, srv, nil
}

// server is a PostgreSQL cluster this process started: a postmaster that is
// our child, in a temp dir of its own.
type server struct {
	admin string
	dir   string
	cmd   *exec.Cmd
	done  chan struct{} // closed once the postmaster exited and was waited for
}

// start creates a cluster under root with the programs of bin and runs its
// postmaster as a child of this process, on a free port of 127.0.0.1. As
// root it runs them as the postgres user, since PostgreSQL refuses to run
// as root.
//
// The postmaster is started directly rather than through pg_ctl, which
// would detach it: as our child it gets a parent-death signal (Linux), so
// it shuts down when the test binary dies however it dies.
func start(bin, root string) (srv *server, err error) {
	dir, err := os.MkdirTemp(root, dirPrefix)
	if err != nil {
		return nil, err
	}
	// Claim the dir at once, before anything slow, so a concurrent run
	// never mistakes it for a leftover.
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(os.Getpid())+"\n"), 0o644); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer func() {
		if err != nil {
			if srv != nil {
				_ = srv.stop()
			} else {
				_ = os.RemoveAll(dir)
			}
		}
	}()
	if err := chownToPostgres(dir); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	data := filepath.Join(dir, "data")
	if err := run(ctx, dir, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust",
		"--encoding=UTF8", "--locale=C", "--no-sync"); err != nil {
		return nil, err
	}

	logPath := filepath.Join(dir, "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child keeps its own descriptor
	cmd := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-h", "127.0.0.1", "-p", strconv.Itoa(port),
		"-k", dir, "-F", "-c", "fsync=off", "-c", "full_page_writes=off")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := prepare(cmd); err != nil {
		return nil, err
	}
	srv = &server{
		admin: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port),
		dir:   dir,
		cmd:   cmd,
		done:  make(chan struct{}),
	}
	started := make(chan error, 1)
	go srv.supervise(started)
	if err := <-started; err != nil {
		srv.cmd = nil
		return srv, fmt.Errorf("start postgres: %w", err)
	}
	if err := srv.waitReady(ctx); err != nil {
		log, _ := os.ReadFile(logPath)
		return srv, fmt.Errorf("%w\n%s", err, log)
	}
	return srv, nil
}

// supervise starts the postmaster and waits for it, on a goroutine locked
// to its OS thread: the kernel sends the parent-death signal when the
// thread that started the child ends, and a locked thread ends only with
// this goroutine, that is once the postmaster has exited.
func (s *server) supervise(started chan<- error) {
	runtime.LockOSThread()
	if err := s.cmd.Start(); err != nil {
		close(s.done)
		started <- err
		return
	}
	started <- nil
	_ = s.cmd.Wait()
	close(s.done)
}

// waitReady polls until the server accepts connections, fails fast if the
// postmaster exits, and gives up at ctx's deadline.
func (s *server) waitReady(ctx context.Context) error {
	for {
		cctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		conn, err := pgx.Connect(cctx, s.admin)
		cancel()
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-s.done:
			return fmt.Errorf("postgres exited before accepting connections: %w", err)
		case <-ctx.Done():
			return fmt.Errorf("postgres not ready after %v: %w", startTimeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// stop shuts the postmaster down (immediately: the data is thrown away)
// and removes the cluster's dir.
func (s *server) stop() error {
	var errs []error
	if s.cmd != nil && s.cmd.Process != nil {
		select {
		case <-s.done:
		default:
			_ = quit(s.cmd.Process)
			select {
			case <-s.done:
			case <-time.After(30 * time.Second):
				_ = s.cmd.Process.Kill()
				<-s.done
				errs = append(errs, fmt.Errorf("postgres in %s ignored the shutdown signal; killed", s.dir))
			}
		}
	}
	errs = append(errs, os.RemoveAll(s.dir))
	return errors.Join(errs...)
}

// reapStale removes the clusters that test processes now gone left under
// root: a panicked or killed test binary never stops its cluster. A
// leftover postmaster still running is shut down first. Clusters of test
// binaries still running (go test runs packages in parallel) are left
// alone. It does its best and reports nothing: a leftover it cannot remove
// does not keep a new cluster from starting on another port and dir.
func reapStale(root string) {
	dirs, _ := filepath.Glob(filepath.Join(root, dirPrefix+"*"))
	for _, dir := range dirs {
		if !stale(dir) {
			continue
		}
		data := filepath.Join(dir, "data")
		if pid := postmasterOf(data); pid > 0 {
			if p, err := os.FindProcess(pid); err == nil {
				_ = quit(p)
				for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && postmasterOf(data) > 0; {
					time.Sleep(50 * time.Millisecond)
				}
			}
		}
		_ = os.RemoveAll(dir)
	}
}

// stale reports whether the cluster dir belongs to no running test process.
func stale(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, ownerFile))
	if err != nil {
		fi, err := os.Stat(dir)
		return err == nil && fi.IsDir() && time.Since(fi.ModTime()) > staleAge
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	return err != nil || (pid != os.Getpid() && !alive(pid))
}

// run runs a PostgreSQL tool in dir, as the postgres user when we are root.
func run(ctx context.Context, dir, name string, args ...string) error {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := prepare(cmd); err != nil {
		return err
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %v: %w\n%s", filepath.Base(name), args, err, out.String())
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
