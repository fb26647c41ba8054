package web

import "net/http"

// deleteTokenFromForm revokes one of the signed-in user's tokens.
func (s *Server) deleteTokenFromForm(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.deleteToken(r.Context(), currentUser(r.Context()), id); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/tokens", http.StatusSeeOther)
}
