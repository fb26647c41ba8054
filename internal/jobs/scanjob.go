package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/merlonsec/merlon/internal/checks"
	"github.com/merlonsec/merlon/internal/config"
	"github.com/merlonsec/merlon/internal/diff"
	"github.com/merlonsec/merlon/internal/pipeline"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/store"
)

// ScanArgs is the job of running one stored scan. The scan row holds
// everything else, so the job stays small and a retried job scans with
// the settings the target has then.
type ScanArgs struct {
	ScanID int64 `json:"scan_id"`
}

// Kind names the job in River's table.
func (ScanArgs) Kind() string { return "merlon.scan" }

// DefaultScanAttempts is how many times a scan is tried (timeouts, dead
// workers) before it is marked failed.
const DefaultScanAttempts = 3

// InsertOpts puts scans on their own queue, so that long scans never hold
// up webhooks and the scheduler.
func (ScanArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueScans, MaxAttempts: DefaultScanAttempts}
}

// ScanOptions are the per-scan options the store keeps in Scan.Options as
// JSON. Every field is optional.
type ScanOptions struct {
	// Profile is quick, standard (the default) or deep.
	Profile string `json:"profile,omitempty"`
	// Checks and SkipChecks select checks as `merlon scan --checks` does.
	Checks     []string `json:"checks,omitempty"`
	SkipChecks []string `json:"skip_checks,omitempty"`
	// MaxRequests caps the requests sent; 0 takes the profile's default.
	MaxRequests int `json:"max_requests,omitempty"`
	// Rate limits requests per second; 0 for no limit.
	Rate float64 `json:"rate,omitempty"`
}

// ScanWorker runs a stored scan through the pipeline and stores its report.
type ScanWorker struct {
	river.WorkerDefaults[ScanArgs]
	r *Runner
}

// NextRetry waits Config.ScanRetryDelay before a retry when it is set,
// and otherwise leaves River's own backoff (1 s, 16 s, ...).
func (w *ScanWorker) NextRetry(job *river.Job[ScanArgs]) time.Time {
	if d := w.r.cfg.ScanRetryDelay; d > 0 {
		return w.r.now().Add(d)
	}
	return time.Time{}
}

// Work runs the scan of job.Args.ScanID. A scan already final is left
// alone (a duplicate job); a scan whose report is stored but whose status
// was not updated (the worker died in between) is only marked done. An
// error that retrying cannot fix (bad input, target gone) fails the scan
// and completes the job. An interruption puts the scan back to queued
// and returns an error so that River retries it, except on the job's last
// attempt, where the scan is failed with the reason. An interruption by
// Runner.Stop snoozes the job instead: it is available again at once and
// keeps its attempts, since the scan itself did nothing wrong.
func (w *ScanWorker) Work(ctx context.Context, job *river.Job[ScanArgs]) error {
	err := w.work(ctx, job)
	var cancelled *rivertype.JobCancelError
	if err != nil && ctx.Err() != nil && !w.r.stopping.Load() && !errors.Is(err, errInterrupted) && !errors.As(err, &cancelled) {
		// The timeout struck a store call around the scan rather than
		// the scan itself: the same interruption, recorded the same way,
		// so a last attempt still ends the scan failed.
		return w.r.interrupted(context.WithoutCancel(ctx), job.Args.ScanID, job.JobRow, context.Cause(ctx))
	}
	if err != nil && ctx.Err() != nil && w.r.stopping.Load() {
		if errors.As(err, &cancelled) {
			return err
		}
		return river.JobSnooze(0)
	}
	return err
}

func (w *ScanWorker) work(ctx context.Context, job *river.Job[ScanArgs]) error {
	r := w.r
	id := job.Args.ScanID
	s, err := r.store.GetScan(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return river.JobCancel(fmt.Errorf("scan %d: %w", id, err))
	}
	if err != nil {
		return fmt.Errorf("scan %d: %w", id, err)
	}
	if s.Status.Final() {
		return nil
	}
	if !s.HasReport {
		if err := r.runScan(ctx, s, job.JobRow); err != nil {
			return err
		}
	}
	// Progress first: readers take the done status as the end, so nothing
	// may change after it.
	if err := r.store.UpdateScanProgress(ctx, id, 100, "done"); err != nil {
		return fmt.Errorf("scan %d: %w", id, err)
	}
	if err := r.store.UpdateScanStatus(ctx, id, store.StatusDone, ""); err != nil {
		return fmt.Errorf("scan %d: mark done: %w", id, err)
	}
	if err := r.notify(ctx, s.TargetID, id); err != nil {
		// The scan is stored; a failed notification must not rerun it.
		r.log().Error("scan notify", "scan", id, "err", err)
	}
	return nil
}

