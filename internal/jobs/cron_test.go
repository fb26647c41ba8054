package jobs

import (
	"testing"
	"time"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCronNext(t *testing.T) {
	tests := []struct {
		name, expr, from, want string
	}{
		{"every minute", "* * * * *", "2026-03-01 10:00", "2026-03-01 10:01"},
		{"strictly after", "30 10 * * *", "2026-03-01 10:30", "2026-03-02 10:30"},
		{"step minutes", "*/15 * * * *", "2026-03-01 10:16", "2026-03-01 10:30"},
		{"step wraps hour", "*/15 * * * *", "2026-03-01 10:46", "2026-03-01 11:00"},
		{"range with step", "0 9-17/4 * * *", "2026-03-01 10:00", "2026-03-01 13:00"},
		{"list", "5,35 * * * *", "2026-03-01 10:06", "2026-03-01 10:35"},
		{"daily macro", "@daily", "2026-03-01 10:00", "2026-03-02 00:00"},
		{"hourly macro", "@hourly", "2026-03-01 10:59", "2026-03-01 11:00"},
		{"weekday names", "0 8 * * mon-fri", "2026-03-06 09:00", "2026-03-09 08:00"}, // Fri -> Mon
		{"sunday as 7", "0 0 * * 7", "2026-03-02 00:00", "2026-03-08 00:00"},
		{"month name", "0 0 1 jun *", "2026-03-01 00:00", "2026-06-01 00:00"},
		{"day of month or weekday", "0 0 13 * fri", "2026-03-01 00:00", "2026-03-06 00:00"},
		{"leap day", "0 0 29 2 *", "2026-03-01 00:00", "2028-02-29 00:00"},
		{"year end", "59 23 31 12 *", "2026-12-31 23:59", "2027-12-31 23:59"},
		{"never", "0 0 30 2 *", "2026-03-01 00:00", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseCron(tt.expr)
			if err != nil {
				t.Fatalf("ParseCron(%q) = %v", tt.expr, err)
			}
			got := c.Next(mustTime(t, tt.from))
			if tt.want == "" {
				if !got.IsZero() {
					t.Errorf("Next(%s) = %s, want zero (never)", tt.from, got)
				}
				return
			}
			if want := mustTime(t, tt.want); !got.Equal(want) {
				t.Errorf("%q.Next(%s) = %s, want %s", tt.expr, tt.from, got.Format(time.DateTime), want.Format(time.DateTime))
			}
		})
	}
}

func TestParseCronErrors(t *testing.T) {
	for _, expr := range []string{
		"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *",
		"* * * 13 *", "* * * * 8", "*/0 * * * *", "5-1 * * * *", "x * * * *", "@often",
	} {
		if _, err := ParseCron(expr); err == nil {
			t.Errorf("ParseCron(%q) = nil error, want an error", expr)
		}
	}
}
