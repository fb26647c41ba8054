//go:build !linux

package proc

import (
	"os/exec"
	"syscall"
)

// sysProcAttr has nothing to add off Linux, where the testbed is not
// expected to run; the child alone is killed.
func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(cmd *exec.Cmd) {
	if cmd.Process != nil {
		_ = cmd.Process.Kill()
	}
}