// errPermanent wraps the failures retrying will not fix.
type errPermanent struct{ error }

func (r *Runner) runScan(ctx context.Context, s *store.Scan, job *rivertype.JobRow) error {
	attempt := job.Attempt
	id := s.ID
	fail := func(err error) error {
		if uerr := r.store.UpdateScanStatus(ctx, id, store.StatusFailed, err.Error()); uerr != nil {
			return fmt.Errorf("scan %d: %w", id, errors.Join(err, uerr))
		}
		r.log().Warn("scan failed", "scan", id, "err", err)
		return river.JobCancel(err)
	}
	t, err := r.store.GetTarget(ctx, s.TargetID)
	if errors.Is(err, store.ErrNotFound) {
		return fail(fmt.Errorf("target %d no longer exists", s.TargetID))
	}
	if err != nil {
		return fmt.Errorf("scan %d: %w", id, err)
	}
	cfg, err := r.pipelineConfig(t, s)
	if err != nil {
		return fail(err)
	}
	msg := ""
	if attempt > 1 {
		msg = fmt.Sprintf("attempt %d", attempt)
	}
	if err := r.store.UpdateScanStatus(ctx, id, store.StatusRunning, msg); err != nil {
		return fmt.Errorf("scan %d: %w", id, err)
	}
	cfg.Progress = r.progress(ctx, id)
	rep, err := pipeline.Run(ctx, cfg)
	if ctx.Err() != nil {
		// Shutdown or the job timeout: whatever was found is incomplete.
		// Leave the scan for the retry instead of storing half a report,
		// unless no retry is left.
		return r.interrupted(context.WithoutCancel(ctx), id, job, context.Cause(ctx))
	}
	if err != nil {
		return fail(err)
	}
	if err := r.store.SaveReport(ctx, id, rep); err != nil {
		return fmt.Errorf("scan %d: save report: %w", id, err)
	}
	return nil
}

// interrupted records why scan id stopped before its end and returns the
// job's error. A stopping runner puts the scan back to queued (Work then
// snoozes the job); otherwise the attempt counts, and on the last one the
// scan fails, since River will not run the job again.
func (r *Runner) interrupted(ctx context.Context, id int64, job *rivertype.JobRow, cause error) error {
	why := "interrupted"
	if errors.Is(cause, context.DeadlineExceeded) {
		why = "timed out"
	}
	status, msg := store.StatusQueued, why+"; will retry"
	switch {
	case r.stopping.Load():
		msg = "interrupted: the worker stopped; queued again"
	case job.Attempt >= job.MaxAttempts:
		status = store.StatusFailed
		msg = fmt.Sprintf("%s on attempt %d of %d; not retried", why, job.Attempt, job.MaxAttempts)
	}
	if err := r.store.UpdateScanStatus(ctx, id, status, msg); err != nil {
		r.log().Error("scan interrupted: record status", "scan", id, "err", err)
	}
	if status == store.StatusFailed {
		r.log().Warn("scan failed", "scan", id, "reason", msg)
	}
	return fmt.Errorf("scan %d %s: %w: %w", id, why, errInterrupted, cause)
}

// errInterrupted marks the error interrupted returns.
var errInterrupted = errors.New("interrupted")

