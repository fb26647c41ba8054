package pgtest

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// setDeathSignal has the kernel send the child SIGQUIT, PostgreSQL's
// immediate shutdown, when the thread that started it ends: with the
// postmaster started from a locked thread (server.supervise), that is when
// the test process dies, whether it returned, panicked or was killed.
// Go sets it after switching to the postgres user, so the switch does not
// clear it.
func setDeathSignal(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGQUIT }

// postmasterOf returns the pid of the postmaster running on data, or 0. It
// trusts postmaster.pid only when that process's working directory is data
// (a postmaster runs in its data dir), so a recycled pid is never signalled.
func postmasterOf(data string) int {
	b, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		return 0
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil || pid <= 0 {
		return 0
	}
	cwd, err := os.Readlink("/proc/" + strconv.Itoa(pid) + "/cwd")
	if err != nil {
		return 0
	}
	if want, err := filepath.EvalSymlinks(data); err != nil || cwd != want {
		return 0
	}
	return pid
}
