// Package democmd is `merlon demo`: start Merlon's built-in, deliberately
// vulnerable demo API on 127.0.0.1 and scan it, so a new user sees a graded
// report in one command.
package democmd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"time"

	"github.com/spf13/cobra"

	"github.com/merlonsec/merlon/internal/cli/cmdutil"
	"github.com/merlonsec/merlon/internal/cli/scancmd"
	"github.com/merlonsec/merlon/internal/demo"
)

// Options are the demo's flags.
type Options struct {
	IO      *cmdutil.IO
	Serve   bool
	Addr    string
	Passive bool
	Format  string
	Output  string
	Quiet   bool
}

// NewCmd builds the demo command.
func NewCmd(ios *cmdutil.IO, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Scan Merlon's built-in vulnerable demo API",
		Long: `Start Merlon's built-in demo API on 127.0.0.1, scan it and print the report.

The demo API is deliberately vulnerable. It lives inside this process, so the
scan runs in active mode by default: Merlon proves mass assignment by writing
and reading back. Use --passive to see what a read-only scan finds, or --serve
to run the demo API alone and scan it yourself.`,
		Example: `  merlon demo
  merlon demo --passive --format json
  merlon demo --serve --addr 127.0.0.1:8080   # then: merlon scan http://127.0.0.1:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(cmd.Context(), opts)
			}
			return Run(cmd.Context(), opts)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&opts.Serve, "serve", false, "only serve the demo API until interrupted")
	f.StringVar(&opts.Addr, "addr", "127.0.0.1:0", "address for the demo API (loopback only)")
	f.BoolVar(&opts.Passive, "passive", false, "scan without --active")
	f.StringVarP(&opts.Format, "format", "f", "text", "output format")
	f.StringVarP(&opts.Output, "output", "o", "", "write the report to this file")
	f.BoolVarP(&opts.Quiet, "quiet", "q", false, "print nothing on stderr but errors")
	return cmd
}

// Run starts the demo API and scans it (or only serves it, with --serve).
func Run(ctx context.Context, o *Options) error {
	if ctx == nil {
		ctx = context.Background()
	}
	host, _, err := net.SplitHostPort(o.Addr)
	if err != nil {
		return cmdutil.Usagef("--addr %q: want host:port", o.Addr)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return cmdutil.Usagef("--addr %q: the demo API listens on loopback only (127.0.0.1)", o.Addr)
	}
	ln, err := net.Listen("tcp", o.Addr)
	if err != nil {
		return fmt.Errorf("start demo API: %w", err)
	}
	srv := &http.Server{Handler: demo.New().Handler(), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	url := "http://" + ln.Addr().String()

	if o.Serve {
		fmt.Fprintf(o.IO.ErrOut, "merlon: demo API listening on %s (Ctrl-C to stop)\nmerlon: try: merlon scan %s --active\n", url, url)
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		defer signal.Stop(sig)
		select {
		case <-sig:
		case <-ctx.Done():
		}
		return nil
	}

	if !o.Quiet {
		mode := "active"
		if o.Passive {
			mode = "passive"
		}
		fmt.Fprintf(o.IO.ErrOut, "merlon: demo API listening on %s; scanning it (%s)\n", url, mode)
	}
	err = scancmd.Run(ctx, &scancmd.Options{
		IO:          o.IO,
		Target:      url,
		Profile:     "standard",
		Active:      !o.Passive,
		Format:      o.Format,
		Output:      o.Output,
		Rate:        0,
		Concurrency: 8,
		Timeout:     10 * time.Second,
		Quiet:       o.Quiet,
		CountWrites: true,
	})
	if errors.Is(err, cmdutil.ErrFindings) {
		return nil
	}
	return err
}
