package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/store"
)

const scanCols = `id, target_id, status, requested_by, active, options, progress, message,
	has_report, score, grade, findings, created_at, started_at, finished_at`

func scanScan(r rowScanner, sc *store.Scan) error {
	var (
		status            string
		opts              sql.NullString
		created           int64
		started, finished sql.NullInt64
	)
	if err := r.Scan(&sc.ID, &sc.TargetID, &status, &sc.RequestedBy, &sc.Active, &opts, &sc.Progress, &sc.Message,
		&sc.HasReport, &sc.Score, &sc.Grade, &sc.Findings, &created, &started, &finished); err != nil {
		return err
	}
	sc.Status = store.ScanStatus(status)
	sc.Options = rawJSON(opts)
	sc.CreatedAt = fromMicro(created)
	sc.StartedAt = timePtr(started)
	sc.FinishedAt = timePtr(finished)
	return nil
}

func (s *DB) queryScans(ctx context.Context, what, query string, args ...any) ([]store.Scan, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []store.Scan{}
	for rows.Next() {
		var sc store.Scan
		if err := scanScan(rows, &sc); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, sc)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// CreateScan implements store.ScanStore.
func (s *DB) CreateScan(ctx context.Context, sc *store.Scan) error {
	if sc.Status == "" {
		sc.Status = store.StatusQueued
	}
	if !sc.Status.Valid() {
		return fmt.Errorf("create scan: status %q: %w", sc.Status, store.ErrInvalid)
	}
	now := fromMicro(micro(s.now()))
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO scans
	(target_id, status, requested_by, active, options, progress, message, created_at, started_at, finished_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		sc.TargetID, string(sc.Status), sc.RequestedBy, sc.Active, nullText(sc.Options), clamp(sc.Progress), sc.Message,
		micro(now), microPtr(sc.StartedAt), microPtr(sc.FinishedAt)).Scan(&sc.ID)
	if err != nil {
		return s.mapErr(fmt.Sprintf("create scan of target %d", sc.TargetID), err)
	}
	sc.CreatedAt = now
	return nil
}

func clamp(p int) int {
	return min(max(p, 0), 100)
}

// GetScan implements store.ScanStore.
func (s *DB) GetScan(ctx context.Context, id int64) (*store.Scan, error) {
	var sc store.Scan
	if err := scanScan(s.db.QueryRowContext(ctx, s.q(`SELECT `+scanCols+` FROM scans WHERE id = ?`), id), &sc); err != nil {
		return nil, s.mapErr(fmt.Sprintf("get scan %d", id), err)
	}
	return &sc, nil
}

// UpdateScanStatus implements store.ScanStore.
func (s *DB) UpdateScanStatus(ctx context.Context, id int64, status store.ScanStatus, message string) error {
	what := fmt.Sprintf("update status of scan %d", id)
	if !status.Valid() {
		return fmt.Errorf("%s: status %q: %w", what, status, store.ErrInvalid)
	}
	now := micro(s.now())
	switch {
	case status == store.StatusRunning:
		return s.execOne(ctx, what, `UPDATE scans SET status = ?, message = ?, started_at = COALESCE(started_at, ?) WHERE id = ?`,
			string(status), message, now, id)
	case status.Final():
		return s.execOne(ctx, what, `UPDATE scans SET status = ?, message = ?, finished_at = ? WHERE id = ?`,
			string(status), message, now, id)
	default:
		return s.execOne(ctx, what, `UPDATE scans SET status = ?, message = ? WHERE id = ?`,
			string(status), message, id)
	}
}

// UpdateScanProgress implements store.ScanStore.
func (s *DB) UpdateScanProgress(ctx context.Context, id int64, percent int, message string) error {
	return s.execOne(ctx, fmt.Sprintf("update progress of scan %d", id),
		`UPDATE scans SET progress = ?, message = ? WHERE id = ?`, clamp(percent), message, id)
}

// findingBatch is how many finding rows one INSERT carries; it keeps the
// statement under SQLite's and PostgreSQL's parameter limits.
const findingBatch = 100

// SaveReport implements store.ScanStore. The reports table's primary key on
// scan_id makes it idempotent even when two processes race: the second
// INSERT ... ON CONFLICT DO NOTHING waits for the first transaction, then
// inserts nothing, and SaveReport stops there.
func (s *DB) SaveReport(ctx context.Context, scanID int64, r *scan.Report) error {
	what := fmt.Sprintf("save report of scan %d", scanID)
	if r == nil {
		return fmt.Errorf("%s: nil report: %w", what, store.ErrInvalid)
	}
	body, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	now := micro(s.now())
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, s.q(`INSERT INTO reports (scan_id, body, created_at) VALUES (?, ?, ?)
	ON CONFLICT (scan_id) DO NOTHING`), scanID, string(body), now)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n == 0 {
			return nil // stored already
		}
		for start := 0; start < len(r.Findings); start += findingBatch {
			end := min(start+findingBatch, len(r.Findings))
			var b strings.Builder
			b.WriteString(`INSERT INTO findings (scan_id, position, fingerprint, check_id, severity, severity_rank, confidence, title, operation) VALUES `)
			args := make([]any, 0, (end-start)*9)
			for i := start; i < end; i++ {
				f := r.Findings[i]
				if i > start {
					b.WriteString(", ")
				}
				b.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?)")
				args = append(args, scanID, i, f.Fingerprint, f.CheckID, f.Severity.String(), int(f.Severity),
					f.Confidence.String(), f.Title, f.Operation)
			}
			if _, err := tx.ExecContext(ctx, s.q(b.String()), args...); err != nil {
				return err
			}
		}
		reported := now
		if !r.FinishedAt.IsZero() {
			reported = micro(r.FinishedAt)
		}
		if _, err = tx.ExecContext(ctx, s.q(`UPDATE scans SET has_report = TRUE, score = ?, grade = ?, findings = ?, reported_at = ? WHERE id = ?`),
			r.Score.Overall, r.Score.Grade, len(r.Findings), reported, scanID); err != nil {
			return err
		}
		return s.reopenRegressions(ctx, tx, scanID, r, now)
	})
	if err != nil {
		return s.mapErr(what, err)
	}
	return nil
}

