package storetest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/store"
)

// Clocked is a store whose clock the suite can set. Both drivers have it
// through sqldb.DB; the suite fails a store without it, since expiries
// cannot be tested by waiting.
type Clocked interface {
	SetClock(now func() time.Time)
}

// clock is a settable time for a store under test. The store reads it from
// its own goroutines, hence the lock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// setClock gives s a clock at start, restored to time.Now when t ends.
func setClock(t *testing.T, s store.Store, start time.Time) *clock {
	t.Helper()
	cs, ok := s.(Clocked)
	if !ok {
		t.Fatalf("store %T has no SetClock: the suite cannot move its time", s)
	}
	c := &clock{t: start}
	cs.SetClock(c.now)
	t.Cleanup(func() { cs.SetClock(nil) })
	return c
}

// statesNow collects the state of fingerprint fp as every reader of the
// store reports it: GetFindingStatus, ListFindingStatuses and the
// FindingRow of scan scanID.
func statesNow(t *testing.T, s store.Store, targetID, scanID int64, fp string) []string {
	t.Helper()
	c := ctx(t)
	var out []string
	st, err := s.GetFindingStatus(c, targetID, fp)
	must(t, err)
	out = append(out, "get="+string(st.State))
	all, err := s.ListFindingStatuses(c, targetID)
	must(t, err)
	for _, st := range all {
		if st.Fingerprint == fp {
			out = append(out, "list="+string(st.State))
		}
	}
	rows, err := s.ListFindings(c, scanID)
	must(t, err)
	for _, r := range rows {
		if r.Fingerprint == fp {
			out = append(out, "row="+string(r.State))
		}
	}
	return out
}

func want3(state store.FindingState) string {
	return fmt.Sprint([]string{"get=" + string(state), "list=" + string(state), "row=" + string(state)})
}

// testAcceptedRiskExpires: an accepted risk reads as open from its expiry
// on, in every reader, while the history keeps what was decided.
func testAcceptedRiskExpires(t *testing.T, s store.Store) {
	c := ctx(t)
	t0 := time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
	clk := setClock(t, s, t0)
	tg := newTarget(t, s, "api")
	sc := newScan(t, s, tg.ID)
	r := SampleReport(tg.URL, t0, 2)
	must(t, s.SaveReport(c, sc.ID, r))
	expiring, forever, falsePos := r.Findings[0].Fingerprint, r.Findings[1].Fingerprint, r.Findings[2].Fingerprint

	until := t0.Add(time.Hour)
	must(t, s.SetFindingStatus(c, &store.FindingStatus{TargetID: tg.ID, Fingerprint: expiring, State: store.StateAccepted,
		Reason: "compensating control", ExpiresAt: &until, UpdatedBy: "alice@example.com"}))
	must(t, s.SetFindingStatus(c, &store.FindingStatus{TargetID: tg.ID, Fingerprint: forever, State: store.StateAccepted,
		Reason: "by design", UpdatedBy: "alice@example.com"}))
	// An expiry means nothing outside an accepted risk.
	must(t, s.SetFindingStatus(c, &store.FindingStatus{TargetID: tg.ID, Fingerprint: falsePos, State: store.StateFalsePositive,
		Reason: "test data", ExpiresAt: &until, UpdatedBy: "alice@example.com"}))

	cases := []struct {
		name string
		at   time.Time
		fp   string
		want store.FindingState
	}{
		{"before expiry", t0, expiring, store.StateAccepted},
		{"last microsecond", until.Add(-time.Microsecond), expiring, store.StateAccepted},
		{"at expiry", until, expiring, store.StateOpen},
		{"a year later", until.AddDate(1, 0, 0), expiring, store.StateOpen},
		{"no expiry, a year later", until.AddDate(1, 0, 0), forever, store.StateAccepted},
		{"false positive past the date", until.AddDate(1, 0, 0), falsePos, store.StateFalsePositive},
	}
	for _, tc := range cases {
		clk.set(tc.at)
		if got := fmt.Sprint(statesNow(t, s, tg.ID, sc.ID, tc.fp)); got != want3(tc.want) {
			t.Errorf("%s: state at %v = %s, want %s", tc.name, tc.at, got, want3(tc.want))
		}
	}

	// Past the expiry the reason and date stay readable, and the history
	// still says what was decided.
	st, err := s.GetFindingStatus(c, tg.ID, expiring)
	must(t, err)
	if st.Reason != "compensating control" || !timesEqual(st.ExpiresAt, &until) {
		t.Errorf("expired acceptance = %+v, want its reason and ExpiresAt %v kept", st, until)
	}
	hist, err := s.FindingStatusHistory(c, tg.ID, expiring)
	must(t, err)
	if len(hist) != 1 || hist[0].State != store.StateAccepted {
		t.Errorf("FindingStatusHistory after expiry = %+v, want the one accepted change", hist)
	}

	// Accepting again, with a later date, takes effect at once.
	later := clk.now().Add(24 * time.Hour)
	must(t, s.SetFindingStatus(c, &store.FindingStatus{TargetID: tg.ID, Fingerprint: expiring, State: store.StateAccepted,
		Reason: "renewed", ExpiresAt: &later, UpdatedBy: "alice@example.com"}))
	if got := fmt.Sprint(statesNow(t, s, tg.ID, sc.ID, expiring)); got != want3(store.StateAccepted) {
		t.Errorf("renewed acceptance = %s, want %s", got, want3(store.StateAccepted))
	}
}

