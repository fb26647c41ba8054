package jobs

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/store"
)

func TestTick(t *testing.T) {
	ctx := context.Background()
	now := mustTime(t, "2026-03-01 10:00")
	r, err := Open(ctx, filepath.Join(t.TempDir(), "merlon.db"), Config{Now: func() time.Time { return now }, AllowPrivateTargets: true})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	st := r.Store()
	past, future := now.Add(-2*time.Minute), now.Add(time.Hour)
	targets := map[string]*store.Target{
		"due interval": {URL: "http://a.test/", TargetSettings: store.TargetSettings{IntervalSeconds: 600, NextRunAt: &past}},
		"due cron":     {URL: "http://b.test/", TargetSettings: store.TargetSettings{Cron: "*/30 * * * *", NextRunAt: &now}},
		"not yet due":  {URL: "http://c.test/", TargetSettings: store.TargetSettings{IntervalSeconds: 600, NextRunAt: &future}},
		"just set":     {URL: "http://d.test/", TargetSettings: store.TargetSettings{IntervalSeconds: 600}},
		"unscheduled":  {URL: "http://e.test/"},
	}
	for name, tg := range targets {
		tg.Name = name
		if err := st.CreateTarget(ctx, tg); err != nil {
			t.Fatal(err)
		}
	}
	ids, err := r.Tick(ctx)
	if err != nil {
		t.Fatalf("Tick = %v", err)
	}
	if len(ids) != 2 {
		t.Fatalf("Tick started %d scans, want 2 (the due ones)", len(ids))
	}
	tests := []struct {
		name  string
		scans int
		next  string // "" for none
	}{
		{"due interval", 1, "2026-03-01 10:08"},
		{"due cron", 1, "2026-03-01 10:30"},
		{"not yet due", 0, "2026-03-01 11:00"},
		{"just set", 0, "2026-03-01 10:10"},
		{"unscheduled", 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg, err := st.GetTarget(ctx, targets[tt.name].ID)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.next == "" && tg.NextRunAt != nil:
				t.Errorf("NextRunAt = %s, want none", tg.NextRunAt)
			case tt.next != "" && (tg.NextRunAt == nil || !tg.NextRunAt.Equal(mustTime(t, tt.next))):
				t.Errorf("NextRunAt = %v, want %s", tg.NextRunAt, tt.next)
			}
			scans, err := st.ListScans(ctx, tg.ID, store.Page{})
			if err != nil {
				t.Fatal(err)
			}
			if len(scans) != tt.scans {
				t.Fatalf("scans = %d, want %d", len(scans), tt.scans)
			}
			for _, s := range scans {
				if s.Status != store.StatusQueued || s.RequestedBy != "schedule" || s.Active {
					t.Errorf("scan = %s by %q active %v, want queued by schedule, passive", s.Status, s.RequestedBy, s.Active)
				}
			}
		})
	}
	// A second tick at the same instant starts nothing more.
	if ids, err := r.Tick(ctx); err != nil || len(ids) != 0 {
		t.Errorf("second Tick = %v, %v; want no scan", ids, err)
	}
}