// reopenRegressions moves back to open every finding of the report just
// stored that a person marked fixed before the scan started: the scan saw
// it after the fix, so the fix regressed (or never held), and a fixed state
// would hide it. A scan that started before the finding was marked fixed
// proves nothing (it may have seen the code before the fix) and changes
// nothing. Each reopening is a status change by "system" with its own
// history row, in the transaction that stores the report, so a report is
// never visible with its regressions still marked fixed.
func (s *DB) reopenRegressions(ctx context.Context, tx *sql.Tx, scanID int64, r *scan.Report, now int64) error {
	var (
		targetID, created int64
		started           sql.NullInt64
	)
	if err := tx.QueryRowContext(ctx, s.q(`SELECT target_id, created_at, started_at FROM scans WHERE id = ?`), scanID).
		Scan(&targetID, &created, &started); err != nil {
		return err
	}
	// When the scan started: the report knows best (a retried job starts
	// again); the scan row is the fallback.
	seen := created
	switch {
	case !r.StartedAt.IsZero():
		seen = micro(r.StartedAt)
	case started.Valid:
		seen = started.Int64
	}
	reason := fmt.Sprintf("reported again by scan %d after it was marked fixed", scanID)
	// UPDATE ... RETURNING reports only the rows this transaction changed,
	// so two reports racing cannot both write the history row.
	rows, err := tx.QueryContext(ctx, s.q(`UPDATE finding_status
	SET state = 'open', reason = ?, expires_at = NULL, updated_by = ?, updated_at = ?
	WHERE target_id = ? AND state = 'fixed' AND updated_at < ?
	AND fingerprint IN (SELECT fingerprint FROM findings WHERE scan_id = ?)
	RETURNING fingerprint`), reason, store.UpdatedBySystem, now, targetID, seen, scanID)
	if err != nil {
		return err
	}
	var reopened []string
	for rows.Next() {
		var fp string
		if err := rows.Scan(&fp); err != nil {
			rows.Close()
			return err
		}
		reopened = append(reopened, fp)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	if err := rows.Err(); err != nil {
		return err
	}
	for _, fp := range reopened {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO finding_status_history
	(target_id, fingerprint, state, reason, expires_at, updated_by, updated_at) VALUES (?, ?, 'open', ?, NULL, ?, ?)`),
			targetID, fp, reason, store.UpdatedBySystem, now); err != nil {
			return err
		}
	}
	return nil
}

// GetReport implements store.ScanStore.
func (s *DB) GetReport(ctx context.Context, scanID int64) (*scan.Report, error) {
	what := fmt.Sprintf("get report of scan %d", scanID)
	var body string
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT body FROM reports WHERE scan_id = ?`), scanID).Scan(&body); err != nil {
		return nil, s.mapErr(what, err)
	}
	var r scan.Report
	if err := json.Unmarshal([]byte(body), &r); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return &r, nil
}

