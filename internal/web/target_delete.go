package web

import "net/http"

// deleteTargetFromForm removes a target with its whole history.
func (s *Server) deleteTargetFromForm(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.store.DeleteTarget(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/targets", http.StatusSeeOther)
}
