package web

import (
	"errors"
	"net/http"

	"github.com/merlonsec/merlon/internal/store"
)

func (s *Server) apiGetFindingStatus(w http.ResponseWriter, r *http.Request) {
	t, ok := s.loadTarget(w, r)
	if !ok {
		return
	}
	fp := r.PathValue("fingerprint")
	if !validFingerprint(fp) {
		s.fail(w, r, store.ErrNotFound)
		return
	}
	st, err := s.store.GetFindingStatus(r.Context(), t.ID, fp)
	if errors.Is(err, store.ErrNotFound) {
		st, err = &store.FindingStatus{TargetID: t.ID, Fingerprint: fp, State: store.StateOpen}, nil
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	hist, err := s.store.FindingStatusHistory(r.Context(), t.ID, fp)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	out := struct {
		statusJSON
		History []statusJSON `json:"history"`
	}{statusJSON: toStatus(st), History: []statusJSON{}}
	for i := range hist {
		out.History = append(out.History, toStatus(&hist[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiSetFindingStatus(w http.ResponseWriter, r *http.Request) {
	t, ok := s.loadTarget(w, r)
	if !ok {
		return
	}
	var in statusInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	st, err := s.setStatus(r.Context(), currentUser(r.Context()), t.ID, r.PathValue("fingerprint"), in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toStatus(st))
}
