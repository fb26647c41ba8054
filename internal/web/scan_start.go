package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/merlonsec/merlon/internal/store"
)

// startScanFromForm starts a scan. With target_id it scans a known target
// with new spec and identities if given; with url it adds the target
// first, or reuses the one with that URL.
func (s *Server) startScanFromForm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var t *store.Target
	var err error
	if v := r.PostFormValue("target_id"); v != "" {
		id, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil {
			s.fail(w, r, store.ErrNotFound)
			return
		}
		t, err = s.store.GetTarget(ctx, id)
	} else {
		in := targetInput{URL: r.PostFormValue("url"), Spec: r.PostFormValue("spec"), Identities: r.PostFormValue("identities")}
		t, err = s.createTarget(ctx, in)
		var ue *userError
		if errors.As(err, &ue) && ue.status == http.StatusConflict {
			t, err = s.store.GetTargetByURL(ctx, strings.TrimRight(strings.TrimSpace(in.URL), "/"))
		}
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if r.PostForm.Has("spec") || r.PostForm.Has("identities") {
		if err := s.applyScanSettings(ctx, &t.TargetSettings, r.PostFormValue("spec"), r.PostFormValue("identities")); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.store.UpdateTarget(ctx, t); err != nil {
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
