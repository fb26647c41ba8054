// Package sqlite is the embedded store.Store: one SQLite file, no server,
// no cgo (modernc.org/sqlite). It is the default for `merlon scan --save`
// and a one-machine `merlon serve`.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/merlonsec/merlon/internal/store"
	"github.com/merlonsec/merlon/internal/store/sqldb"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// DB is a store.Store on one SQLite file.
type DB struct {
	*sqldb.DB
}

var _ store.Store = (*DB)(nil)

// Dialect is how SQLite differs from the shared SQL.
var Dialect = sqldb.Dialect{
	Name: "sqlite",
	IsUnique: func(err error) bool {
		return hasCode(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
	},
	IsForeignKey: func(err error) bool { return hasCode(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY) },
}

func hasCode(err error, codes ...int) bool {
	var e *msqlite.Error
	if !errors.As(err, &e) {
		return false
	}
	for _, c := range codes {
		if e.Code() == c {
			return true
		}
	}
	return false
}

// Migrations returns the embedded schema migrations, oldest first.
func Migrations() ([]sqldb.Migration, error) {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return sqldb.LoadMigrations(sub)
}

// Open opens (creating it and its directory if needed) the database file at
// path and brings its schema up to date. It returns an error wrapping
// store.ErrSchemaTooNew if a newer Merlon migrated the file.
//
// Every connection gets a busy timeout, foreign keys and WAL, and
// transactions begin IMMEDIATE: writers queue on the file lock at BEGIN
// instead of failing halfway through with SQLITE_BUSY.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, fmt.Errorf("open sqlite: empty path: %w", store.ErrInvalid)
	}
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, fmt.Errorf("open sqlite: %w", err)
		}
	}
	dsn := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	ms, err := Migrations()
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	if err := sqldb.Migrate(ctx, db, Dialect, ms); err != nil {
		db.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	return &DB{DB: sqldb.New(db, Dialect)}, nil
}
