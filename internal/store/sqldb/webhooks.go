package sqldb

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/merlonsec/merlon/internal/store"
)

const deliveryCols = `id, target_id, scan_id, event, payload, status_code, attempts,
	next_attempt_at, error, delivered_at, created_at`

func scanDelivery(r rowScanner, d *store.WebhookDelivery) error {
	var (
		scanID          sql.NullInt64
		next, delivered sql.NullInt64
		created         int64
	)
	if err := r.Scan(&d.ID, &d.TargetID, &scanID, &d.Event, &d.Payload, &d.StatusCode, &d.Attempts,
		&next, &d.Error, &delivered, &created); err != nil {
		return err
	}
	d.ScanID = scanID.Int64
	d.NextAttemptAt = timePtr(next)
	d.DeliveredAt = timePtr(delivered)
	d.CreatedAt = fromMicro(created)
	return nil
}

// CreateDelivery implements store.WebhookStore.
func (s *DB) CreateDelivery(ctx context.Context, d *store.WebhookDelivery) error {
	now := fromMicro(micro(s.now()))
	var scanID any
	if d.ScanID != 0 {
		scanID = d.ScanID
	}
	payload := d.Payload
	if payload == nil {
		payload = []byte{}
	}
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO webhook_deliveries
	(target_id, scan_id, event, payload, status_code, attempts, next_attempt_at, error, delivered_at, created_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		d.TargetID, scanID, d.Event, payload, d.StatusCode, d.Attempts, microPtr(d.NextAttemptAt), d.Error,
		microPtr(d.DeliveredAt), micro(now)).Scan(&d.ID)
	if err != nil {
		return s.mapErr(fmt.Sprintf("create webhook delivery for target %d", d.TargetID), err)
	}
	d.CreatedAt = now
	return nil
}

// UpdateDelivery implements store.WebhookStore.
func (s *DB) UpdateDelivery(ctx context.Context, d *store.WebhookDelivery) error {
	return s.execOne(ctx, fmt.Sprintf("update webhook delivery %d", d.ID), `UPDATE webhook_deliveries SET
	status_code = ?, attempts = ?, next_attempt_at = ?, error = ?, delivered_at = ? WHERE id = ?`,
		d.StatusCode, d.Attempts, microPtr(d.NextAttemptAt), d.Error, microPtr(d.DeliveredAt), d.ID)
}

// GetDelivery implements store.WebhookStore.
func (s *DB) GetDelivery(ctx context.Context, id int64) (*store.WebhookDelivery, error) {
	var d store.WebhookDelivery
	err := scanDelivery(s.db.QueryRowContext(ctx, s.q(`SELECT `+deliveryCols+` FROM webhook_deliveries WHERE id = ?`), id), &d)
	if err != nil {
		return nil, s.mapErr(fmt.Sprintf("get webhook delivery %d", id), err)
	}
	return &d, nil
}

// ListDeliveries implements store.WebhookStore.
func (s *DB) ListDeliveries(ctx context.Context, targetID int64, p store.Page) ([]store.WebhookDelivery, error) {
	what := fmt.Sprintf("list webhook deliveries of target %d", targetID)
	limit, off := limitOffset(p)
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+deliveryCols+` FROM webhook_deliveries
	WHERE target_id = ? ORDER BY id DESC LIMIT ? OFFSET ?`), targetID, limit, off)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	out := []store.WebhookDelivery{}
	for rows.Next() {
		var d store.WebhookDelivery
		if err := scanDelivery(rows, &d); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return out, nil
}
