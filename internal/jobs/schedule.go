package jobs

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/merlonsec/merlon/internal/store"
)

// MinInterval is the shortest interval schedule Merlon accepts: the
// scheduler itself only wakes up about once a minute.
const MinInterval = time.Minute

// ErrNoSchedule is returned by NextRun for a target with neither an
// interval nor a cron expression.
var ErrNoSchedule = errors.New("target has no schedule")

// ValidateSchedule checks a target's schedule settings as a person entered
// them: an interval of at least MinInterval (or none), a cron expression
// that parses and matches some day, and not both at once.
func ValidateSchedule(s store.TargetSettings) error {
	if s.IntervalSeconds < 0 {
		return fmt.Errorf("schedule: negative interval")
	}
	if s.IntervalSeconds > 0 && time.Duration(s.IntervalSeconds)*time.Second < MinInterval {
		return fmt.Errorf("schedule: interval must be at least %s", MinInterval)
	}
	if s.IntervalSeconds > 0 && s.Cron != "" {
		return fmt.Errorf("schedule: give an interval or a cron expression, not both")
	}
	if s.Cron != "" {
		c, err := ParseCron(s.Cron)
		if err != nil {
			return fmt.Errorf("schedule: %w", err)
		}
		if c.Next(time.Now()).IsZero() {
			return fmt.Errorf("schedule: cron %q never matches", s.Cron)
		}
	}
	return nil
}

// NextRun returns when a target with settings s should next be scanned,
// strictly after now. An interval schedule keeps its rhythm: it steps from
// the previous NextRunAt (when set) so that runs do not drift later by the
// scheduler's own delay, skipping the runs missed while nothing ran.
// A cron schedule is evaluated in UTC.
func NextRun(s store.TargetSettings, now time.Time) (time.Time, error) {
	now = now.UTC()
	switch {
	case s.Cron != "":
		c, err := ParseCron(s.Cron)
		if err != nil {
			return time.Time{}, err
		}
		next := c.Next(now)
		if next.IsZero() {
			return time.Time{}, fmt.Errorf("cron %q never matches", s.Cron)
		}
		return next, nil
	case s.IntervalSeconds > 0:
		iv := time.Duration(s.IntervalSeconds) * time.Second
		if s.NextRunAt == nil || s.NextRunAt.After(now) {
			return now.Add(iv), nil
		}
		prev := s.NextRunAt.UTC()
		missed := now.Sub(prev)/iv + 1
		return prev.Add(missed * iv), nil
	}
	return time.Time{}, ErrNoSchedule
}

// ScheduleArgs is the periodic job that starts the scans of targets that
// are due. River runs it on the leader only, so one process schedules.
type ScheduleArgs struct{}

// Kind names the job in River's table.
func (ScheduleArgs) Kind() string { return "merlon.schedule" }

// InsertOpts keeps the scheduler on the small-jobs queue and never retries
// it: the next tick comes soon anyway.
func (ScheduleArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: QueueDefault, MaxAttempts: 1}
}

// ScheduleWorker creates and enqueues a scan for every due target.
type ScheduleWorker struct {
	river.WorkerDefaults[ScheduleArgs]
	r *Runner
}

// Work runs one scheduler tick, then fails the scans whose jobs River
// gave up on (see reap).
func (w *ScheduleWorker) Work(ctx context.Context, job *river.Job[ScheduleArgs]) error {
	_, err := w.r.Tick(ctx)
	return errors.Join(err, w.r.reap(ctx))
}

// checkTargetURLs applies the private-address rule to a target's URL and
// to its spec when that is a URL.
func (r *Runner) checkTargetURLs(ctx context.Context, t *store.Target) error {
	if err := r.checkURL(ctx, "target URL", t.URL); err != nil {
		return err
	}
	// Scheme case does not matter to the loader (HTTP://… is fetched),
	// so it must not matter here.
	if u, err := url.Parse(strings.TrimSpace(t.Spec)); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		return r.checkURL(ctx, "spec URL", t.Spec)
	}
	return nil
}

// Tick starts the scans that are due now and returns their ids; a scan
// refused by the private-address rule is created failed and not returned. It also
// gives scheduled targets that have no next run yet (a schedule just set)
// their first one. Each due target's next run is moved forward before its
// scan is created, so that a crash in between skips a run rather than
// scanning twice.
func (r *Runner) Tick(ctx context.Context) ([]int64, error) {
	now := r.now()
	all, err := r.store.ListTargets(ctx)
	if err != nil {
		return nil, fmt.Errorf("schedule: list targets: %w", err)
	}
	var errs []error
	for _, t := range all {
		if !t.Scheduled() || t.NextRunAt != nil {
			continue
		}
		next, err := NextRun(t.TargetSettings, now)
		if err != nil {
			errs = append(errs, fmt.Errorf("schedule target %d: %w", t.ID, err))
			continue
		}
		if err := r.store.SetNextRun(ctx, t.ID, &next); err != nil {
			errs = append(errs, fmt.Errorf("schedule target %d: %w", t.ID, err))
		}
	}
	due, err := r.store.DueTargets(ctx, now)
	if err != nil {
		return nil, fmt.Errorf("schedule: due targets: %w", err)
	}
	var ids []int64
	for _, t := range due {
		next, err := NextRun(t.TargetSettings, now)
		if err != nil {
			// A schedule that no longer parses stops rather than firing
			// every minute.
			r.log().Warn("schedule: invalid schedule, disabling", "target", t.ID, "err", err)
			if err := r.store.SetNextRun(ctx, t.ID, nil); err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := r.store.SetNextRun(ctx, t.ID, &next); err != nil {
			errs = append(errs, fmt.Errorf("schedule target %d: %w", t.ID, err))
			continue
		}
		s := &store.Scan{TargetID: t.ID, Status: store.StatusQueued, RequestedBy: "schedule"}
		if err := r.store.CreateScan(ctx, s); err != nil {
			errs = append(errs, fmt.Errorf("schedule target %d: create scan: %w", t.ID, err))
			continue
		}
		// The URLs were checked when the target was saved, but a name may
		// resolve elsewhere now: check again, as the server would for a
		// scan started by hand. A refused scan is kept, failed, so the
		// target's page says why its monitoring stopped finding things.
		if err := r.checkTargetURLs(ctx, &t); err != nil {
			r.log().Warn("schedule: target refused", "target", t.ID, "scan", s.ID, "err", err)
			if err := r.store.UpdateScanStatus(ctx, s.ID, store.StatusFailed, err.Error()); err != nil {
				errs = append(errs, fmt.Errorf("schedule target %d: %w", t.ID, err))
			}
			continue
		}
		if err := r.EnqueueScan(ctx, s.ID); err != nil {
			errs = append(errs, fmt.Errorf("schedule target %d: %w", t.ID, err))
			continue
		}
		r.log().Info("scheduled scan", "target", t.ID, "scan", s.ID, "next", next)
		ids = append(ids, s.ID)
	}
	return ids, errors.Join(errs...)
}
