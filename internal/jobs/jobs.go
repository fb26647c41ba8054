// Package jobs runs Merlon's background work on River
// (github.com/riverqueue/river): scans started from the dashboard or by a
// schedule, signed webhooks, and the scheduler itself. Jobs live in the
// same database as the store: the embedded SQLite file for one machine,
// or PostgreSQL when `merlon worker` processes on several machines share
// the work.
//
// A scan job only carries a scan id; the scan row is the truth. A worker
// that dies mid-scan leaves its job "running" in River's table until
// River's rescuer, after Config.RescueAfter, makes it retryable; the next
// worker runs the scan again. store.SaveReport is idempotent, so a scan's
// report is stored once however often its job runs. A worker that stops
// (Runner.Stop) puts its unfinished scans back to queued at once, and a
// scan whose attempts run out is marked failed, so that no scan is left
// queued or running with no job behind it.
package jobs

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"
	"github.com/riverqueue/river/rivertype"

	"github.com/merlonsec/merlon/internal/netguard"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/store"
	"github.com/merlonsec/merlon/internal/store/postgres"
	"github.com/merlonsec/merlon/internal/store/sqlite"
)

// The queues. Scans are long and get their own, so that webhooks and the
// scheduler never wait behind them.
const (
	QueueScans   = "scans"
	QueueDefault = river.QueueDefault
)

// Defaults of Config.
const (
	// DefaultJobTimeout bounds one scan attempt; the deep profile's own
	// time budget is 30 minutes.
	DefaultJobTimeout = 35 * time.Minute
	// DefaultRescueMargin is how long past the job timeout a running job
	// may go unheard of before River takes it for dead and retries it.
	DefaultRescueMargin = 5 * time.Minute
	// DefaultScheduleEvery is how often the scheduler looks for due targets.
	DefaultScheduleEvery = time.Minute
	// DefaultStopGrace is how long Stop lets running scans finish before
	// it cancels them, when its context has no deadline of its own.
	DefaultStopGrace = 30 * time.Second
	// stopCancelWait bounds how long Stop waits, once it has cancelled the
	// running jobs, for them to put their scans back to queued.
	stopCancelWait = 15 * time.Second
)

// Config tunes a Runner. The zero value is usable: an insert-only runner
// with the defaults.
type Config struct {
	// Workers is how many scans this process runs at once. 0 makes an
	// insert-only runner: it enqueues jobs but never works them (a
	// `merlon serve` in front of separate workers).
	Workers int
	// JobTimeout cancels a scan attempt that runs longer; 0 means
	// DefaultJobTimeout.
	JobTimeout time.Duration
	// RescueAfter is how long a job may stay running before River deems
	// its worker dead and retries it. It must exceed JobTimeout; 0 means
	// JobTimeout + DefaultRescueMargin.
	RescueAfter time.Duration
	// ScheduleEvery is the scheduler's period; 0 means
	// DefaultScheduleEvery, negative disables the scheduler.
	ScheduleEvery time.Duration
	// WebhookBackoff is the wait after a failed webhook attempt (1 for the
	// first); nil means DefaultWebhookBackoff.
	WebhookBackoff func(attempt int) time.Duration
	// WebhookAttempts caps the attempts of one webhook; 0 means
	// DefaultWebhookAttempts.
	WebhookAttempts int
	// ScanAttempts caps the attempts of one scan; 0 means
	// DefaultScanAttempts.
	ScanAttempts int
	// ScanRetryDelay is the wait before a failed scan attempt is retried;
	// 0 keeps River's backoff (about 1 s, then 16 s).
	ScanRetryDelay time.Duration
	// HTTPClient sends webhooks; nil means a client with a 30 s timeout
	// that does not follow redirects and, unless AllowPrivateTargets,
	// refuses at connect time to reach an internal address.
	HTTPClient *http.Client
	// AllowPrivateTargets lets webhooks and scheduled scans reach
	// loopback, private, link-local and cloud-internal addresses, as
	// `--allow-private-targets` does for the server. Give every process of
	// one installation the same setting.
	AllowPrivateTargets bool
	// lookup resolves host names for the private-address rule; nil is
	// the system resolver. Tests set it to make a name point inside.
	lookup netguard.Lookup
	// Checks are the checks scans choose from; nil means checks.All().
	Checks []scan.Check
	// ID names this process in River's job rows (attempted_by); empty
	// lets River pick one from the host name and start time.
	ID string
	// Logger receives River's and the workers' logs; nil discards.
	Logger *slog.Logger
	// Version goes into reports and the webhook User-Agent.
	Version string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (c Config) webhookBackoff(attempt int) time.Duration {
	if c.WebhookBackoff != nil {
		return c.WebhookBackoff(attempt)
	}
	return DefaultWebhookBackoff(attempt)
}

// queue is what the Runner needs of a river.Client, whatever its driver.
type queue interface {
	Insert(ctx context.Context, args river.JobArgs, opts *river.InsertOpts) (*rivertype.JobInsertResult, error)
	Start(ctx context.Context) error
	Stop(ctx context.Context) error
	StopAndCancel(ctx context.Context) error
	JobList(ctx context.Context, params *river.JobListParams) (*river.JobListResult, error)
}

// Runner enqueues Merlon's jobs and, unless insert-only, works them. It
// implements web.Enqueuer.
type Runner struct {
	store   store.Store
	client  queue
	cfg     Config
	hc      *http.Client
	closers []func() error
	// stopping is set once Stop gives up waiting and cancels the running
	// jobs: a scan interrupted then goes back to the queue without using
	// up one of its attempts.
	stopping atomic.Bool
}

// Open opens the store and the job queue at dsn: a postgres:// (or
// postgresql://) URL, or else the path of an SQLite file (empty for
// store.DefaultPath). It migrates both schemas. Close the Runner to close
// them.
func Open(ctx context.Context, dsn string, cfg Config) (*Runner, error) {
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn, cfg)
	}
	path := strings.TrimPrefix(dsn, "sqlite:")
	if path == "" {
		p, err := store.DefaultPath(os.Getenv)
		if err != nil {
			return nil, err
		}
		path = p
	}
	return openSQLite(ctx, path, cfg)
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

