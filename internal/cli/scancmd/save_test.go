package scancmd

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/store"
	"github.com/merlonsec/merlon/internal/store/sqlite"
)

// TestSave runs two real scans with --save into one SQLite file and checks
// both are stored, under one target, with their reports.
func TestSave(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"items":[{"id":1,"name":"a"}]}`))
	}))
	defer srv.Close()
	db := filepath.Join(t.TempDir(), "data", "merlon.db")

	for i := range 2 {
		ios, _, errOut := testIO()
		cmd := NewCmd(ios, nil)
		cmd.SetArgs([]string{srv.URL, "--profile", "quick", "--max-time", "20s", "-f", "json",
			"-o", filepath.Join(t.TempDir(), "r.json"), "--save", "--db", db})
		if err := cmd.ExecuteContext(context.Background()); err != nil {
			t.Fatalf("scan %d with --save = %v\n%s", i, err, errOut)
		}
		if !strings.Contains(errOut.String(), "scan saved as #") || !strings.Contains(errOut.String(), db) {
			t.Errorf("scan %d stderr = %q, want a line naming the saved scan and %s", i, errOut, db)
		}
	}

	ctx := context.Background()
	st, err := sqlite.Open(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	targets, err := st.ListTargets(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(targets) != 1 || !strings.HasPrefix(targets[0].URL, srv.URL) {
		t.Fatalf("stored targets = %+v, want one for %s", targets, srv.URL)
	}
	tg := targets[0]
	if tg.LatestScanID == 0 || len(tg.History) != 2 {
		t.Errorf("target summary = %+v, want a latest scan and two score points", tg)
	}
	scans, err := st.ListScans(ctx, tg.ID, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(scans) != 2 {
		t.Fatalf("stored scans = %d, want 2", len(scans))
	}
	for _, sc := range scans {
		if sc.Status != store.StatusDone || !sc.HasReport || sc.RequestedBy != "cli" || sc.Grade == "" {
			t.Errorf("stored scan = %+v, want done, reported by cli, graded", sc)
		}
		r, err := st.GetReport(ctx, sc.ID)
		if err != nil || r.Target != tg.URL {
			t.Errorf("GetReport(%d) = %v, %v; want the report of %s", sc.ID, r, err, srv.URL)
		}
	}
}
