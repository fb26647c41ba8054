// Package workercmd is `merlon worker`: a process that only runs jobs
// (scans, schedules, webhooks) from a PostgreSQL database it shares with
// `merlon serve` and other workers.
package workercmd

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/merlonsec/merlon/internal/cli/cmdutil"
	"github.com/merlonsec/merlon/internal/cli/servecmd"
	"github.com/merlonsec/merlon/internal/jobs"
)

// Options are the flag values and streams of one `merlon worker`.
type Options struct {
	IO *cmdutil.IO

	DB          string
	Workers     int
	JobTimeout  time.Duration
	RescueAfter time.Duration
	StopGrace   time.Duration
	ID          string
	Verbose     bool
	// AllowPrivateTargets lets webhooks and scheduled scans reach internal
	// addresses; give it the value `merlon serve` has.
	AllowPrivateTargets bool
}

// NewCmd builds the worker command. runF, when non-nil, replaces Run so
// that tests can check flag parsing alone.
func NewCmd(ios *cmdutil.IO, runF func(context.Context, *Options) error) *cobra.Command {
	opts := &Options{IO: ios}
	cmd := &cobra.Command{
		Use:   "worker --db postgres://...",
		Short: "Run scans, schedules and webhooks from a shared PostgreSQL database",
		Long: `Run Merlon's background jobs (scans, scheduled monitoring, webhooks) taken
from the PostgreSQL database that 'merlon serve --db' uses. Start as many
workers, on as many machines, as the scans need; each takes up to --workers
scans at once.

A worker that dies mid-scan loses nothing: after --rescue-after its scan is
retried by another worker, and its report is stored exactly once. On SIGINT
or SIGTERM a worker stops taking jobs and lets running scans finish for up
to --stop-grace (30 seconds); scans still running then are put back to
queued and run again by another worker at once.

Give workers the same --allow-private-targets as 'merlon serve': without
it, a worker refuses webhooks and scheduled scans that reach loopback,
private, link-local or cloud-metadata addresses.
See docs/serve.md.`,
		Example: `  merlon worker --db postgres://merlon@db.internal/merlon --workers 4`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.Usagef("worker takes no arguments, got %q", args)
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
	f.StringVar(&opts.DB, "db", "", "the PostgreSQL database shared with 'merlon serve', as a postgres:// URL (required)")
	f.IntVar(&opts.Workers, "workers", 2, "scans this process runs at once")
	f.DurationVar(&opts.JobTimeout, "job-timeout", jobs.DefaultJobTimeout, "cancel a scan attempt that runs longer")
	f.DurationVar(&opts.RescueAfter, "rescue-after", 0, "retry a scan whose worker went silent this long (default: job timeout + 5m)")
	f.StringVar(&opts.ID, "id", "", "name of this worker in job records (default: host name and start time)")
	f.DurationVar(&opts.StopGrace, "stop-grace", jobs.DefaultStopGrace, "on SIGINT or SIGTERM, let running scans finish this long before putting them back to queued")
	f.BoolVar(&opts.AllowPrivateTargets, "allow-private-targets", false, "let webhooks and scheduled scans reach loopback, private, link-local or cloud-metadata addresses")
	f.BoolVarP(&opts.Verbose, "verbose", "v", false, "log every job in detail")
	return cmd
}

// Run works jobs until ctx ends or SIGINT/SIGTERM arrives, then stops as
// `merlon serve` does (see jobs.Runner.Stop); a stop by signal or by ctx
// returns nil.
func Run(ctx context.Context, o *Options) error {
	switch {
	case o.DB == "":
		return cmdutil.Usagef("worker needs --db postgres://...")
	case !jobs.IsPostgres(o.DB):
		return cmdutil.Usagef("--db must be a postgres:// URL: workers on other machines cannot share an SQLite file (one machine needs no worker: 'merlon serve' runs scans itself)")
	case o.Workers < 1:
		return cmdutil.Usagef("--workers must be at least 1, got %d", o.Workers)
	}
	if ctx == nil {
		ctx = context.Background()
	}
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	logger := servecmd.NewLogger(o.IO.ErrOut, o.Verbose)
	runner, err := jobs.Open(ctx, o.DB, jobs.Config{
		Workers:     o.Workers,
		JobTimeout:  o.JobTimeout,
		RescueAfter: o.RescueAfter,
		ID:          o.ID,
		Logger:      logger,
		Version:     cmdutil.Version,

		AllowPrivateTargets: o.AllowPrivateTargets,
	})
	if err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	defer runner.Close()
	if err := runner.Start(ctx); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	fmt.Fprintf(o.IO.ErrOut, "merlon: worker running %d scans at once from %s\n", o.Workers, servecmd.DescribeDB(o.DB))
	<-ctx.Done()
	grace := o.StopGrace
	if grace <= 0 {
		grace = jobs.DefaultStopGrace
	}
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), grace)
	defer cancel()
	if err := runner.Stop(shutCtx); err != nil {
		return fmt.Errorf("worker: %w", err)
	}
	return nil
}
