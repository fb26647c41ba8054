package web

import (
	"net/http"
)

// deleteUserFromForm removes an account with its sessions and API tokens.
// Nobody removes themselves here, so the last account cannot go by
// accident; the store refuses to remove the last one in any case.
func (s *Server) deleteUserFromForm(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := pathID(r, "id")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	me := currentUser(ctx)
	if id == me.ID {
		s.fail(w, r, badRequest("you cannot remove your own account; ask another user to"))
		return
	}
	u, err := s.store.GetUser(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.store.DeleteUser(ctx, id); err != nil {
		s.fail(w, r, err)
		return
	}
	s.log.InfoContext(ctx, "user removed", "user", u.Email, "by", me.Email)
	http.Redirect(w, r, "/users", http.StatusSeeOther)
}
