//go:build !unix

package pgtest

import (
	"os"
	"os/exec"
)

// The PostgreSQL layout pgtest looks for is Debian's; elsewhere there is
// no cluster to start, and these only let the package build.

func chownToPostgres(string) error { return nil }
func prepare(*exec.Cmd) error      { return nil }
func quit(p *os.Process) error     { return p.Kill() }
func alive(int) bool               { return false }
func postmasterOf(string) int      { return 0 }
