package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/merlonsec/merlon/internal/store"
	"github.com/merlonsec/merlon/internal/store/sqldb"
	"github.com/merlonsec/merlon/internal/store/sqlite"
	"github.com/merlonsec/merlon/internal/store/storetest"
)

func open(t *testing.T, path string) *sqlite.DB {
	t.Helper()
	db, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open(%s) = %v", path, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return open(t, filepath.Join(t.TempDir(), "merlon.db"))
	})
}

func TestMigrations(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "nested", "dir", "merlon.db")
	ms, err := sqlite.Migrations()
	if err != nil || len(ms) == 0 {
		t.Fatalf("Migrations() = %d, %v; want at least one", len(ms), err)
	}
	latest := ms[len(ms)-1].Version

	first := open(t, path)
	if err := first.CreateTarget(ctx, &store.Target{URL: "http://kept.test"}); err != nil {
		t.Fatal(err)
	}
	first.Close()

	// Opening again applies nothing and keeps the data.
	second := open(t, path)
	if v, err := sqldb.SchemaVersion(ctx, second.SQL()); err != nil || v != latest {
		t.Errorf("SchemaVersion = %d, %v; want %d", v, err, latest)
	}
	var rows int
	if err := second.SQL().QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&rows); err != nil || rows != len(ms) {
		t.Errorf("schema_migrations rows = %d, %v; want %d (one per migration, none twice)", rows, err, len(ms))
	}
	if _, err := second.GetTargetByURL(ctx, "http://kept.test"); err != nil {
		t.Errorf("GetTargetByURL after reopen = %v, want the target kept", err)
	}

	// A database migrated by a newer binary is refused, untouched.
	if _, err := second.SQL().ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)`, latest+1); err != nil {
		t.Fatal(err)
	}
	second.Close()
	db, err := sqlite.Open(ctx, path)
	if !errors.Is(err, store.ErrSchemaTooNew) {
		if db != nil {
			db.Close()
		}
		t.Errorf("Open(newer schema) = %v, want ErrSchemaTooNew", err)
	}
}

func BenchmarkSeed(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		db, err := sqlite.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := storetest.Seed(ctx, db, 10, 10); err != nil {
			b.Fatal(err)
		}
		db.Close()
	}
}