// testFixedRegression: a finding marked fixed that a later scan reports
// again is open again, with the change in its history; scans that started
// before the fix, and fixed findings not reported, change nothing.
func testFixedRegression(t *testing.T, s store.Store) {
	c := ctx(t)
	t0 := time.Date(2030, 3, 1, 9, 0, 0, 0, time.UTC)
	clk := setClock(t, s, t0)
	tg := newTarget(t, s, "api")
	other := newTarget(t, s, "other")

	first := newScan(t, s, tg.ID)
	r := SampleReport(tg.URL, t0, 3)
	must(t, s.SaveReport(c, first.ID, r))
	regressed, stillGone, accepted := r.Findings[0].Fingerprint, r.Findings[3].Fingerprint, r.Findings[1].Fingerprint

	// Marked fixed an hour later. The same fingerprint on another target
	// is also fixed, and must stay so.
	fixedAt := t0.Add(time.Hour)
	clk.set(fixedAt)
	for _, st := range []*store.FindingStatus{
		{TargetID: tg.ID, Fingerprint: regressed, State: store.StateFixed, UpdatedBy: "bob@example.com"},
		{TargetID: tg.ID, Fingerprint: stillGone, State: store.StateFixed, UpdatedBy: "bob@example.com"},
		{TargetID: tg.ID, Fingerprint: accepted, State: store.StateAccepted, Reason: "internal only", UpdatedBy: "bob@example.com"},
		{TargetID: other.ID, Fingerprint: regressed, State: store.StateFixed, UpdatedBy: "bob@example.com"},
	} {
		must(t, s.SetFindingStatus(c, st))
	}

	// A scan that started before the fix and is saved after it proves
	// nothing about the fix.
	clk.set(fixedAt.Add(time.Hour))
	early := newScan(t, s, tg.ID)
	earlyReport := SampleReport(tg.URL, fixedAt, 2) // started a minute before the fix
	must(t, s.SaveReport(c, early.ID, earlyReport))
	if got := fmt.Sprint(statesNow(t, s, tg.ID, early.ID, regressed)); got != want3(store.StateFixed) {
		t.Errorf("after a scan started before the fix: %s, want %s", got, want3(store.StateFixed))
	}

	// A scan that started after the fix finds it again: a regression.
	later := newScan(t, s, tg.ID)
	laterReport := SampleReport(tg.URL, fixedAt.Add(2*time.Hour), 2) // not finding 3
	must(t, s.SaveReport(c, later.ID, laterReport))
	must(t, s.SaveReport(c, later.ID, laterReport)) // stored once, reopened once
	if got := fmt.Sprint(statesNow(t, s, tg.ID, later.ID, regressed)); got != want3(store.StateOpen) {
		t.Errorf("after a later scan reports the fixed finding: %s, want %s", got, want3(store.StateOpen))
	}
	if got := fmt.Sprint(statesNow(t, s, tg.ID, later.ID, accepted)); got != want3(store.StateAccepted) {
		t.Errorf("accepted finding after the later scan: %s, want %s (only fixed ones reopen)", got, want3(store.StateAccepted))
	}
	for _, tc := range []struct {
		name     string
		targetID int64
		fp       string
	}{
		{"fixed finding not reported again", tg.ID, stillGone},
		{"same fingerprint on another target", other.ID, regressed},
	} {
		st, err := s.GetFindingStatus(c, tc.targetID, tc.fp)
		must(t, err)
		if st.State != store.StateFixed {
			t.Errorf("%s: state %s, want fixed", tc.name, st.State)
		}
	}

	st, err := s.GetFindingStatus(c, tg.ID, regressed)
	must(t, err)
	if st.UpdatedBy != store.UpdatedBySystem || !strings.Contains(st.Reason, fmt.Sprintf("scan %d", later.ID)) ||
		!st.UpdatedAt.Equal(clk.now()) {
		t.Errorf("reopened status = %+v, want by %q at %v with a reason naming scan %d", st, store.UpdatedBySystem, clk.now(), later.ID)
	}
	hist, err := s.FindingStatusHistory(c, tg.ID, regressed)
	must(t, err)
	var seq []string
	for _, h := range hist {
		seq = append(seq, string(h.State)+"/"+h.UpdatedBy)
	}
	if got, want := fmt.Sprint(seq), "[fixed/bob@example.com open/system]"; got != want {
		t.Errorf("FindingStatusHistory = %s, want %s", got, want)
	}

	// Without a start time in the report, the scan row's times decide.
	clk.set(fixedAt.Add(3 * time.Hour))
	must(t, s.SetFindingStatus(c, &store.FindingStatus{TargetID: tg.ID, Fingerprint: regressed, State: store.StateFixed, UpdatedBy: "bob@example.com"}))
	clk.set(fixedAt.Add(4 * time.Hour))
	noStart := newScan(t, s, tg.ID)
	rep := SampleReport(tg.URL, clk.now(), 0)
	rep.StartedAt = time.Time{}
	must(t, s.SaveReport(c, noStart.ID, rep))
	if got := fmt.Sprint(statesNow(t, s, tg.ID, noStart.ID, regressed)); got != want3(store.StateOpen) {
		t.Errorf("after a scan created after the fix, report without StartedAt: %s, want %s", got, want3(store.StateOpen))
	}
}
