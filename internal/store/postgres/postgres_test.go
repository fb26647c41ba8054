package postgres_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/store"
	"github.com/merlonsec/merlon/internal/store/pgtest"
	"github.com/merlonsec/merlon/internal/store/postgres"
	"github.com/merlonsec/merlon/internal/store/sqldb"
	"github.com/merlonsec/merlon/internal/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func open(t *testing.T, dsn string) *postgres.DB {
	t.Helper()
	db, err := postgres.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open = %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, pgtest.NewDatabase(t))
	})
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	dsn := pgtest.NewDatabase(t)
	ms, err := postgres.Migrations()
	if err != nil || len(ms) == 0 {
		t.Fatalf("Migrations() = %d, %v; want at least one", len(ms), err)
	}
	latest := ms[len(ms)-1].Version

	// Several processes may start at once; the advisory lock lets one
	// migrate and the others find the work done.
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			db, err := postgres.Open(ctx, dsn)
			if err == nil {
				db.Close()
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent Open = %v", err)
		}
	}

	db := open(t, dsn)
	if v, err := sqldb.SchemaVersion(ctx, db.SQL()); err != nil || v != latest {
		t.Errorf("SchemaVersion = %d, %v; want %d", v, err, latest)
	}
	var rows int
	if err := db.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&rows); err != nil || rows != len(ms) {
		t.Errorf("schema_migrations rows = %d, %v; want %d", rows, err, len(ms))
	}
	if _, err := db.SQL().ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES ($1, 0)`, latest+1); err != nil {
		t.Fatal(err)
	}
	newer, err := postgres.Open(ctx, dsn)
	if !errors.Is(err, store.ErrSchemaTooNew) {
		if newer != nil {
			newer.Close()
		}
		t.Errorf("Open(newer schema) = %v, want ErrSchemaTooNew", err)
	}
}

func TestOpenHidesDSN(t *testing.T) {
	_, err := postgres.Open(context.Background(), "postgres://merlon:hunter2@127.0.0.1:1/x?connect_timeout=1&sslmode=disable")
	if err == nil {
		t.Fatal("Open(closed port) = nil, want an error")
	}
	if s := err.Error(); strings.Contains(s, "hunter2") {
		t.Errorf("Open error %q shows the password", s)
	}
}