// ListScans implements store.ScanStore.
func (s *DB) ListScans(ctx context.Context, targetID int64, p store.Page) ([]store.Scan, error) {
	limit, off := limitOffset(p)
	if targetID == 0 {
		return s.queryScans(ctx, "list scans",
			`SELECT `+scanCols+` FROM scans ORDER BY id DESC LIMIT ? OFFSET ?`, limit, off)
	}
	return s.queryScans(ctx, fmt.Sprintf("list scans of target %d", targetID),
		`SELECT `+scanCols+` FROM scans WHERE target_id = ? ORDER BY id DESC LIMIT ? OFFSET ?`, targetID, limit, off)
}

// LatestReported implements store.ScanStore.
func (s *DB) LatestReported(ctx context.Context, targetID int64) ([]store.Scan, error) {
	return s.queryScans(ctx, fmt.Sprintf("latest reported scans of target %d", targetID),
		`SELECT `+scanCols+` FROM scans WHERE target_id = ? AND has_report ORDER BY id DESC LIMIT 2`, targetID)
}

// CountScans implements store.ScanStore.
func (s *DB) CountScans(ctx context.Context, targetID int64) (int, error) {
	var n int
	var err error
	if targetID == 0 {
		err = s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM scans`).Scan(&n)
	} else {
		err = s.db.QueryRowContext(ctx, s.q(`SELECT COUNT(*) FROM scans WHERE target_id = ?`), targetID).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("count scans: %w", err)
	}
	return n, nil
}

// ListFindings implements store.ScanStore. The CASE is FindingStatus.StateAt
// in SQL: an acceptance whose expiry is not after now reads as open.
func (s *DB) ListFindings(ctx context.Context, scanID int64) ([]store.FindingRow, error) {
	what := fmt.Sprintf("list findings of scan %d", scanID)
	var targetID int64
	if err := s.db.QueryRowContext(ctx, s.q(`SELECT target_id FROM scans WHERE id = ?`), scanID).Scan(&targetID); err != nil {
		return nil, s.mapErr(what, err)
	}
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT f.fingerprint, f.check_id, f.severity, f.confidence, f.title, f.operation,
	CASE WHEN fs.state = 'accepted' AND fs.expires_at <= ? THEN 'open' ELSE COALESCE(fs.state, 'open') END
	FROM findings f LEFT JOIN finding_status fs ON fs.target_id = ? AND fs.fingerprint = f.fingerprint
	WHERE f.scan_id = ? ORDER BY f.severity_rank DESC, f.position`), micro(s.now()), targetID, scanID)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []store.FindingRow{}
	for rows.Next() {
		fr := store.FindingRow{ScanID: scanID}
		var sev, conf, state string
		if err := rows.Scan(&fr.Fingerprint, &fr.CheckID, &sev, &conf, &fr.Title, &fr.Operation, &state); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if fr.Severity, err = scan.ParseSeverity(sev); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		if fr.Confidence, err = scan.ParseConfidence(conf); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		fr.State = store.FindingState(state)
		out = append(out, fr)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
