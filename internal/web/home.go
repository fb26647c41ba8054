package web

import "net/http"

func (s *Server) showHome(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/targets", http.StatusSeeOther)
}
