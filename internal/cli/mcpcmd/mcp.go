// Package mcpcmd is `merlon mcp`: serve Merlon's tools to an AI assistant
// over the Model Context Protocol on stdin and stdout.
package mcpcmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/merlonsec/merlon/internal/cli/cmdutil"
	"github.com/merlonsec/merlon/internal/mcpserver"
)

// Options are the flag values and streams of one `merlon mcp`.
type Options struct {
	IO *cmdutil.IO

	Dir     string
	MaxTime time.Duration
	Quiet   bool
	Verbose bool
}

// NewCmd builds the mcp command. runF, when non-nil, replaces Run so that
// tests can check flag parsing alone.
func NewCmd(ios *cmdutil.IO, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "mcp",
		Short: "Serve Merlon's tools to AI assistants over MCP (stdio)",
		Long: `Serve Merlon as a Model Context Protocol server on stdin and stdout, for
AI assistants and editors that run MCP servers as a command.

Tools: scan_api (scan an API, passive unless active=true), get_scan (a scan's
report as markdown, text or json) and list_scans. Scans are kept in memory;
with --dir they are also saved there as JSON reports and listed from there,
so they survive restarts.

Stdout carries only the protocol; logs go to stderr. See docs/mcp.md.`,
		Example: `  merlon mcp
  merlon mcp --dir ~/.local/share/merlon/scans --max-time 5m`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.Usagef("mcp takes no arguments, got %q", args)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Dir, "dir", "", "save scans as JSON reports in this directory and list them from it (default: memory only)")
	f.DurationVar(&opts.MaxTime, "max-time", mcpserver.DefaultMaxTime, "wall-clock budget of each scan (the profile's own budget applies when shorter)")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "log only errors on stderr")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "log protocol and scan details on stderr")
	return cmd
}

// Run serves MCP on the command's streams until the client closes stdin,
// or until SIGINT or SIGTERM.
func Run(ctx context.Context, o *Options) error {
	if o.MaxTime <= 0 {
		return cmdutil.Usagef("--max-time must be positive, got %s", o.MaxTime)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	level := slog.LevelInfo
	switch {
	case o.Verbose:
		level = slog.LevelDebug
	case o.Quiet:
		level = slog.LevelError
	}
	logger := slog.New(slog.NewTextHandler(o.IO.ErrOut, &slog.HandlerOptions{Level: level}))
	srv := mcpserver.NewServer(mcpserver.Options{
		Dir:     o.Dir,
		MaxTime: o.MaxTime,
		Logger:  logger,
		Version: cmdutil.Version,
	})
	t := &mcp.IOTransport{Reader: io.NopCloser(o.IO.In), Writer: nopWriteCloser{o.IO.Out}}
	err := srv.Run(ctx, t)
	switch {
	case err == nil, errors.Is(err, io.EOF):
		// The client closed the session.
		return nil
	case ctx.Err() != nil:
		// A signal (or the caller) stopped the server: a normal way to end.
		return nil
	}
	return fmt.Errorf("serve mcp: %w", err)
}

// nopWriteCloser leaves closing stdout to the process.
type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }
