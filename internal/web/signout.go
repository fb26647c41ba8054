package web

import (
	"net/http"

	"github.com/merlonsec/merlon/internal/store"
)

func (s *Server) signOut(w http.ResponseWriter, r *http.Request) {
	if err := s.store.DeleteSession(r.Context(), store.HashToken(sessionToken(r.Context()))); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}
