// Package cli is merlon's command tree. Main is the one place where errors
// become exit codes; no command calls os.Exit.
package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/merlonsec/merlon/internal/cli/checkscmd"
	"github.com/merlonsec/merlon/internal/cli/cmdutil"
	"github.com/merlonsec/merlon/internal/cli/democmd"
	"github.com/merlonsec/merlon/internal/cli/diffcmd"
	"github.com/merlonsec/merlon/internal/cli/mcpcmd"
	"github.com/merlonsec/merlon/internal/cli/reportcmd"
	"github.com/merlonsec/merlon/internal/cli/scancmd"
	"github.com/merlonsec/merlon/internal/cli/servecmd"
	"github.com/merlonsec/merlon/internal/cli/workercmd"
)

// Main runs merlon with args and returns the process exit code.
func Main(args []string, in io.Reader, out, errOut io.Writer) int {
	ios := cmdutil.NewIO(in, out, errOut)
	root := NewRootCmd(ios)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	code := cmdutil.ExitCode(err)
	switch {
	case err == nil, errors.Is(err, cmdutil.ErrFindings):
	case errors.Is(err, cmdutil.ErrInterrupted):
		fmt.Fprintln(errOut, "merlon: interrupted; the report above holds what was found so far")
	default:
		fmt.Fprintf(errOut, "merlon: %s\n", errorLine(err, cmd))
	}
	return code
}

// errorLine is the one line Main prints for err. A usage error points at
// the help of the command that was run, in the same line, so that a CI log
// or a script reading stderr gets the whole message in one line.
func errorLine(err error, cmd *cobra.Command) string {
	msg := oneLine(err.Error())
	var ue *cmdutil.UsageError
	if !errors.As(err, &ue) || ue.NoHint {
		return msg
	}
	path := "merlon"
	if cmd != nil {
		path = cmd.CommandPath()
	}
	return fmt.Sprintf("%s (see '%s --help')", msg, path)
}

// oneLine keeps an error to one line, whatever a library put in it.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	s = strings.ReplaceAll(s, "\r", " ")
	return strings.ReplaceAll(s, "\n", "; ")
}

// NewRootCmd builds the command tree.
func NewRootCmd(ios *cmdutil.IO) *cobra.Command {
	root := &cobra.Command{
		Use:   "merlon <command>",
		Short: "Find what an attacker would find in your HTTP API",
		Long: `Merlon scans a running HTTP API against the OWASP API Security Top 10 (2023).
It reports each finding with severity, confidence, CWE, OWASP category, the
exact requests and responses as evidence, and remediation for your stack,
plus a 0-100 score and an A-F grade.

Without --active, Merlon only sends GET, HEAD and OPTIONS requests.`,
		Example: `  merlon demo
  merlon scan https://api.example.com --spec openapi.yaml
  merlon scan http://127.0.0.1:8080 -H 'Authorization: Bearer $TOKEN' --fail-on high
  merlon checks`,
		Version:       cmdutil.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetIn(ios.In)
	root.SetOut(ios.Out)
	root.SetErr(ios.ErrOut)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &cmdutil.UsageError{Err: err}
	})
	root.SetVersionTemplate("merlon {{.Version}}\n")
	root.AddCommand(
		scancmd.NewCmd(ios, nil),
		democmd.NewCmd(ios, nil),
		checkscmd.NewCmd(ios),
		reportcmd.NewCmd(ios, nil),
		diffcmd.NewCmd(ios, nil),
		mcpcmd.NewCmd(ios, nil),
		servecmd.NewCmd(ios, nil),
		workercmd.NewCmd(ios, nil),
	)
	// Unknown subcommands and bad arguments are usage errors too.
	root.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return cmdutil.Usagef("unknown command %q for merlon", args[0])
		}
		return nil
	}
	root.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
	return root
}
