//go:build unix

package pgtest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"syscall"
)

// postgresIDs returns the uid and gid of the postgres user, which runs the
// cluster when the tests run as root.
func postgresIDs() (uid, gid int, err error) {
	u, err := user.Lookup("postgres")
	if err != nil {
		return 0, 0, fmt.Errorf("running as root needs a postgres user: %w", err)
	}
	uid, _ = strconv.Atoi(u.Uid)
	gid, _ = strconv.Atoi(u.Gid)
	return uid, gid, nil
}

// chownToPostgres gives dir to the postgres user when we are root.
func chownToPostgres(dir string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	uid, gid, err := postgresIDs()
	if err != nil {
		return err
	}
	return os.Chown(dir, uid, gid)
}

// prepare makes cmd run as the postgres user when we are root, and die with
// this process where the system allows it (see deathSignal).
func prepare(cmd *exec.Cmd) error {
	attr := &syscall.SysProcAttr{}
	if os.Geteuid() == 0 {
		uid, gid, err := postgresIDs()
		if err != nil {
			return err
		}
		attr.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	setDeathSignal(attr)
	cmd.SysProcAttr = attr
	return nil
}

// quit asks a postmaster for an immediate shutdown: it stops its backends
// and exits without a checkpoint.
func quit(p *os.Process) error { return p.Signal(syscall.SIGQUIT) }

// alive reports whether a process with this pid exists.
func alive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
