package web

import (
	"net/http"
	"strings"
)

func (s *Server) apiListTargets(w http.ResponseWriter, r *http.Request) {
	ts, err := s.store.ListTargets(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	out := make([]targetSummaryJSON, 0, len(ts))
	for _, t := range ts {
		out = append(out, toSummary(t))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiCreateTarget(w http.ResponseWriter, r *http.Request) {
	var in targetInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.createTarget(r.Context(), in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, toTarget(t))
}

func (s *Server) apiGetTarget(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.store.GetTarget(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toTarget(t))
}

// apiUpdateTarget changes a target's name, spec and identities: an empty
// name keeps the name, the spec is replaced (empty removes it), and empty
// identities keep the stored ones, which the API never returns, unless
// clearIdentities removes them. The URL cannot change: a new URL is a new
// target with its own history.
func (s *Server) apiUpdateTarget(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var in targetInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.store.GetTarget(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if in.URL != "" && strings.TrimRight(in.URL, "/") != t.URL {
		s.fail(w, r, badRequest("a target's URL cannot change; create a new target"))
		return
	}
	if name := strings.TrimSpace(in.Name); name != "" {
		t.Name = name
	}
	if err := s.setSpec(r.Context(), &t.TargetSettings, in.Spec); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := setIdentities(&t.TargetSettings, in.Identities, in.ClearIdentities); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.store.UpdateTarget(r.Context(), t); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, toTarget(t))
}

func (s *Server) apiDeleteTarget(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.store.DeleteTarget(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// apiVerifyTarget checks that the target serves its verification token.
func (s *Server) apiVerifyTarget(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.store.GetTarget(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.verifyTarget(r.Context(), t); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"verified": true, "url": verificationURL(t)})
}
