package sqldb

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/store"
)

// CreateUser implements store.UserStore.
func (s *DB) CreateUser(ctx context.Context, u *store.User) error {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	if u.Email == "" {
		return fmt.Errorf("create user: empty email: %w", store.ErrInvalid)
	}
	now := fromMicro(micro(s.now()))
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO users (email, password_hash, created_at) VALUES (?, ?, ?) RETURNING id`),
		u.Email, u.PasswordHash, micro(now)).Scan(&u.ID)
	if err != nil {
		return s.mapErr("create user", err)
	}
	u.CreatedAt = now
	return nil
}

func (s *DB) getUser(ctx context.Context, what, where string, arg any) (*store.User, error) {
	var (
		u       store.User
		created int64
	)
	err := s.db.QueryRowContext(ctx, s.q(`SELECT id, email, password_hash, created_at FROM users WHERE `+where), arg).
		Scan(&u.ID, &u.Email, &u.PasswordHash, &created)
	if err != nil {
		return nil, s.mapErr(what, err)
	}
	u.CreatedAt = fromMicro(created)
	return &u, nil
}

// GetUser implements store.UserStore.
func (s *DB) GetUser(ctx context.Context, id int64) (*store.User, error) {
	return s.getUser(ctx, fmt.Sprintf("get user %d", id), "id = ?", id)
}

// GetUserByEmail implements store.UserStore.
func (s *DB) GetUserByEmail(ctx context.Context, email string) (*store.User, error) {
	return s.getUser(ctx, "get user by email", "email = ?", strings.ToLower(strings.TrimSpace(email)))
}

// CountUsers implements store.UserStore.
func (s *DB) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}

// CreateSession implements store.UserStore.
func (s *DB) CreateSession(ctx context.Context, se *store.Session) error {
	now := fromMicro(micro(s.now()))
	se.ExpiresAt = fromMicro(micro(se.ExpiresAt))
	_, err := s.db.ExecContext(ctx, s.q(`INSERT INTO sessions (token_hash, user_id, expires_at, created_at) VALUES (?, ?, ?, ?)`),
		se.TokenHash, se.UserID, micro(se.ExpiresAt), micro(now))
	if err != nil {
		return s.mapErr("create session", err)
	}
	se.CreatedAt = now
	return nil
}

// GetSession implements store.UserStore.
func (s *DB) GetSession(ctx context.Context, tokenHash string, now time.Time) (*store.Session, error) {
	var (
		se               store.Session
		expires, created int64
	)
	err := s.db.QueryRowContext(ctx, s.q(`SELECT token_hash, user_id, expires_at, created_at FROM sessions
	WHERE token_hash = ? AND expires_at > ?`), tokenHash, micro(now)).Scan(&se.TokenHash, &se.UserID, &expires, &created)
	if err != nil {
		return nil, s.mapErr("get session", err)
	}
	se.ExpiresAt, se.CreatedAt = fromMicro(expires), fromMicro(created)
	return &se, nil
}

// DeleteSession implements store.UserStore.
func (s *DB) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := s.db.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE token_hash = ?`), tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// DeleteExpiredSessions implements store.UserStore.
func (s *DB) DeleteExpiredSessions(ctx context.Context, now time.Time) (int, error) {
	res, err := s.db.ExecContext(ctx, s.q(`DELETE FROM sessions WHERE expires_at <= ?`), micro(now))
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("delete expired sessions: %w", err)
	}
	return int(n), nil
}

const tokenCols = `id, user_id, name, hash, last_used_at, created_at`

func scanToken(r rowScanner, t *store.APIToken) error {
	var (
		used    sql.NullInt64
		created int64
	)
	if err := r.Scan(&t.ID, &t.UserID, &t.Name, &t.Hash, &used, &created); err != nil {
		return err
	}
	t.LastUsedAt = timePtr(used)
	t.CreatedAt = fromMicro(created)
	return nil
}

// CreateAPIToken implements store.UserStore.
func (s *DB) CreateAPIToken(ctx context.Context, t *store.APIToken) error {
	if t.Hash == "" {
		return fmt.Errorf("create api token: empty hash: %w", store.ErrInvalid)
	}
	now := fromMicro(micro(s.now()))
	err := s.db.QueryRowContext(ctx, s.q(`INSERT INTO api_tokens (user_id, name, hash, last_used_at, created_at)
	VALUES (?, ?, ?, ?, ?) RETURNING id`), t.UserID, t.Name, t.Hash, microPtr(t.LastUsedAt), micro(now)).Scan(&t.ID)
	if err != nil {
		return s.mapErr("create api token", err)
	}
	t.CreatedAt = now
	return nil
}

// GetAPIToken implements store.UserStore.
func (s *DB) GetAPIToken(ctx context.Context, hash string) (*store.APIToken, error) {
	var t store.APIToken
	if err := scanToken(s.db.QueryRowContext(ctx, s.q(`SELECT `+tokenCols+` FROM api_tokens WHERE hash = ?`), hash), &t); err != nil {
		return nil, s.mapErr("get api token", err)
	}
	return &t, nil
}

// TouchAPIToken implements store.UserStore.
func (s *DB) TouchAPIToken(ctx context.Context, id int64, at time.Time) error {
	return s.execOne(ctx, fmt.Sprintf("touch api token %d", id), `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, micro(at), id)
}

// ListAPITokens implements store.UserStore.
func (s *DB) ListAPITokens(ctx context.Context, userID int64) ([]store.APIToken, error) {
	rows, err := s.db.QueryContext(ctx, s.q(`SELECT `+tokenCols+` FROM api_tokens WHERE user_id = ? ORDER BY id`), userID)
	if err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	defer rows.Close()
	out := []store.APIToken{}
	for rows.Next() {
		var t store.APIToken
		if err := scanToken(rows, &t); err != nil {
			return nil, fmt.Errorf("list api tokens: %w", err)
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list api tokens: %w", err)
	}
	return out, nil
}

// DeleteAPIToken implements store.UserStore.
func (s *DB) DeleteAPIToken(ctx context.Context, id int64) error {
	return s.execOne(ctx, fmt.Sprintf("delete api token %d", id), `DELETE FROM api_tokens WHERE id = ?`, id)
}

// ListUsers implements store.UserStore.
func (s *DB) ListUsers(ctx context.Context) ([]store.User, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, email, password_hash, created_at FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	out := []store.User{}
	for rows.Next() {
		var (
			u       store.User
			created int64
		)
		if err := rows.Scan(&u.ID, &u.Email, &u.PasswordHash, &created); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		u.CreatedAt = fromMicro(created)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// DeleteUser implements store.UserStore. The first statement writes every
// user row, which locks them all on PostgreSQL (SQLite's write
// transactions exclude each other already): two removals that race are
// serialized, and the second counts what the first left.
func (s *DB) DeleteUser(ctx context.Context, id int64) error {
	what := fmt.Sprintf("delete user %d", id)
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET email = email`); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		var n, exists int
		if err := tx.QueryRowContext(ctx, s.q(`SELECT COUNT(*), COUNT(CASE WHEN id = ? THEN 1 END) FROM users`), id).Scan(&n, &exists); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		switch {
		case exists == 0:
			return fmt.Errorf("%s: %w", what, store.ErrNotFound)
		case n == 1:
			return fmt.Errorf("%s: the last user cannot be removed: %w", what, store.ErrConflict)
		}
		if _, err := tx.ExecContext(ctx, s.q(`DELETE FROM users WHERE id = ?`), id); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	})
}
