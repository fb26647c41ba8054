// Package servecmd is `merlon serve`: the dashboard, the REST API and, in
// the same process, the workers that run scans, schedules and webhooks.
package servecmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/merlonsec/merlon/internal/cli/cmdutil"
	"github.com/merlonsec/merlon/internal/jobs"
	"github.com/merlonsec/merlon/internal/store"
	"github.com/merlonsec/merlon/internal/web"
)

// Options are the flag values and streams of one `merlon serve`.
type Options struct {
	IO *cmdutil.IO

	Addr                string
	DB                  string
	Workers             int
	AllowPrivateTargets bool
	JobTimeout          time.Duration
	RescueAfter         time.Duration
	StopGrace           time.Duration
	Verbose             bool

	// Listener, when set, is used instead of listening on Addr (tests).
	Listener net.Listener
	// Getenv finds the default database path; nil means os.Getenv.
	Getenv func(string) string
}

// NewCmd builds the serve command. runF, when non-nil, replaces Run so
// that tests can check flag parsing alone.
func NewCmd(ios *cmdutil.IO, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the dashboard and REST API, and run scans in the background",
		Long: `Serve Merlon's dashboard and REST API, and run scans, scheduled monitoring
and webhooks as background jobs in the same process.

By default everything lives in one SQLite file ($MERLON_DB, else
$XDG_DATA_HOME/merlon/merlon.db, else ~/.local/share/merlon/merlon.db).
With --db postgres://... the server shares a PostgreSQL database with
'merlon worker' processes on other machines; --workers 0 then leaves all
scanning to them. See docs/serve.md.`,
		Example: `  merlon serve
  merlon serve --addr 0.0.0.0:8080 --db postgres://merlon@db/merlon --workers 0`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.Usagef("serve takes no arguments, got %q", args)
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
	f.StringVar(&opts.Addr, "addr", "127.0.0.1:8080", "address to listen on")
	f.StringVar(&opts.DB, "db", "", "database: an SQLite file path or a postgres:// URL (default: the embedded file, see above)")
	f.IntVar(&opts.Workers, "workers", 2, "scans this process runs at once; 0 leaves them to 'merlon worker' processes")
	f.BoolVar(&opts.AllowPrivateTargets, "allow-private-targets", false, "let targets and webhooks resolve to loopback, private, link-local or cloud-metadata addresses")
	f.DurationVar(&opts.JobTimeout, "job-timeout", jobs.DefaultJobTimeout, "cancel a scan attempt that runs longer")
	f.DurationVar(&opts.RescueAfter, "rescue-after", 0, "retry a scan whose worker went silent this long (default: job timeout + 5m)")
	f.DurationVar(&opts.StopGrace, "stop-grace", jobs.DefaultStopGrace, "on SIGINT or SIGTERM, let running scans finish this long before putting them back to queued")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "log every job and request detail")
	cmd.AddCommand(NewUserCmd(ios, nil))
	return cmd
}

// Run serves until ctx ends or SIGINT/SIGTERM arrives, then stops taking
// requests and jobs, lets running scans finish for o.StopGrace (they are
// put back to queued after that), and closes the database. A stop by
// signal or by ctx is a clean exit: Run returns nil.
func Run(ctx context.Context, o *Options) error {
	if o.Workers < 0 {
		return cmdutil.Usagef("--workers must be 0 or more, got %d", o.Workers)
	}
	if o.Workers == 0 && !jobs.IsPostgres(o.DB) {
		return cmdutil.Usagef("--workers 0 needs --db postgres://...: with the embedded database nothing else would run the scans")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	logger := NewLogger(o.IO.ErrOut, o.Verbose)
	dsn, err := storeDSN(o.DB, o.Getenv)
	if err != nil {
		return err
	}
	runner, err := jobs.Open(ctx, dsn, jobs.Config{
		Workers:     o.Workers,
		JobTimeout:  o.JobTimeout,
		RescueAfter: o.RescueAfter,
		Logger:      logger,
		Version:     cmdutil.Version,
		// Webhooks and scheduled scans obey the same rule as the API.
		AllowPrivateTargets: o.AllowPrivateTargets,
	})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	defer runner.Close()

	srv, err := web.New(web.Options{
		Store:               runner.Store(),
		Jobs:                runner,
		Logger:              logger,
		AllowPrivateTargets: o.AllowPrivateTargets,
		Version:             cmdutil.Version,
	})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	ln := o.Listener
	if ln == nil {
		if ln, err = net.Listen("tcp", o.Addr); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}
	if err := runner.Start(ctx); err != nil {
		ln.Close()
		return fmt.Errorf("serve: %w", err)
	}
	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	served := make(chan error, 1)
	go func() { served <- hs.Serve(ln) }()
	fmt.Fprintf(o.IO.ErrOut, "merlon: serving on http://%s (database %s, %d workers)\n", ln.Addr(), DescribeDB(dsn), o.Workers)

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-served:
	}
	grace := o.StopGrace
	if grace <= 0 {
		grace = jobs.DefaultStopGrace
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	// The HTTP server and the job queue wind down together, within one
	// grace period; a page still loading must not eat the scans' share.
	httpDone := make(chan error, 1)
	if serveErr == nil {
		go func() { httpDone <- hs.Shutdown(shutCtx) }()
	} else {
		httpDone <- nil
	}
	errs := []error{}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		errs = append(errs, fmt.Errorf("serve: %w", serveErr))
	}
	if err := runner.Stop(shutCtx); err != nil {
		errs = append(errs, fmt.Errorf("serve: %w", err))
	}
	if err := <-httpDone; err != nil {
		// Requests still open after the grace period are cut; that is
		// the stop asked for, not a failure.
		logger.Warn("serve: closing open connections", "err", err)
		hs.Close()
	}
	return errors.Join(errs...)
}

// NewLogger logs structured text lines to w: warnings and errors, plus
// River's and each job's detail when verbose. Scan starts and ends are
// logged at info, which verbose shows too.
func NewLogger(w io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// DescribeDB names a database for a log line without its password.
func DescribeDB(dsn string) string {
	if !jobs.IsPostgres(dsn) {
		return dsn
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres"
	}
	return "postgres://" + u.Host + u.Path
}

// storeDSN is db, or the default store path when db is empty. getenv is
// os.Getenv when nil.
func storeDSN(db string, getenv func(string) string) (string, error) {
	if db != "" {
		return db, nil
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	return store.DefaultPath(getenv)
}
