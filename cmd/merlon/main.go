// Command merlon is an API security scanner. All the work happens in
// internal/cli; main only hands over the process's arguments and streams.
package main

import (
	"os"

	"github.com/merlonsec/merlon/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
