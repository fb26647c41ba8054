package web

import (
	"errors"
	"net/http"
)

// verifyTargetFromForm checks, on request, that the target serves its
// verification token, and says how it went.
func (s *Server) verifyTargetFromForm(w http.ResponseWriter, r *http.Request) {
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
	res := map[string]any{"Target": t, "URL": verificationURL(t), "Token": verificationToken(t)}
	if err := s.verifyTarget(r.Context(), t); err != nil {
		var ue *userError
		if !errors.As(err, &ue) {
			s.serverError(w, r, err)
			return
		}
		res["Error"] = ue.msg
	} else {
		res["Verified"] = true
	}
	s.render(w, r, "verify", "Verification", res)
}
