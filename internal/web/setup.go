package web

import (
	"errors"
	"net/http"
	"strings"
)

// showSetupPage asks for the first account. It exists only while no user
// does: after that it sends everyone to sign in.
func (s *Server) showSetupPage(w http.ResponseWriter, r *http.Request) {
	n, err := s.store.CountUsers(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if n > 0 {
		http.Redirect(w, r, "/signin", http.StatusSeeOther)
		return
	}
	tok, err := preCSRF(w, r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.renderView(w, r, http.StatusOK, "setup", view{Title: "Set up Merlon", CSRF: tok, Page: map[string]string{}})
}

// createFirstUser creates the first account of a fresh install and signs
// it in.
func (s *Server) createFirstUser(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if !checkPreCSRF(r) {
		http.Error(w, "missing or wrong CSRF token: reload the page and try again", http.StatusForbidden)
		return
	}
	n, err := s.store.CountUsers(ctx)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if n > 0 {
		http.Error(w, "Merlon is already set up; sign in", http.StatusForbidden)
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	again := func(msg string) {
		tok, _ := preCSRF(w, r)
		s.renderView(w, r, http.StatusBadRequest, "setup", view{Title: "Set up Merlon", CSRF: tok, Page: map[string]string{"Error": msg, "Email": email}})
	}
	if r.PostFormValue("password") != r.PostFormValue("password2") {
		again("The passwords differ.")
		return
	}
	u, err := AddUser(ctx, s.store, email, r.PostFormValue("password"))
	var ue *userError
	if errors.As(err, &ue) {
		again(ue.msg)
		return
	}
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := s.startSession(w, r, u); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/targets", http.StatusSeeOther)
}
