package web

import "net/http"

// createTokenFromForm makes an API token and shows its secret this once;
// only its hash is kept.
func (s *Server) createTokenFromForm(w http.ResponseWriter, r *http.Request) {
	raw, _, err := s.createToken(r.Context(), currentUser(r.Context()), r.PostFormValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.renderTokens(w, r, raw)
}