// reap fails the scans whose job River gave up on without the scan
// hearing of it: a worker killed on the last attempt (River's rescuer
// discards the job), or a store error on the last attempt. It looks at the
// most recently discarded scan jobs only; each run of the scheduler calls
// it, so none is missed for long. A scan whose report was stored is marked
// done instead.
func (r *Runner) reap(ctx context.Context) error {
	res, err := r.client.JobList(ctx, river.NewJobListParams().
		Kinds(ScanArgs{}.Kind()).
		States(rivertype.JobStateDiscarded).
		OrderBy(river.JobListOrderByFinalizedAt, river.SortOrderDesc).
		First(100))
	if err != nil {
		return fmt.Errorf("reap scans: %w", err)
	}
	var errs []error
	for _, j := range res.Jobs {
		var a ScanArgs
		if err := json.Unmarshal(j.EncodedArgs, &a); err != nil {
			continue
		}
		s, err := r.store.GetScan(ctx, a.ScanID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("reap scan %d: %w", a.ScanID, err))
			continue
		}
		if s.Status.Final() {
			continue
		}
		status, msg := store.StatusFailed, fmt.Sprintf("gave up after %d attempts", j.Attempt)
		if n := len(j.Errors); n > 0 && j.Errors[n-1].Error != "" {
			msg += "; last error: " + j.Errors[n-1].Error
		} else if j.Attempt > 0 {
			msg += "; the worker stopped answering"
		}
		if s.HasReport {
			status, msg = store.StatusDone, ""
			if err := r.store.UpdateScanProgress(ctx, s.ID, 100, "done"); err != nil {
				errs = append(errs, fmt.Errorf("reap scan %d: %w", s.ID, err))
				continue
			}
		}
		if err := r.store.UpdateScanStatus(ctx, s.ID, status, msg); err != nil {
			errs = append(errs, fmt.Errorf("reap scan %d: %w", s.ID, err))
			continue
		}
		r.log().Warn("scan job discarded", "scan", s.ID, "status", status, "reason", msg)
	}
	return errors.Join(errs...)
}

// progress returns a pipeline callback that records progress on the scan
// row, at most twice a second and on every phase change: the dashboard
// polls the row, and a write per request would swamp the database.
func (r *Runner) progress(ctx context.Context, id int64) func(pipeline.Progress) {
	var mu sync.Mutex
	var last time.Time
	lastPhase := ""
	return func(p pipeline.Progress) {
		mu.Lock()
		defer mu.Unlock()
		now := time.Now()
		if p.Phase == lastPhase && now.Sub(last) < 500*time.Millisecond {
			return
		}
		last, lastPhase = now, p.Phase
		pct, msg := progressOf(p)
		if err := r.store.UpdateScanProgress(ctx, id, pct, msg); err != nil && ctx.Err() == nil {
			r.log().Warn("scan progress", "scan", id, "err", err)
		}
	}
}

// progressOf maps the pipeline's phases onto a percentage: the checks are
// most of the work.
func progressOf(p pipeline.Progress) (int, string) {
	switch p.Phase {
	case "preflight":
		return 2, "checking the target answers"
	case "inventory":
		return 10, "building the operation inventory"
	case "checks":
		pct := 20
		if p.ChecksTotal > 0 {
			pct += 75 * p.ChecksDone / p.ChecksTotal
		}
		return pct, fmt.Sprintf("running checks (%d of %d, %d requests)", p.ChecksDone, p.ChecksTotal, p.Requests)
	case "done":
		return 99, "scoring"
	}
	return 0, p.Phase
}

// pipelineConfig builds the scan's settings from its target and options.
func (r *Runner) pipelineConfig(t *store.Target, s *store.Scan) (pipeline.Config, error) {
	var cfg pipeline.Config
	u, err := pipeline.ParseTarget(t.URL)
	if err != nil {
		return cfg, err
	}
	var opts ScanOptions
	if len(s.Options) > 0 && string(s.Options) != "null" {
		if err := json.Unmarshal(s.Options, &opts); err != nil {
			return cfg, fmt.Errorf("scan options: %w", err)
		}
	}
	switch p := scan.Profile(strings.ToLower(opts.Profile)); p {
	case "":
		cfg.Profile = scan.Standard
	case scan.Quick, scan.Standard, scan.Deep:
		cfg.Profile = p
	default:
		return cfg, fmt.Errorf("unknown profile %q", opts.Profile)
	}
	all := r.cfg.Checks
	if all == nil {
		all = checks.All()
	}
	sel, err := checks.Select(all, opts.Checks, opts.SkipChecks)
	if err != nil {
		return cfg, err
	}
	if len(sel) == 0 {
		return cfg, fmt.Errorf("the scan options leave no check to run")
	}
	cfg.Target = u
	cfg.Spec = t.Spec
	cfg.Active = s.Active
	cfg.Checks = sel
	cfg.MaxRequests = opts.MaxRequests
	cfg.Rate = opts.Rate
	cfg.Concurrency = 4
	cfg.Timeout = 15 * time.Second
	cfg.ToolVersion = r.cfg.Version
	cfg.Logger = r.cfg.Logger
	cfg.Headers = http.Header{}
	if err := applyIdentities(&cfg, t.Identities); err != nil {
		return cfg, err
	}
	return cfg, nil
}

