package web

import (
	"net/http"

	"github.com/merlonsec/merlon/internal/diff"
	"github.com/merlonsec/merlon/internal/store"
)

// targetPage is what the target page shows.
type targetPage struct {
	Target       *store.Target
	Summary      store.TargetSummary
	Identities   string
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
	p := targetPage{Target: t, Identities: identitiesText(t.Identities)}
	p.Verification.Token, p.Verification.URL, p.Verification.Host = verificationToken(t), verificationURL(t), targetHost(t)
	if p.Summary, err = s.summary(r, t.ID); err != nil {
		s.serverError(w, r, err)
		return
	}
	if p.Scans, err = s.store.ListScans(ctx, t.ID, store.Page{Limit: 10}); err != nil {
		s.serverError(w, r, err)
		return
	}
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

// summary finds one target's row of the target list, for its history.
func (s *Server) summary(r *http.Request, id int64) (store.TargetSummary, error) {
	all, err := s.store.ListTargets(r.Context())
	if err != nil {
		return store.TargetSummary{}, err
	}
	for _, ts := range all {
		if ts.ID == id {
			return ts, nil
		}
	}
	return store.TargetSummary{}, store.ErrNotFound
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

