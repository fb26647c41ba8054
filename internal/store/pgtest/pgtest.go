// Package pgtest gives tests a real PostgreSQL database. If
// MERLON_TEST_POSTGRES holds a postgres:// URL of a role that may create
// databases, it is used; otherwise pgtest starts a throwaway cluster with
// Debian's PostgreSQL 15 binaries in a temporary directory, listening on a
// free port of 127.0.0.1, shared by every test of the test binary and
// stopped by Main. Each test gets a database of its own.
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
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BinDir is where Debian's postgresql package puts initdb and pg_ctl.
const BinDir = "/usr/lib/postgresql/15/bin"

// startTimeout bounds initdb plus server startup.
const startTimeout = 60 * time.Second

// cluster is the server every test of this binary shares.
type cluster struct {
	once  sync.Once
	admin string // URL of the maintenance database
	dir   string // temp dir of a cluster we started; empty otherwise
	err   error
}

var shared cluster

// Main runs the tests and stops the cluster they started, if any. Use it
// from TestMain: os.Exit(pgtest.Main(m)).
func Main(m *testing.M) int {
	code := m.Run()
	if shared.dir != "" {
		if err := stop(shared.dir); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: %v\n", err)
		}
	}
	return code
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
	shared.once.Do(func() { shared.admin, shared.dir, shared.err = find() })
	if shared.err != nil {
		if Required() {
			t.Fatalf("pgtest: no PostgreSQL: %v", shared.err)
		}
		t.Skipf("pgtest: no PostgreSQL (set MERLON_TEST_POSTGRES or install postgresql 15): %v", shared.err)
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
func find() (admin, dir string, err error) {
	if dsn := os.Getenv("MERLON_TEST_POSTGRES"); dsn != "" {
		if _, err := url.Parse(dsn); err != nil {
			return "", "", fmt.Errorf("MERLON_TEST_POSTGRES must be a postgres:// URL")
		}
		return dsn, "", nil
	}
	return start()
}

// start runs initdb and pg_ctl in a fresh temp dir. As root it runs them
// as the postgres user, since PostgreSQL refuses to run as root.
func start() (admin, dir string, err error) {
	initdb := filepath.Join(BinDir, "initdb")
	if _, err := os.Stat(initdb); err != nil {
		return "", "", fmt.Errorf("%s not found (apt-get install postgresql)", initdb)
	}
	tmp, err := os.MkdirTemp("", "merlon-pgtest-")
	if err != nil {
		return "", "", err
	}
	// The error returns below clear the named dir, so clean up tmp.
	defer func() {
		if err != nil {
			_ = stop(tmp)
		}
	}()
	dir = tmp
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return "", "", fmt.Errorf("running as root needs a postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return "", "", err
		}
	}
	port, err := freePort()
	if err != nil {
		return "", "", err
	}
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	data := filepath.Join(dir, "data")
	if err := run(ctx, initdb, "-D", data, "-U", "postgres", "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync"); err != nil {
		return "", "", err
	}
	opts := fmt.Sprintf("-h 127.0.0.1 -p %d -k %s -F -c fsync=off -c full_page_writes=off", port, dir)
	if err := run(ctx, filepath.Join(BinDir, "pg_ctl"), "start", "-D", data, "-o", opts,
		"-l", filepath.Join(dir, "server.log"), "-w", "-t", strconv.Itoa(int(startTimeout/time.Second))); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		return "", "", fmt.Errorf("%w\n%s", err, log)
	}
	admin = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	return admin, dir, nil
}

// stop stops the cluster in dir, if running, and removes dir.
func stop(dir string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errs []error
	data := filepath.Join(dir, "data")
	if _, err := os.Stat(filepath.Join(data, "postmaster.pid")); err == nil {
		errs = append(errs, run(ctx, filepath.Join(BinDir, "pg_ctl"), "stop", "-D", data, "-m", "immediate", "-w"))
	}
	errs = append(errs, os.RemoveAll(dir))
	return errors.Join(errs...)
}

// run runs a PostgreSQL tool, as the postgres user when we are root.
func run(ctx context.Context, name string, args ...string) error {
	if os.Geteuid() == 0 {
		args = append([]string{"-u", "postgres", "--", name}, args...)
		name = "runuser"
	}
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// pg_ctl leaves the server running with our stdout unless it is a file;
	// a buffer would keep Wait from returning.
	cmd.WaitDelay = 5 * time.Second
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
