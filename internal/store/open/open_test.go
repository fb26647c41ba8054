package open_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/merlonsec/merlon/internal/store"
	"github.com/merlonsec/merlon/internal/store/open"
	"github.com/merlonsec/merlon/internal/store/pgtest"
	"github.com/merlonsec/merlon/internal/store/postgres"
	"github.com/merlonsec/merlon/internal/store/sqlite"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

func TestOpenPicksDriver(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	cases := []struct {
		name string
		dsn  string
		want string
	}{
		{"plain path", filepath.Join(dir, "a.db"), "sqlite"},
		{"sqlite prefix", "sqlite:" + filepath.Join(dir, "b.db"), "sqlite"},
		{"postgres URL", pgtest.NewDatabase(t), "postgres"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, err := open.Open(ctx, tc.dsn)
			if err != nil {
				t.Fatalf("Open(%s) = %v", tc.dsn, err)
			}
			defer s.Close()
			var got string
			switch s.(type) {
			case *sqlite.DB:
				got = "sqlite"
			case *postgres.DB:
				got = "postgres"
			}
			if got != tc.want {
				t.Errorf("Open(%s) = %T, want the %s driver", tc.dsn, s, tc.want)
			}
		})
	}
	if _, err := open.Open(ctx, ""); !errors.Is(err, store.ErrInvalid) {
		t.Errorf("Open(\"\") = %v, want ErrInvalid", err)
	}
}

func TestDescribe(t *testing.T) {
	cases := []struct{ in, want string }{
		{"/var/lib/merlon.db", "/var/lib/merlon.db"},
		{"sqlite:/x.db", "/x.db"},
		{"postgres://merlon:hunter2@db.internal:5432/merlon?sslmode=require", "postgres://db.internal:5432/merlon"},
		{"postgresql://db/merlon", "postgres://db/merlon"},
	}
	for _, tc := range cases {
		if got := open.Describe(tc.in); got != tc.want {
			t.Errorf("Describe(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
