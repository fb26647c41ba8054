package pgtest

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// exitedPID returns the pid of a process that has exited and been waited
// for.
func exitedPID(t *testing.T) int {
	t.Helper()
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	return cmd.Process.Pid
}

// running reports whether pid is a live process: not gone, not a zombie
// that nobody reaped.
func running(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses.
	i := bytes.LastIndexByte(b, ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z'
}

// binDir returns the PostgreSQL programs, or skips t without them.
func binDir(t *testing.T) string {
	t.Helper()
	bin, err := BinDir()
	if err != nil {
		if Required() {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	return bin
}

// sharedRoot makes a dir the postgres user can traverse (t.TempDir's
// parents are private to us) and removes it when t ends. Its name does not
// start with dirPrefix, so no other run takes it for a leftover cluster.
func sharedRoot(t *testing.T) string {
	t.Helper()
	root, err := os.MkdirTemp("", "merlon-pgtestroot-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if err := os.Chmod(root, 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

// crashEnv tells the test binary run by TestClusterDiesWithTestBinary to
// act as the crashing one, and how to die.
const crashEnv = "MERLON_PGTEST_CRASH"

// TestCrashingTestBinary is the test binary that dies: it starts a cluster
// under the root in crashEnv, prints where, then panics or is killed
// without stopping it. It does nothing in a normal run.
func TestCrashingTestBinary(t *testing.T) {
	how, root, ok := strings.Cut(os.Getenv(crashEnv), ":")
	if !ok {
		t.Skip("run by TestClusterDiesWithTestBinary")
	}
	srv, err := start(binDir(t), root)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("cluster %s %d %s\n", srv.dir, srv.cmd.Process.Pid, srv.admin)
	os.Stdout.Sync()
	switch how {
	case "panic":
		panic("pgtest: a test binary crashing with its cluster running")
	case "kill":
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		time.Sleep(time.Minute)
	}
}

// TestClusterDiesWithTestBinary: a test binary that panics or is killed
// does not leave its PostgreSQL running, and the next run removes what it
// left on disk.
func TestClusterDiesWithTestBinary(t *testing.T) {
	binDir(t)
	for _, how := range []string{"panic", "kill"} {
		t.Run(how, func(t *testing.T) {
			root := sharedRoot(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*startTimeout)
			defer cancel()
			cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestCrashingTestBinary$", "-test.count=1")
			cmd.Env = append(os.Environ(), crashEnv+"="+how+":"+root)
			out, err := cmd.CombinedOutput()
			if err == nil {
				t.Fatalf("crashing test binary exited 0:\n%s", out)
			}
			var (
				dir, admin string
				pid        int
			)
			sc := bufio.NewScanner(bytes.NewReader(out))
			for sc.Scan() {
				if n, _ := fmt.Sscanf(sc.Text(), "cluster %s %d %s", &dir, &pid, &admin); n == 3 {
					break
				}
			}
			if pid == 0 {
				t.Fatalf("crashing test binary did not start its cluster:\n%s", out)
			}

			deadline := time.Now().Add(30 * time.Second)
			for running(pid) && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			if running(pid) {
				_ = syscall.Kill(pid, syscall.SIGKILL)
				t.Fatalf("postmaster %d still running 30s after its test binary died (%s)", pid, how)
			}
			cctx, ccancel := context.WithTimeout(ctx, 5*time.Second)
			defer ccancel()
			if conn, err := pgx.Connect(cctx, admin); err == nil {
				conn.Close(cctx)
				t.Errorf("%s still accepts connections after its test binary died", admin)
			}

			// The next run finds the dir a leftover and removes it.
			if !stale(dir) {
				t.Errorf("stale(%s) = false after its owner died", dir)
			}
			reapStale(root)
			if _, err := os.Stat(dir); !os.IsNotExist(err) {
				t.Errorf("leftover dir %s after reapStale: %v", dir, err)
			}
		})
	}
}

// TestReapStaleStopsLeftover: a cluster left running by a run that is gone
// (here started detached, as pg_ctl does) is shut down and removed; one
// whose test binary still runs is not touched.
func TestReapStaleStopsLeftover(t *testing.T) {
	bin := binDir(t)
	root := sharedRoot(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*startTimeout)
	defer cancel()

	leftover := startDetached(ctx, t, bin, root, exitedPID(t))
	kept := startDetached(ctx, t, bin, root, os.Getppid())
	t.Cleanup(func() {
		if pid := postmasterOf(filepath.Join(kept, "data")); pid > 0 {
			_ = syscall.Kill(pid, syscall.SIGQUIT)
		}
	})
	pid := postmasterOf(filepath.Join(leftover, "data"))
	if pid == 0 {
		t.Fatal("postmasterOf(leftover) = 0 while it runs")
	}

	reapStale(root)
	if running(pid) {
		t.Errorf("leftover postmaster %d still running after reapStale", pid)
	}
	if _, err := os.Stat(leftover); !os.IsNotExist(err) {
		t.Errorf("leftover dir after reapStale: %v", err)
	}
	if postmasterOf(filepath.Join(kept, "data")) == 0 {
		t.Error("reapStale stopped the cluster of a running test binary")
	}
}

// startDetached starts a cluster under root the way pg_ctl does, not as a
// child of this process, owned by pid.
func startDetached(ctx context.Context, t *testing.T, bin, root string, owner int) string {
	t.Helper()
	dir, err := os.MkdirTemp(root, dirPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(strconv.Itoa(owner)), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := chownToPostgres(dir); err != nil {
		t.Fatal(err)
	}
	port, err := freePort()
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	if err := run(ctx, dir, filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "--auth=trust", "--no-sync"); err != nil {
		t.Fatal(err)
	}
	opts := fmt.Sprintf("-h 127.0.0.1 -p %d -k %s -F", port, dir)
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "pg_ctl"), "start", "-D", data, "-o", opts, "-w")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := prepare(cmd); err != nil {
		t.Fatal(err)
	}
	cmd.SysProcAttr.Pdeathsig = 0 // detached on purpose: a leftover
	if err := cmd.Run(); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		t.Fatalf("pg_ctl start: %v\n%s", err, log)
	}
	return dir
}

// TestStale: a cluster dir is a leftover when the process that started it
// is gone, or when it has no owner and is old; a running test binary's
// cluster, and one being set up, are not.
func TestStale(t *testing.T) {
	dead := exitedPID(t)
	old := time.Now().Add(-2 * staleAge)
	tests := []struct {
		name  string
		owner string // content of owner.pid; "-" for no file
		mtime time.Time
		want  bool
	}{
		{"owner running", strconv.Itoa(os.Getppid()), time.Now(), false},
		{"this process", strconv.Itoa(os.Getpid()), old, false},
		{"owner gone", strconv.Itoa(dead), time.Now(), true},
		{"owner unreadable", "not a pid", time.Now(), true},
		{"no owner, being set up", "-", time.Now(), false},
		{"no owner, old", "-", old, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), dirPrefix+"x")
			if err := os.Mkdir(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if tc.owner != "-" {
				if err := os.WriteFile(filepath.Join(dir, ownerFile), []byte(tc.owner+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chtimes(dir, tc.mtime, tc.mtime); err != nil {
				t.Fatal(err)
			}
			if got := stale(dir); got != tc.want {
				t.Errorf("stale(owner %q, mtime %v) = %v, want %v", tc.owner, tc.mtime, got, tc.want)
			}
		})
	}
}
