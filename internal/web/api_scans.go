package web

import (
	"net/http"
	"strconv"

	"github.com/merlonsec/merlon/internal/diff"
	"github.com/merlonsec/merlon/internal/store"
)

// pageOf reads ?limit= and ?offset=.
func pageOf(r *http.Request) (store.Page, error) {
	var p store.Page
	q := r.URL.Query()
	for name, dst := range map[string]*int{"limit": &p.Limit, "offset": &p.Offset} {
		if v := q.Get(name); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 {
				return p, badRequest("%s must be a non-negative integer", name)
			}
			*dst = n
		}
	}
	p.Limit = min(p.Limit, 500)
	return p, nil
}

// apiListScans lists scans, newest first, of ?target= or of all targets.
func (s *Server) apiListScans(w http.ResponseWriter, r *http.Request) {
	var target int64
	if v := r.URL.Query().Get("target"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			s.fail(w, r, badRequest("target must be a target id"))
			return
		}
		target = id
	}
	p, err := pageOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	scans, err := s.store.ListScans(r.Context(), target, p)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	out := make([]scanJSON, 0, len(scans))
	for i := range scans {
		out = append(out, toScan(&scans[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

// apiCreateScan queues a scan of a target. An active scan needs confirm
// set to the target's host and the target to serve its verification token.
func (s *Server) apiCreateScan(w http.ResponseWriter, r *http.Request) {
	var in scanInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.store.GetTarget(r.Context(), in.TargetID)
	if err != nil {
		s.fail(w, r, badRequest("targetId: no such target"))
		return
	}
	sc, err := s.startScan(r.Context(), currentUser(r.Context()), t, in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/scans/"+strconv.FormatInt(sc.ID, 10))
	writeJSON(w, http.StatusAccepted, toScan(sc))
}

func (s *Server) loadScan(w http.ResponseWriter, r *http.Request) (*store.Scan, bool) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	sc, err := s.store.GetScan(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return sc, true
}

func (s *Server) apiGetScan(w http.ResponseWriter, r *http.Request) {
	if sc, ok := s.loadScan(w, r); ok {
		writeJSON(w, http.StatusOK, toScan(sc))
	}
}

func (s *Server) apiListFindings(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.loadScan(w, r)
	if !ok {
		return
	}
	rows, err := s.store.ListFindings(r.Context(), sc.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := make([]findingRowJSON, 0, len(rows))
	for _, f := range rows {
		out = append(out, toFindingRow(f))
	}
	writeJSON(w, http.StatusOK, out)
}

// apiScanDiff compares a scan with the target's reported scan before it;
// with no earlier one, every finding is new.
func (s *Server) apiScanDiff(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.loadScan(w, r)
	if !ok {
		return
	}
	if !sc.HasReport {
		s.fail(w, r, &userError{status: http.StatusConflict, msg: "the scan has no report yet"})
		return
	}
	prev, err := s.previousReported(r, sc)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	newR, err := s.store.GetReport(r.Context(), sc.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out := struct {
		PreviousScanID int64 `json:"previousScanId"`
		diff.Result
	}{}
	if prev != nil {
		oldR, err := s.store.GetReport(r.Context(), prev.ID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		out.PreviousScanID = prev.ID
		out.Result = diff.Compare(oldR, newR)
	} else {
		out.Result = diff.Compare(nil, newR)
	}
	writeJSON(w, http.StatusOK, out)
}

// apiScanReport exports the report: ?format=json (default), sarif, html
// or pdf.
func (s *Server) apiScanReport(w http.ResponseWriter, r *http.Request) {
	sc, ok := s.loadScan(w, r)
	if !ok {
		return
	}
	format := r.URL.Query().Get("format")
	if format == "" {
		format = "json"
	}
	s.writeReport(w, r, sc.ID, format)
}
