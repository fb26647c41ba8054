//go:build unix && !linux

package pgtest

import "syscall"

// setDeathSignal does nothing where there is no parent-death signal: a
// cluster of a crashed test binary keeps running there, and the next run
// removes only its files.
func setDeathSignal(*syscall.SysProcAttr) {}

// postmasterOf cannot tell a leftover postmaster from a recycled pid
// without /proc, so it reports none.
func postmasterOf(string) int { return 0 }
