package web

import (
	"net/http"
	"strconv"
)

// createTargetFromForm adds a target from the targets page.
func (s *Server) createTargetFromForm(w http.ResponseWriter, r *http.Request) {
	t, err := s.createTarget(r.Context(), targetInput{
		Name:       r.PostFormValue("name"),
		URL:        r.PostFormValue("url"),
		Spec:       r.PostFormValue("spec"),
		Identities: r.PostFormValue("identities"),
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/targets/"+strconv.FormatInt(t.ID, 10), http.StatusSeeOther)
}
