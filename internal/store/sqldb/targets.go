package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/merlonsec/merlon/internal/store"
)

const targetCols = `id, name, url, spec, identities, interval_seconds, cron,
	webhook_url, webhook_secret, next_run_at, created_at, updated_at`

func scanTarget(r rowScanner, t *store.Target) error {
	var (
		ident            sql.NullString
		next             sql.NullInt64
		created, updated int64
	)
	if err := r.Scan(&t.ID, &t.Name, &t.URL, &t.Spec, &ident, &t.IntervalSeconds, &t.Cron,
		&t.WebhookURL, &t.WebhookSecret, &next, &created, &updated); err != nil {
		return err
	}
	t.Identities = rawJSON(ident)
	t.NextRunAt = timePtr(next)
	t.CreatedAt = fromMicro(created)
	t.UpdatedAt = fromMicro(updated)
	return nil
}

// CreateTarget implements store.TargetStore.
func (s *DB) CreateTarget(ctx context.Context, t *store.Target) error {
	if t.URL == "" {
		return fmt.Errorf("create target: empty url: %w", store.ErrInvalid)
	}
	now := fromMicro(micro(s.now()))
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO targets
	(name, url, spec, identities, interval_seconds, cron, webhook_url, webhook_secret, next_run_at, created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		t.Name, t.URL, t.Spec, nullText(t.Identities), t.IntervalSeconds, t.Cron,
		t.WebhookURL, t.WebhookSecret, microPtr(t.NextRunAt), micro(now), micro(now)).Scan(&t.ID)
	if err != nil {
		return s.mapErr("create target", err)
	}
	t.CreatedAt, t.UpdatedAt = now, now
	return nil
}

// GetTarget implements store.TargetStore.
func (s *DB) GetTarget(ctx context.Context, id int64) (*store.Target, error) {
	var t store.Target
	err := scanTarget(s.db.QueryRowContext(ctx, s.q(`SELECT `+targetCols+` FROM targets WHERE id = ?`), id), &t)
	if err != nil {
		return nil, s.mapErr(fmt.Sprintf("get target %d", id), err)
	}
	return &t, nil
}

// GetTargetByURL implements store.TargetStore.
func (s *DB) GetTargetByURL(ctx context.Context, url string) (*store.Target, error) {
	var t store.Target
	err := scanTarget(s.db.QueryRowContext(ctx, s.q(`SELECT `+targetCols+` FROM targets WHERE url = ?`), url), &t)
	if err != nil {
		return nil, s.mapErr("get target by url", err)
	}
	return &t, nil
}

// ListTargets implements store.TargetStore. It takes two queries whatever
// the number of targets: the targets, then the latest HistoryLen reported
// scans of each through a window function.
func (s *DB) ListTargets(ctx context.Context) ([]store.TargetSummary, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+targetCols+` FROM targets ORDER BY name, url`)
	if err != nil {
		return nil, fmt.Errorf("list targets: %w", err)
	}
	var out []store.TargetSummary
	index := map[int64]int{}
	for rows.Next() {
		var ts store.TargetSummary
		if err := scanTarget(rows, &ts.Target); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list targets: %w", err)
		}
		index[ts.ID] = len(out)
		out = append(out, ts)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list targets: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	// Each target's last HistoryLen reported scans, found by a per-target
	// LIMIT on the (target_id, id) index: the cost follows the number of
	// targets, not the number of stored scans.
	rows, err = s.db.QueryContext(ctx, s.q(`SELECT s.target_id, s.id, s.score, s.grade, s.reported_at
FROM targets t JOIN scans s ON s.id IN (
	SELECT id FROM scans WHERE target_id = t.id AND has_report ORDER BY id DESC LIMIT ?
) ORDER BY s.target_id, s.id`), store.HistoryLen)
	if err != nil {
		return nil, fmt.Errorf("list targets: score history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			targetID int64
			p        store.ScorePoint
			at       sql.NullInt64
		)
		if err := rows.Scan(&targetID, &p.ScanID, &p.Score, &p.Grade, &at); err != nil {
			return nil, fmt.Errorf("list targets: score history: %w", err)
		}
		if at.Valid {
			p.At = fromMicro(at.Int64)
		}
		i, ok := index[targetID]
		if !ok {
			continue // created after the first query
		}
		ts := &out[i]
		ts.History = append(ts.History, p)
		ts.LatestScanID, ts.Score, ts.Grade = p.ScanID, p.Score, p.Grade
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list targets: score history: %w", err)
	}
	return out, nil
}

// UpdateTarget implements store.TargetStore.
func (s *DB) UpdateTarget(ctx context.Context, t *store.Target) error {
	now := fromMicro(micro(s.now()))
	err := s.execOne(ctx, fmt.Sprintf("update target %d", t.ID), `UPDATE targets SET
	name = ?, spec = ?, identities = ?, interval_seconds = ?, cron = ?,
	webhook_url = ?, webhook_secret = ?, next_run_at = ?, updated_at = ?
	WHERE id = ?`,
		t.Name, t.Spec, nullText(t.Identities), t.IntervalSeconds, t.Cron,
		t.WebhookURL, t.WebhookSecret, microPtr(t.NextRunAt), micro(now), t.ID)
	if err != nil {
		return err
	}
	t.UpdatedAt = now
	return nil
}

// DeleteTarget implements store.TargetStore.
func (s *DB) DeleteTarget(ctx context.Context, id int64) error {
	return s.execOne(ctx, fmt.Sprintf("delete target %d", id), `DELETE FROM targets WHERE id = ?`, id)
}

// DueTargets implements store.TargetStore.
func (s *DB) DueTargets(ctx context.Context, now time.Time) ([]store.Target, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+targetCols+` FROM targets
	WHERE next_run_at IS NOT NULL AND next_run_at <= ? AND (interval_seconds > 0 OR cron <> '')
	ORDER BY next_run_at, id`), micro(now))
	if err != nil {
		return nil, fmt.Errorf("due targets: %w", err)
	}
	defer rows.Close()
	var out []store.Target
	for rows.Next() {
		var t store.Target
		if err := scanTarget(rows, &t); err != nil {
			return nil, fmt.Errorf("due targets: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("due targets: %w", err)
	}
	return out, nil
}

// SetNextRun implements store.TargetStore.
func (s *DB) SetNextRun(ctx context.Context, targetID int64, at *time.Time) error {
	return s.execOne(ctx, fmt.Sprintf("set next run of target %d", targetID),
		`UPDATE targets SET next_run_at = ? WHERE id = ?`, microPtr(at), targetID)
}
