package web

import (
	"net/http"
	"slices"

	"github.com/merlonsec/merlon/internal/diff"
	"github.com/merlonsec/merlon/internal/store"
)

// targetPage is what the target page shows.
type targetPage struct {
	Target       *store.Target
	Summary      store.TargetSummary
	Identities   identitiesInfo
	Scans        []store.Scan
	Latest       *store.Scan
	Findings     []store.FindingRow
	Diff         *diff.Result
	Previous     *store.Scan
	Verification struct{ Token, URL, Host string }
}

// showTargetPage shows a target's score over time, its latest findings,
// what changed since the scan before, its recent scans and its settings.
func (s *Server) showTargetPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.store.GetTarget(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := targetPage{Target: t, Identities: describeIdentities(t.Identities)}
	p.Verification.Token, p.Verification.URL, p.Verification.Host = verificationToken(t), verificationURL(t), targetHost(t)
	// The newest scans give both the recent list and the score history:
	// one indexed query on this target, rather than every target's
	// history through ListTargets.
	recent, err := s.store.ListScans(ctx, t.ID, store.Page{Limit: 5 * store.HistoryLen})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	p.Scans = recent[:min(len(recent), 10)]
	p.Summary = summarize(t, recent)
	reported, err := s.store.LatestReported(ctx, t.ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if len(reported) > 0 {
		p.Latest = &reported[0]
		if p.Findings, err = s.store.ListFindings(ctx, p.Latest.ID); err != nil {
			s.serverError(w, r, err)
			return
		}
	}
	if len(reported) > 1 {
		p.Previous = &reported[1]
		d, err := s.diffScans(r, reported[1].ID, reported[0].ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		p.Diff = &d
	}
	s.render(w, r, "target", t.Name, p)
}

// summarize builds a target's list row from its newest scans (newest
// first): the latest reported score and up to HistoryLen points, oldest
// first, as ListTargets gives them.
func summarize(t *store.Target, newestFirst []store.Scan) store.TargetSummary {
	ts := store.TargetSummary{Target: *t}
	for _, sc := range newestFirst {
		if !sc.HasReport {
			continue
		}
		if ts.LatestScanID == 0 {
			ts.LatestScanID, ts.Score, ts.Grade = sc.ID, sc.Score, sc.Grade
		}
		at := sc.CreatedAt
		if sc.FinishedAt != nil {
			at = *sc.FinishedAt
		}
		ts.History = append(ts.History, store.ScorePoint{ScanID: sc.ID, Score: sc.Score, Grade: sc.Grade, At: at})
		if len(ts.History) == store.HistoryLen {
			break
		}
	}
	slices.Reverse(ts.History)
	return ts
}

// diffScans compares two stored reports by fingerprint.
func (s *Server) diffScans(r *http.Request, oldID, newID int64) (diff.Result, error) {
	oldR, err := s.store.GetReport(r.Context(), oldID)
	if err != nil {
		return diff.Result{}, err
	}
	newR, err := s.store.GetReport(r.Context(), newID)
	if err != nil {
		return diff.Result{}, err
	}
	return diff.Compare(oldR, newR), nil
}