// notify diffs the scan against the previous reported scan of its target
// and enqueues a webhook for new findings and one for a grade drop.
func (r *Runner) notify(ctx context.Context, targetID, scanID int64) error {
	t, err := r.store.GetTarget(ctx, targetID)
	if err != nil {
		return err
	}
	if t.WebhookURL == "" {
		return nil
	}
	latest, err := r.store.LatestReported(ctx, targetID)
	if err != nil {
		return err
	}
	// Only the newest scan speaks for the target: an older scan finishing
	// late must not report a "drop" against a newer one.
	if len(latest) < 2 || latest[0].ID != scanID {
		return nil
	}
	cur, prev := latest[0], latest[1]
	newRep, err := r.store.GetReport(ctx, cur.ID)
	if err != nil {
		return err
	}
	oldRep, err := r.store.GetReport(ctx, prev.ID)
	if err != nil {
		return err
	}
	d := diff.Compare(oldRep, newRep)
	base := Payload{
		Target:   PayloadTarget{ID: t.ID, Name: t.Name, URL: t.URL},
		Scan:     PayloadScan{ID: cur.ID, Score: cur.Score, Grade: cur.Grade, Findings: cur.Findings},
		Previous: PayloadScan{ID: prev.ID, Score: prev.Score, Grade: prev.Grade, Findings: prev.Findings},
		Fixed:    len(d.Fixed),
	}
	base.NewFindings = []PayloadFinding{}
	for _, f := range d.New {
		if f.Suppressed != nil {
			continue
		}
		base.NewFindings = append(base.NewFindings, PayloadFinding{
			Fingerprint: f.Fingerprint, CheckID: f.CheckID, Title: f.Title,
			Severity: f.Severity.String(), Confidence: f.Confidence.String(), Operation: f.Operation,
		})
	}
	var events []string
	if len(base.NewFindings) > 0 {
		events = append(events, EventNewFindings)
	}
	if GradeDropped(prev.Grade, cur.Grade) {
		events = append(events, EventGradeDrop)
	}
	var errs []error
	for _, ev := range events {
		p := base
		p.Event = ev
		body, err := json.Marshal(p)
		if err != nil {
			return err
		}
		args := WebhookArgs{TargetID: t.ID, ScanID: cur.ID, Event: ev, Payload: body}
		if _, err := r.enqueueWebhook(ctx, args); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// GradeDropped reports whether grade now is worse than grade before (A is
// best, F worst). An unknown grade never counts as a drop.
func GradeDropped(before, now string) bool {
	rank := func(g string) int { return strings.Index("ABCDF", strings.ToUpper(strings.TrimSpace(g))) }
	b, n := rank(before), rank(now)
	if len(strings.TrimSpace(before)) != 1 || len(strings.TrimSpace(now)) != 1 || b < 0 || n < 0 {
		return false
	}
	return n > b
}

// applyIdentities reads a target's identities configuration: the
// merlon.yaml document (as YAML or JSON text, or as a JSON object), or just
// its identities list as a JSON array. ${VAR} references are refused, not
// expanded: a dashboard user must not be able to read the worker's
// environment by sending it to a target of their choosing.
func applyIdentities(cfg *pipeline.Config, raw json.RawMessage) error {
	doc := []byte(strings.TrimSpace(string(raw)))
	if len(doc) == 0 || string(doc) == "null" {
		return nil
	}
	switch doc[0] {
	case '"':
		var s string
		if err := json.Unmarshal(doc, &s); err != nil {
			return fmt.Errorf("identities: %w", err)
		}
		doc = []byte(s)
	case '[':
		doc = append(append([]byte(`{"identities":`), doc...), '}')
	}
	if strings.TrimSpace(string(doc)) == "" {
		return nil
	}
	f, err := config.Parse(doc, func(string) (string, bool) { return "", false })
	if err != nil {
		return fmt.Errorf("identities: %w", err)
	}
	for k, v := range f.Headers {
		cfg.Headers.Set(k, v)
	}
	for _, fi := range f.Identities {
		id, a, err := pipeline.IdentityFromConfig(fi)
		if err != nil {
			return fmt.Errorf("identity %q: %w", fi.Name, err)
		}
		cfg.Identities = append(cfg.Identities, id)
		if a.Login != nil || a.CheckPath != "" {
			if cfg.Auth == nil {
				cfg.Auth = map[string]pipeline.Auth{}
			}
			cfg.Auth[id.Name] = a
		}
	}
	return nil
}
