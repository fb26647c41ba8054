package web

import (
	"net/http"

	"github.com/merlonsec/merlon/internal/store"
)

// showDeliveriesPage lists a target's webhook deliveries, newest first.
func (s *Server) showDeliveriesPage(w http.ResponseWriter, r *http.Request) {
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
	ds, err := s.store.ListDeliveries(r.Context(), id, store.Page{Limit: 100})
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.render(w, r, "deliveries", "Webhook deliveries", map[string]any{"Target": t, "Deliveries": ds})
}
