package scancmd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/store"
	"github.com/merlonsec/merlon/internal/store/open"
)

// saveTimeout bounds storing a report. It runs on a context detached from
// Ctrl-C, so an interrupted scan still keeps what it found.
const saveTimeout = 30 * time.Second

// save stores rep as a finished CLI scan in the database of --db (or the
// default path), creating the target on first use. It returns the database
// as a message can show it and the new scan's ID.
func save(ctx context.Context, o *Options, rep *scan.Report, interrupted bool) (where string, id int64, err error) {
	dsn := o.DB
	if dsn == "" {
		if dsn, err = store.DefaultPath(os.Getenv); err != nil {
			return "", 0, fmt.Errorf("save scan: %w", err)
		}
	}
	where = open.Describe(dsn)
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), saveTimeout)
	defer cancel()
	st, err := open.Open(ctx, dsn)
	if err != nil {
		return where, 0, fmt.Errorf("save scan: %w", err)
	}
	defer st.Close()

	t, err := target(ctx, st, rep.Target)
	if err != nil {
		return where, 0, fmt.Errorf("save scan: %w", err)
	}
	opts, err := json.Marshal(map[string]any{"profile": rep.Profile, "spec": o.Spec})
	if err != nil {
		return where, 0, fmt.Errorf("save scan: %w", err)
	}
	started := rep.StartedAt
	sc := &store.Scan{TargetID: t.ID, Status: store.StatusRunning, RequestedBy: "cli", Active: rep.Active,
		Options: opts, Progress: 100, StartedAt: &started}
	if err := st.CreateScan(ctx, sc); err != nil {
		return where, 0, fmt.Errorf("save scan: %w", err)
	}
	if err := st.SaveReport(ctx, sc.ID, rep); err != nil {
		return where, 0, fmt.Errorf("save scan: %w", err)
	}
	status, msg := store.StatusDone, ""
	if interrupted || rep.Interrupted {
		status, msg = store.StatusCancelled, "interrupted; the report holds what was found until then"
	}
	if err := st.UpdateScanStatus(ctx, sc.ID, status, msg); err != nil {
		return where, 0, fmt.Errorf("save scan: %w", err)
	}
	return where, sc.ID, nil
}

// target finds the stored target of base URL u, or creates it named after
// its host. Two scans saving at once may both try to create it; the loser
// takes the winner's.
func target(ctx context.Context, st store.TargetStore, u string) (*store.Target, error) {
	t, err := st.GetTargetByURL(ctx, u)
	if !errors.Is(err, store.ErrNotFound) {
		return t, err
	}
	name := u
	if p, err := url.Parse(u); err == nil && p.Host != "" {
		name = p.Host
	}
	t = &store.Target{Name: name, URL: u}
	err = st.CreateTarget(ctx, t)
	if errors.Is(err, store.ErrConflict) {
		return st.GetTargetByURL(ctx, u)
	}
	return t, err
}
