package web

import (
	"net/http"

	"github.com/merlonsec/merlon/internal/diff"
	"github.com/merlonsec/merlon/internal/store"
)

// scanPage is what the scan page shows.
type scanPage struct {
	Target   *store.Target
	Scan     *store.Scan
	Findings []store.FindingRow
	Previous *store.Scan
	Diff     *diff.Result
	Formats  []string
}

// exportFormats are the report formats the dashboard offers.
var exportFormats = []string{"html", "pdf", "sarif", "json"}

// showScanPage shows a scan's progress while it runs (the page reloads
// itself every two seconds, without script) and its findings, the diff
// against the target's previous reported scan and export links once done.
func (s *Server) showScanPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sc, err := s.store.GetScan(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.store.GetTarget(ctx, sc.TargetID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := scanPage{Target: t, Scan: sc, Formats: exportFormats}
	if sc.HasReport {
		if p.Findings, err = s.store.ListFindings(ctx, sc.ID); err != nil {
			s.serverError(w, r, err)
			return
		}
		if p.Previous, err = s.previousReported(r, sc); err != nil {
			s.serverError(w, r, err)
			return
		}
		if p.Previous != nil {
			d, err := s.diffScans(r, p.Previous.ID, sc.ID)
			if err != nil {
				s.serverError(w, r, err)
				return
			}
			p.Diff = &d
		}
	}
	v := view{Title: "Scan of " + t.Name, Page: p}
	if !sc.Status.Final() {
		v.Refresh = 2
	}
	s.renderView(w, r, http.StatusOK, "scan", v)
}

// previousReported returns the reported scan of the same target just
// before sc, or nil.
func (s *Server) previousReported(r *http.Request, sc *store.Scan) (*store.Scan, error) {
	const page = 100
	for off := 0; ; off += page {
		scans, err := s.store.ListScans(r.Context(), sc.TargetID, store.Page{Limit: page, Offset: off})
		if err != nil {
			return nil, err
		}
		for i := range scans {
			if scans[i].ID < sc.ID && scans[i].HasReport {
				return &scans[i], nil
			}
		}
		if len(scans) < page {
			return nil, nil
		}
	}
}
