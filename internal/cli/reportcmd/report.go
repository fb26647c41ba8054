// Package reportcmd is `merlon report`: render a saved JSON scan in another
// format, so that one scan feeds SARIF upload, a PR comment and a PDF
// without scanning again.
package reportcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/merlonsec/merlon/internal/cli/cmdutil"
	"github.com/merlonsec/merlon/internal/report"
	"github.com/merlonsec/merlon/internal/scan"
)

// Options are the flag values and dependencies of one `merlon report`.
type Options struct {
	IO *cmdutil.IO

	// Input is the JSON report's path, or "-" for stdin.
	Input   string
	Format  string
	Output  string
	Verbose bool
}

// NewCmd builds the report command. runF, when non-nil, replaces Run so
// that tests can check flag parsing alone.
func NewCmd(ios *cmdutil.IO, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "report <scan.json>",
		Short: "Render a saved JSON scan in another format",
		Long: `Render a scan saved with 'merlon scan --format json' in another format.
Use - to read the report from stdin.

Exit codes: 0 rendered, 2 usage error or a file that is not a Merlon JSON
report, 3 the output could not be written.`,
		Example: `  merlon scan https://api.example.com --format json -o scan.json
  merlon report scan.json --format sarif -o merlon.sarif
  merlon report scan.json --format markdown >> "$GITHUB_STEP_SUMMARY"`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cmdutil.Usagef("report needs exactly one JSON report, got %d arguments (example: merlon report scan.json --format sarif)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Input = args[0]
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVarP(&opts.Format, "format", "f", "text", "output format: "+strings.Join(report.Formats(), ", "))
	f.StringVarP(&opts.Output, "output", "o", "", "write the report to this file instead of stdout")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "show full evidence in the formats meant for people")
	return cmd
}

// Run reads the saved report and renders it.
func Run(_ context.Context, o *Options) error {
	r, err := report.New(o.Format, report.Options{Color: o.Output == "" && o.IO.OutTTY, Verbose: o.Verbose})
	if err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	rep, err := Read(o.Input, o.IO.In)
	if err != nil {
		return err
	}
	if o.Output == "" {
		if err := r.Render(o.IO.Out, rep); err != nil {
			return fmt.Errorf("render report: %w", err)
		}
		return nil
	}
	return cmdutil.WriteFile(o.Output, func(w io.Writer) error { return r.Render(w, rep) })
}

// Read loads a saved JSON report from path, or from stdin when path is "-".
// A missing, unreadable or malformed file is a usage error: the user named
// the wrong file, and the scanner did nothing wrong.
func Read(path string, stdin io.Reader) (*scan.Report, error) {
	var in io.Reader = stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, cmdutil.Usagef("report %s does not exist", path)
			}
			return nil, cmdutil.Usagef("open report: %v", err)
		}
		defer f.Close()
		in = f
	}
	rep, err := report.ReadJSON(in)
	if err != nil {
		return nil, cmdutil.Usagef("%s: %v", path, err)
	}
	return rep, nil
}
