package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/store"
)

// findingPage is what the finding page shows.
type findingPage struct {
	Target  *store.Target
	Scan    *store.Scan
	Finding scan.Finding
	Status  store.FindingStatus
	History []store.FindingStatus
	States  []store.FindingState
}

// showFindingPage shows one finding with its evidence, remediation and
// status. The finding comes from ?scan=ID when given, else from the newest
// reported scan that has it.
func (s *Server) showFindingPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	fp := r.PathValue("fingerprint")
	if !validFingerprint(fp) {
		s.fail(w, r, store.ErrNotFound)
		return
	}
	t, err := s.store.GetTarget(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var candidates []store.Scan
	if v := r.URL.Query().Get("scan"); v != "" {
		sid, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.fail(w, r, store.ErrNotFound)
			return
		}
		sc, err := s.store.GetScan(ctx, sid)
		if err != nil || sc.TargetID != t.ID {
			s.fail(w, r, store.ErrNotFound)
			return
		}
		candidates = []store.Scan{*sc}
	} else if candidates, err = s.store.LatestReported(ctx, t.ID); err != nil {
		s.serverError(w, r, err)
		return
	}
	p := findingPage{Target: t, States: []store.FindingState{store.StateOpen, store.StateAccepted, store.StateFalsePositive, store.StateFixed}}
	for i := range candidates {
		rep, err := s.store.GetReport(ctx, candidates[i].ID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		for _, f := range rep.Findings {
			if f.Fingerprint == fp {
				p.Scan, p.Finding = &candidates[i], f
				break
			}
		}
		if p.Scan != nil {
			break
		}
	}
	if p.Scan == nil {
		s.fail(w, r, store.ErrNotFound)
		return
	}
	st, err := s.store.GetFindingStatus(ctx, t.ID, fp)
	switch {
	case errors.Is(err, store.ErrNotFound):
		p.Status = store.FindingStatus{TargetID: t.ID, Fingerprint: fp, State: store.StateOpen}
	case err != nil:
		s.serverError(w, r, err)
		return
	default:
		p.Status = *st
	}
	if p.History, err = s.store.FindingStatusHistory(ctx, t.ID, fp); err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, "finding", p.Finding.Title, p)
}
