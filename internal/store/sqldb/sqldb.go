// Package sqldb is the one implementation of store.Store over database/sql
// that both drivers share. The SQLite and PostgreSQL schemas keep the same
// tables and columns (times as integer microseconds), so the queries are the
// same text; a Dialect carries the few things that differ: placeholders,
// error codes and how a migration takes its lock.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/store"
)

// Dialect is what differs between the SQL databases Merlon supports.
type Dialect struct {
	// Name is used in error messages ("sqlite", "postgres").
	Name string
	// Numbered is set when the database wants $1, $2 placeholders instead
	// of ?.
	Numbered bool
	// IsUnique reports whether err is a unique-constraint violation.
	IsUnique func(err error) bool
	// IsForeignKey reports whether err is a foreign-key violation.
	IsForeignKey func(err error) bool
	// LockMigrations, when set, runs first in the migration transaction to
	// keep two processes from migrating at once. SQLite needs none: its
	// write transactions already exclude each other.
	LockMigrations func(ctx context.Context, tx *sql.Tx) error
}

// DB implements store.Store on a *sql.DB.
type DB struct {
	db *sql.DB
	d  Dialect
	// now is the clock: time.Now unless SetClock replaced it.
	now func() time.Time
}

var _ store.Store = (*DB)(nil)

// New wraps an open, migrated database. It does no I/O.
func New(db *sql.DB, d Dialect) *DB {
	return &DB{db: db, d: d, now: time.Now}
}

// SetClock makes the store read the time from now instead of time.Now. The
// store's clock stamps what it creates and decides when an accepted risk has
// expired, so tests set it to cross an expiry without waiting. Call it
// before the store is shared between goroutines.
func (s *DB) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.now = now
}

// SQL returns the underlying handle, for drivers and tests.
func (s *DB) SQL() *sql.DB { return s.db }

// Close closes the database handle.
func (s *DB) Close() error { return s.db.Close() }

// q rewrites ? placeholders for the dialect. Merlon's queries never hold a
// literal question mark, so a plain scan is enough.
func (s *DB) q(query string) string {
	if !s.d.Numbered {
		return query
	}
	var b strings.Builder
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}

// mapErr turns constraint violations into the store's sentinel errors, with
// what as context.
func (s *DB) mapErr(what string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	case s.d.IsUnique != nil && s.d.IsUnique(err):
		return fmt.Errorf("%s: %w", what, store.ErrConflict)
	case s.d.IsForeignKey != nil && s.d.IsForeignKey(err):
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// exec runs a statement and returns ErrNotFound when it touched no row.
func (s *DB) execOne(ctx context.Context, what, query string, args ...any) error {
	res, err := s.db.ExecContext(ctx, s.q(query), args...)
	if err != nil {
		return s.mapErr(what, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if n == 0 {
		return fmt.Errorf("%s: %w", what, store.ErrNotFound)
	}
	return nil
}

// inTx runs fn in a transaction, committing when it returns nil.
func (s *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// micro converts a time to the stored form.
func micro(t time.Time) int64 { return t.UnixMicro() }

// fromMicro converts the stored form back.
func fromMicro(n int64) time.Time { return time.UnixMicro(n).UTC() }

// microPtr converts an optional time to a nullable column value.
func microPtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return t.UnixMicro()
}

// timePtr converts a nullable column value back.
func timePtr(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := fromMicro(n.Int64)
	return &t
}

// nullText stores empty raw JSON as NULL.
func nullText(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return string(b)
}

// rawJSON converts a nullable text column to raw JSON.
func rawJSON(n sql.NullString) []byte {
	if !n.Valid {
		return nil
	}
	return []byte(n.String)
}

// limitOffset normalizes a page.
func limitOffset(p store.Page) (int, int) {
	limit := p.Limit
	if limit <= 0 {
		limit = store.DefaultPageLimit
	}
	off := p.Offset
	if off < 0 {
		off = 0
	}
	return limit, off
}

// rowScanner is what *sql.Row and *sql.Rows share.
type rowScanner interface {
	Scan(dest ...any) error
}
