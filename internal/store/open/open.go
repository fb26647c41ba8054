// Package open picks a store.Store driver from a DSN, so that commands take
// one --db flag whatever the database.
package open

import (
	"context"
	"fmt"
	"strings"

	"github.com/merlonsec/merlon/internal/store"
	"github.com/merlonsec/merlon/internal/store/postgres"
	"github.com/merlonsec/merlon/internal/store/sqlite"
)

// Open opens the store dsn names and brings its schema up to date:
// a postgres:// or postgresql:// URL selects PostgreSQL; anything else is a
// SQLite file path, optionally behind "sqlite:" (created if missing). An
// empty dsn is ErrInvalid: callers resolve the default with
// store.DefaultPath first.
func Open(ctx context.Context, dsn string) (store.Store, error) {
	switch {
	case dsn == "":
		return nil, fmt.Errorf("open store: empty DSN: %w", store.ErrInvalid)
	case IsPostgres(dsn):
		return postgres.Open(ctx, dsn)
	default:
		return sqlite.Open(ctx, strings.TrimPrefix(dsn, "sqlite:"))
	}
}

// IsPostgres reports whether dsn selects the PostgreSQL driver.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Describe names the database of dsn for messages without leaking a
// password: a SQLite path as is, PostgreSQL as host and database only.
func Describe(dsn string) string {
	if !IsPostgres(dsn) {
		return strings.TrimPrefix(dsn, "sqlite:")
	}
	rest := dsn[strings.Index(dsn, "://")+3:]
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	if i := strings.Index(rest, "?"); i >= 0 {
		rest = rest[:i]
	}
	return "postgres://" + rest
}
