package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/merlonsec/merlon/internal/store"
)

// startScanFromForm starts a scan. With target_id it scans a known target;
// with url it adds the target first, or reuses the one with that URL. On
// a known target a spec or identities given in the form replace the
// stored ones, and empty fields keep them: the generic form is blank, and
// a blank field must not erase a target's settings.
func (s *Server) startScanFromForm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	spec, identities := r.PostFormValue("spec"), r.PostFormValue("identities")
	var t *store.Target
	var err error
	created := false
	if v := r.PostFormValue("target_id"); v != "" {
		id, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil {
			s.fail(w, r, store.ErrNotFound)
			return
		}
		t, err = s.store.GetTarget(ctx, id)
	} else {
		t, err = s.createTarget(ctx, targetInput{URL: r.PostFormValue("url"), Spec: spec, Identities: identities})
		created = err == nil
		if errors.Is(err, store.ErrConflict) {
			t, err = s.existingTarget(r)
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !created && (spec != "" || identities != "") {
		if spec != "" {
			err = s.setSpec(ctx, &t.TargetSettings, spec)
		}
		if err == nil {
			err = setIdentities(&t.TargetSettings, identities, false)
		}
		if err == nil {
			err = s.store.UpdateTarget(ctx, t)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	in := scanInput{TargetID: t.ID, Mode: "passive", Confirm: r.PostFormValue("confirm")}
	if r.PostFormValue("active") == "on" {
		in.Mode = "active"
	}
	sc, err := s.startScan(ctx, currentUser(ctx), t, in)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/scans/"+strconv.FormatInt(sc.ID, 10), http.StatusSeeOther)
}

// existingTarget finds the target whose URL the form named, stored in the
// form createTarget stores it.
func (s *Server) existingTarget(r *http.Request) (*store.Target, error) {
	u, err := s.checkURL(r.Context(), "target URL", r.PostFormValue("url"))
	if err != nil {
		return nil, err
	}
	return s.store.GetTargetByURL(r.Context(), targetURL(u))
}
