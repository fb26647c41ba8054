// Package postgres is the store.Store for teams and distributed workers:
// PostgreSQL through github.com/jackc/pgx/v5. Several `merlon serve` and
// `merlon worker` processes may share one database.
package postgres

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/merlonsec/merlon/internal/store"
	"github.com/merlonsec/merlon/internal/store/sqldb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is a store.Store on a PostgreSQL database.
type DB struct {
	*sqldb.DB
}

var _ store.Store = (*DB)(nil)

// migrationLock is the pg_advisory_xact_lock key that serializes
// migrations when several Merlon processes start at once ("merlon" in
// ASCII).
const migrationLock = 0x6d65726c6f6e

// Dialect is how PostgreSQL differs from the shared SQL.
var Dialect = sqldb.Dialect{
	Name:         "postgres",
	Numbered:     true,
	IsUnique:     func(err error) bool { return hasCode(err, "23505") },
	IsForeignKey: func(err error) bool { return hasCode(err, "23503") },
	LockMigrations: func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "SELECT pg_advisory_xact_lock($1)", int64(migrationLock))
		return err
	},
}

func hasCode(err error, code string) bool {
	var e *pgconn.PgError
	return errors.As(err, &e) && e.Code == code
}

// Migrations returns the embedded schema migrations, oldest first.
func Migrations() ([]sqldb.Migration, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return sqldb.LoadMigrations(sub)
}

// Open connects to the database at dsn (a postgres:// URL or key=value
// string), checks that it answers, and brings its schema up to date. It
// returns an error wrapping store.ErrSchemaTooNew if a newer Merlon migrated
// the database. The DSN never appears in errors: it may hold a password.
func Open(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgconnConfig(dsn)
	if err != nil {
		return nil, err
	}
	db := stdlib.OpenDB(*cfg)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	ms, err := Migrations()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	if err := sqldb.Migrate(ctx, db, Dialect, ms); err != nil {
		db.Close()
		return nil, fmt.Errorf("open postgres: %w", err)
	}
	return &DB{DB: sqldb.New(db, Dialect)}, nil
}
