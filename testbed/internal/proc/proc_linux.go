package proc

import (
	"os/exec"
	"syscall"
)

// sysProcAttr puts each child in its own process group, so that killing the
// group also ends anything it started, and has the kernel kill it if the
// test binary dies first (a timed-out test runs no cleanups).
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

func killGroup(cmd *exec.Cmd) {
	if cmd.Process == nil {
		return
	}
	// The group ID is the child's PID, by Setpgid.
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
}
