package jobs

import (
	"errors"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/store"
)

func TestNextRun(t *testing.T) {
	now := mustTime(t, "2026-03-01 10:00")
	at := func(s string) *time.Time { v := mustTime(t, s); return &v }
	tests := []struct {
		name string
		s    store.TargetSettings
		want string
	}{
		{"interval first run", store.TargetSettings{IntervalSeconds: 3600}, "2026-03-01 11:00"},
		{"interval keeps rhythm", store.TargetSettings{IntervalSeconds: 3600, NextRunAt: at("2026-03-01 09:55")}, "2026-03-01 10:55"},
		{"interval skips missed runs", store.TargetSettings{IntervalSeconds: 600, NextRunAt: at("2026-03-01 08:05")}, "2026-03-01 10:05"},
		{"interval due exactly now", store.TargetSettings{IntervalSeconds: 600, NextRunAt: at("2026-03-01 10:00")}, "2026-03-01 10:10"},
		{"cron", store.TargetSettings{Cron: "0 */6 * * *"}, "2026-03-01 12:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := NextRun(tt.s, now)
			if err != nil {
				t.Fatalf("NextRun = %v", err)
			}
			if want := mustTime(t, tt.want); !got.Equal(want) {
				t.Errorf("NextRun(%+v, %s) = %s, want %s", tt.s, now, got, want)
			}
		})
	}
	if _, err := NextRun(store.TargetSettings{}, now); !errors.Is(err, ErrNoSchedule) {
		t.Errorf("NextRun(no schedule) = %v, want ErrNoSchedule", err)
	}
}

func TestValidateSchedule(t *testing.T) {
	tests := []struct {
		name string
		s    store.TargetSettings
		ok   bool
	}{
		{"none", store.TargetSettings{}, true},
		{"hourly", store.TargetSettings{IntervalSeconds: 3600}, true},
		{"too often", store.TargetSettings{IntervalSeconds: 10}, false},
		{"negative", store.TargetSettings{IntervalSeconds: -1}, false},
		{"cron", store.TargetSettings{Cron: "@daily"}, true},
		{"bad cron", store.TargetSettings{Cron: "daily"}, false},
		{"never matches", store.TargetSettings{Cron: "0 0 31 2 *"}, false},
		{"both", store.TargetSettings{IntervalSeconds: 3600, Cron: "@daily"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateSchedule(tt.s)
			if (err == nil) != tt.ok {
				t.Errorf("ValidateSchedule(%+v) = %v, want ok %v", tt.s, err, tt.ok)
			}
		})
	}
}

func TestGradeDropped(t *testing.T) {
	tests := []struct {
		before, now string
		want        bool
	}{
		{"A", "B", true}, {"B", "F", true}, {"C", "C", false}, {"D", "A", false},
		{"", "F", false}, {"A", "", false}, {"A", "X", false},
	}
	for _, tt := range tests {
		if got := GradeDropped(tt.before, tt.now); got != tt.want {
			t.Errorf("GradeDropped(%q, %q) = %v, want %v", tt.before, tt.now, got, tt.want)
		}
	}
}
