package web

import (
	"errors"
	"net/http"
)

// createUserFromForm adds an account from the users page. The new user
// signs in with the password given here.
func (s *Server) createUserFromForm(w http.ResponseWriter, r *http.Request) {
	email := r.PostFormValue("email")
	again := func(msg string) {
		s.renderUsers(w, r, http.StatusBadRequest, map[string]string{"Error": msg, "Email": email})
	}
	if r.PostFormValue("password") != r.PostFormValue("password2") {
		again("The passwords differ.")
		return
	}
	u, err := AddUser(r.Context(), s.store, email, r.PostFormValue("password"))
	var ue *userError
	if errors.As(err, &ue) {
		again(ue.msg)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.log.InfoContext(r.Context(), "user added", "user", u.Email, "by", currentUser(r.Context()).Email)
	s.renderUsers(w, r, http.StatusOK, map[string]string{"Added": u.Email})
}
