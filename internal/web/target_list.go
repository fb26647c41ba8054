package web

import "net/http"

// showTargetListPage lists the targets with their grade and a trend line.
func (s *Server) showTargetListPage(w http.ResponseWriter, r *http.Request) {
	ts, err := s.store.ListTargets(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, "targets", "Targets", map[string]any{"Targets": ts})
}
