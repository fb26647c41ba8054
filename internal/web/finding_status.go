package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/merlonsec/merlon/internal/store"
)

// setFindingStatusFromForm records a person's decision about a finding. It
// belongs to the target and fingerprint, so it holds on later scans.
func (s *Server) setFindingStatusFromForm(w http.ResponseWriter, r *http.Request) {
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	fp := r.PathValue("fingerprint")
	if _, err := s.store.GetTarget(r.Context(), id); err != nil {
		s.fail(w, r, err)
		return
	}
	in := statusInput{
		State:     store.FindingState(r.PostFormValue("state")),
		Reason:    r.PostFormValue("reason"),
		ExpiresAt: r.PostFormValue("expires"),
	}
	if _, err := s.setStatus(r.Context(), currentUser(r.Context()), id, fp, in); err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/targets/"+strconv.FormatInt(id, 10)+"/findings/"+url.PathEscape(fp), http.StatusSeeOther)
}
