package web

import (
	"net/http"

	"github.com/merlonsec/merlon/internal/store"
)

// loadTarget reads the {id} target of a request, answering the error
// itself when there is none.
func (s *Server) loadTarget(w http.ResponseWriter, r *http.Request) (*store.Target, bool) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	t, err := s.store.GetTarget(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return nil, false
	}
	return t, true
}

func (s *Server) apiGetSchedule(w http.ResponseWriter, r *http.Request) {
	if t, ok := s.loadTarget(w, r); ok {
		writeJSON(w, http.StatusOK, scheduleOf(t))
	}
}

func (s *Server) apiPutSchedule(w http.ResponseWriter, r *http.Request) {
	t, ok := s.loadTarget(w, r)
	if !ok {
		return
	}
	var in scheduleInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.applySchedule(&t.TargetSettings, in); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.store.UpdateTarget(r.Context(), t); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, scheduleOf(t))
}

func (s *Server) apiGetWebhook(w http.ResponseWriter, r *http.Request) {
	if t, ok := s.loadTarget(w, r); ok {
		writeJSON(w, http.StatusOK, webhookJSON{URL: t.WebhookURL})
	}
}

// apiPutWebhook sets the webhook and answers with its secret, the one time
// the API shows it.
func (s *Server) apiPutWebhook(w http.ResponseWriter, r *http.Request) {
	t, ok := s.loadTarget(w, r)
	if !ok {
		return
	}
	var in webhookInput
	if err := decodeJSON(w, r, &in); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.applyWebhook(r.Context(), &t.TargetSettings, in); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.store.UpdateTarget(r.Context(), t); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, webhookJSON{URL: t.WebhookURL, Secret: t.WebhookSecret})
}

func (s *Server) apiListDeliveries(w http.ResponseWriter, r *http.Request) {
	t, ok := s.loadTarget(w, r)
	if !ok {
		return
	}
	p, err := pageOf(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ds, err := s.store.ListDeliveries(r.Context(), t.ID, p)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	out := make([]deliveryJSON, 0, len(ds))
	for _, d := range ds {
		out = append(out, toDelivery(d))
	}
	writeJSON(w, http.StatusOK, out)
}