func openSQLite(ctx context.Context, path string, cfg Config) (*Runner, error) {
	st, err := sqlite.Open(ctx, path)
	if err != nil {
		return nil, err
	}
	// River gets a pool of its own on the same file, one connection wide:
	// SQLite has one writer, and River's maintenance would otherwise
	// trip over itself with SQLITE_BUSY. Transactions begin IMMEDIATE so
	// that a reader never has to upgrade to a writer mid-transaction.
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		st.Close()
		return nil, fmt.Errorf("open job queue: %w", err)
	}
	db.SetMaxOpenConns(1)
	r, err := NewSQLite(ctx, st, db, cfg)
	if err != nil {
		db.Close()
		st.Close()
		return nil, err
	}
	r.closers = append(r.closers, db.Close, st.Close)
	return r, nil
}

func openPostgres(ctx context.Context, dsn string, cfg Config) (*Runner, error) {
	st, err := postgres.Open(ctx, dsn)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		st.Close()
		// pgx errors may echo the DSN, which may hold a password.
		return nil, fmt.Errorf("open job queue: invalid postgres DSN")
	}
	r, err := NewPostgres(ctx, st, pool, cfg)
	if err != nil {
		pool.Close()
		st.Close()
		return nil, err
	}
	r.closers = append(r.closers, func() error { pool.Close(); return nil }, st.Close)
	return r, nil
}

// NewSQLite migrates River's tables in db (an SQLite database) and builds a
// Runner over it and st. The caller keeps ownership of st and db.
func NewSQLite(ctx context.Context, st store.Store, db *sql.DB, cfg Config) (*Runner, error) {
	driver := riversqlite.New(db)
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return nil, fmt.Errorf("migrate job queue: %w", err)
	}
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return nil, fmt.Errorf("migrate job queue: %w", err)
	}
	r := &Runner{store: st, cfg: cfg}
	rc, err := r.riverConfig()
	if err != nil {
		return nil, err
	}
	c, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	r.client = c
	return r, nil
}

// riverMigrationLock is the advisory lock key that serializes River's
// migrations when several Merlon processes start at once ("mrlnjob").
const riverMigrationLock = 0x6d726c6e6a6f62

// NewPostgres migrates River's tables in the database of pool and builds a
// Runner over it and st. The caller keeps ownership of st and pool.
func NewPostgres(ctx context.Context, st store.Store, pool *pgxpool.Pool, cfg Config) (*Runner, error) {
	driver := riverpgxv5.New(pool)
	if err := migratePostgres(ctx, pool, driver); err != nil {
		return nil, err
	}
	r := &Runner{store: st, cfg: cfg}
	rc, err := r.riverConfig()
	if err != nil {
		return nil, err
	}
	c, err := river.NewClient(driver, rc)
	if err != nil {
		return nil, fmt.Errorf("job queue: %w", err)
	}
	r.client = c
	return r, nil
}

// migratePostgres runs River's migrations while holding a session
// advisory lock, so that a server and workers starting together do not
// race each other. (One transaction would not do: a River migration adds
// enum values that a later one uses, which PostgreSQL refuses within one
// transaction.)
func migratePostgres(ctx context.Context, pool *pgxpool.Pool, driver *riverpgxv5.Driver) error {
	m, err := rivermigrate.New(driver, nil)
	if err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", int64(riverMigrationLock)); err != nil {
		return fmt.Errorf("migrate job queue: lock: %w", err)
	}
	defer func() {
		_, _ = conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", int64(riverMigrationLock))
	}()
	if _, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return fmt.Errorf("migrate job queue: %w", err)
	}
	return nil
}

