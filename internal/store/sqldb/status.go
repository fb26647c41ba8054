package sqldb

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/merlonsec/merlon/internal/store"
)

// SetFindingStatus implements store.FindingStatusStore. The current status
// and its history row are written in one transaction, so the history never
// misses a change the status shows.
func (s *DB) SetFindingStatus(ctx context.Context, st *store.FindingStatus) error {
	what := fmt.Sprintf("set status of finding %s of target %d", st.Fingerprint, st.TargetID)
	if !st.State.Valid() {
		return fmt.Errorf("%s: state %q: %w", what, st.State, store.ErrInvalid)
	}
	if st.Fingerprint == "" {
		return fmt.Errorf("%s: empty fingerprint: %w", what, store.ErrInvalid)
	}
	if st.UpdatedAt.IsZero() {
		st.UpdatedAt = s.now()
	}
	st.UpdatedAt = fromMicro(micro(st.UpdatedAt))
	if st.ExpiresAt != nil {
		e := fromMicro(micro(*st.ExpiresAt))
		st.ExpiresAt = &e
	}
	args := []any{st.TargetID, st.Fingerprint, string(st.State), st.Reason, microPtr(st.ExpiresAt), st.UpdatedBy, micro(st.UpdatedAt)}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, s.q(`INSERT INTO finding_status
	(target_id, fingerprint, state, reason, expires_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
	ON CONFLICT (target_id, fingerprint) DO UPDATE SET
	state = excluded.state, reason = excluded.reason, expires_at = excluded.expires_at,
	updated_by = excluded.updated_by, updated_at = excluded.updated_at`), args...); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.q(`INSERT INTO finding_status_history
	(target_id, fingerprint, state, reason, expires_at, updated_by, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`), args...)
		return err
	})
	return s.mapErr(what, err)
}

const statusCols = `target_id, fingerprint, state, reason, expires_at, updated_by, updated_at`

func scanStatus(r rowScanner, st *store.FindingStatus) error {
	var (
		state   string
		expires sql.NullInt64
		updated int64
	)
	if err := r.Scan(&st.TargetID, &st.Fingerprint, &state, &st.Reason, &expires, &st.UpdatedBy, &updated); err != nil {
		return err
	}
	st.State = store.FindingState(state)
	st.ExpiresAt = timePtr(expires)
	st.UpdatedAt = fromMicro(updated)
	return nil
}

func (s *DB) queryStatuses(ctx context.Context, what, query string, args ...any) ([]store.FindingStatus, error) {
	rows, err := s.db.QueryContext(ctx, s.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []store.FindingStatus{}
	for rows.Next() {
		var st store.FindingStatus
		if err := scanStatus(rows, &st); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}

// GetFindingStatus implements store.FindingStatusStore.
func (s *DB) GetFindingStatus(ctx context.Context, targetID int64, fingerprint string) (*store.FindingStatus, error) {
	var st store.FindingStatus
	err := scanStatus(s.db.QueryRowContext(ctx, s.q(`SELECT `+statusCols+` FROM finding_status
	WHERE target_id = ? AND fingerprint = ?`), targetID, fingerprint), &st)
	if err != nil {
		return nil, s.mapErr(fmt.Sprintf("get status of finding %s of target %d", fingerprint, targetID), err)
	}
	st.State = st.StateAt(s.now())
	return &st, nil
}

// ListFindingStatuses implements store.FindingStatusStore.
func (s *DB) ListFindingStatuses(ctx context.Context, targetID int64) ([]store.FindingStatus, error) {
	out, err := s.queryStatuses(ctx, fmt.Sprintf("list finding statuses of target %d", targetID),
		`SELECT `+statusCols+` FROM finding_status WHERE target_id = ? ORDER BY fingerprint`, targetID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	for i := range out {
		out[i].State = out[i].StateAt(now)
	}
	return out, nil
}

// FindingStatusHistory implements store.FindingStatusStore.
func (s *DB) FindingStatusHistory(ctx context.Context, targetID int64, fingerprint string) ([]store.FindingStatus, error) {
	return s.queryStatuses(ctx, fmt.Sprintf("status history of finding %s of target %d", fingerprint, targetID),
		`SELECT `+statusCols+` FROM finding_status_history WHERE target_id = ? AND fingerprint = ? ORDER BY id`, targetID, fingerprint)
}
