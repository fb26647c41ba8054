package web

import (
	"net/http"
	"strconv"
	"strings"
)

// saveTargetSettingsFromForm saves the settings form of the target page:
// name, spec, identities, schedule and webhook, all or nothing.
func (s *Server) saveTargetSettingsFromForm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	t, err := s.store.GetTarget(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if name := strings.TrimSpace(r.PostFormValue("name")); name != "" {
		t.Name = name
	}
	// The spec field shows the stored value, so empty removes it; the
	// identities field never shows the stored credentials, so empty keeps
	// them and only the checkbox removes them.
	if err := s.setSpec(ctx, &t.TargetSettings, r.PostFormValue("spec")); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := setIdentities(&t.TargetSettings, r.PostFormValue("identities"), r.PostFormValue("clear_identities") == "on"); err != nil {
		s.fail(w, r, err)
		return
	}
	var interval int64
	if v := strings.TrimSpace(r.PostFormValue("interval_minutes")); v != "" {
		m, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			s.fail(w, r, badRequest("interval must be a whole number of minutes"))
			return
		}
		interval = m * 60
	}
	if err := s.applySchedule(&t.TargetSettings, scheduleInput{IntervalSeconds: interval, Cron: r.PostFormValue("cron")}); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.applyWebhook(ctx, &t.TargetSettings, webhookInput{URL: r.PostFormValue("webhook_url"), Secret: r.PostFormValue("webhook_secret")}); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.store.UpdateTarget(ctx, t); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/targets/"+strconv.FormatInt(t.ID, 10)+"#settings", http.StatusSeeOther)
}