// riverConfig builds River's configuration from r.cfg.
func (r *Runner) riverConfig() (*river.Config, error) {
	c := r.cfg
	if c.Workers < 0 {
		return nil, fmt.Errorf("job queue: negative worker count")
	}
	timeout := c.JobTimeout
	if timeout == 0 {
		timeout = DefaultJobTimeout
	}
	rescue := c.RescueAfter
	if rescue == 0 {
		rescue = timeout + DefaultRescueMargin
	}
	if rescue <= timeout {
		return nil, fmt.Errorf("job queue: the rescue delay (%s) must exceed the job timeout (%s), or live jobs would be run twice", rescue, timeout)
	}
	if r.cfg.WebhookAttempts == 0 {
		r.cfg.WebhookAttempts = DefaultWebhookAttempts
	}
	if r.cfg.ScanAttempts == 0 {
		r.cfg.ScanAttempts = DefaultScanAttempts
	}
	if r.cfg.WebhookAttempts < 0 || r.cfg.ScanAttempts < 0 {
		return nil, fmt.Errorf("job queue: negative attempt count")
	}
	r.hc = c.HTTPClient
	if r.hc == nil {
		r.hc = r.webhookClient()
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &ScanWorker{r: r})
	river.AddWorker(workers, &WebhookWorker{r: r})
	river.AddWorker(workers, &ScheduleWorker{r: r})
	logger := c.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	rc := &river.Config{
		ID:                   c.ID,
		Logger:               logger,
		JobTimeout:           timeout,
		RescueStuckJobsAfter: rescue,
		Workers:              workers,
	}
	if c.Workers > 0 {
		rc.Queues = map[string]river.QueueConfig{
			QueueScans:   {MaxWorkers: c.Workers},
			QueueDefault: {MaxWorkers: 4},
		}
		if every := c.ScheduleEvery; every >= 0 {
			if every == 0 {
				every = DefaultScheduleEvery
			}
			rc.PeriodicJobs = []*river.PeriodicJob{river.NewPeriodicJob(
				river.PeriodicInterval(every),
				func() (river.JobArgs, *river.InsertOpts) { return ScheduleArgs{}, nil },
				&river.PeriodicJobOpts{ID: "merlon.schedule", RunOnStart: true},
			)}
		}
	}
	return rc, nil
}

// Store is the store the runner works on.
func (r *Runner) Store() store.Store { return r.store }

// EnqueueScan queues the job that runs the stored scan scanID. The scan
// row must exist, in status queued.
func (r *Runner) EnqueueScan(ctx context.Context, scanID int64) error {
	if _, err := r.client.Insert(ctx, ScanArgs{ScanID: scanID}, &river.InsertOpts{MaxAttempts: r.cfg.ScanAttempts}); err != nil {
		return fmt.Errorf("enqueue scan %d: %w", scanID, err)
	}
	return nil
}

// Start starts working jobs; an insert-only runner has nothing to start.
// It returns once River is running. River would tie its whole life to
// ctx, and cancelling it would kill running scans at once, so the runner
// detaches from ctx's cancellation: only Stop ends it, after a grace
// period.
func (r *Runner) Start(ctx context.Context) error {
	if r.cfg.Workers == 0 {
		return nil
	}
	if err := r.client.Start(context.WithoutCancel(ctx)); err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	return nil
}

// Stop stops taking jobs and lets running ones finish until ctx is done
// (DefaultStopGrace when ctx has no deadline). Then it cancels the jobs
// still running: an interrupted scan goes back to queued and its job is
// made available again at once, without using up an attempt, for another
// worker or the next start. Stop returns nil when everything stopped that
// way; an error means River could not even record the cancelled jobs
// within stopCancelWait, and their scans wait for the rescuer.
func (r *Runner) Stop(ctx context.Context) error {
	if r.cfg.Workers == 0 {
		return nil
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, DefaultStopGrace)
		defer cancel()
	}
	err := r.client.Stop(ctx)
	if err == nil {
		return nil
	}
	if ctx.Err() == nil {
		return fmt.Errorf("stop job queue: %w", err)
	}
	r.stopping.Store(true)
	r.log().Warn("stop: grace period over, cancelling running jobs")
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stopCancelWait)
	defer cancel()
	if err := r.client.StopAndCancel(cctx); err != nil {
		return fmt.Errorf("stop job queue: cancel running jobs: %w", err)
	}
	return nil
}

// Close closes what Open opened. Stop the runner first.
func (r *Runner) Close() error {
	var first error
	for _, c := range r.closers {
		if err := c(); err != nil && first == nil {
			first = err
		}
	}
	r.closers = nil
	return first
}

func (r *Runner) now() time.Time {
	if r.cfg.Now != nil {
		return r.cfg.Now()
	}
	return time.Now()
}

func (r *Runner) log() *slog.Logger {
	if r.cfg.Logger != nil {
		return r.cfg.Logger
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}
