package web

import (
	"net/http"
)

// showTokensPage lists the signed-in user's API tokens.
func (s *Server) showTokensPage(w http.ResponseWriter, r *http.Request) {
	s.renderTokens(w, r, "")
}

func (s *Server) renderTokens(w http.ResponseWriter, r *http.Request, created string) {
	toks, err := s.store.ListAPITokens(r.Context(), currentUser(r.Context()).ID)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, "tokens", "API tokens", map[string]any{"Tokens": toks, "Created": created})
}
