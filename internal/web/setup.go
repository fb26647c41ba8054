package web

import (
	"net/http"
	"net/mail"
	"strings"

	"github.com/merlonsec/merlon/internal/store"
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

// minPassword is the shortest password accepted.
const minPassword = 12

// createFirstUser creates the admin account of a fresh install and signs
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
	pw := r.PostFormValue("password")
	again := func(msg string) {
		tok, _ := preCSRF(w, r)
		s.renderView(w, r, http.StatusBadRequest, "setup", view{Title: "Set up Merlon", CSRF: tok, Page: map[string]string{"Error": msg, "Email": email}})
	}
	if _, err := mail.ParseAddress(email); err != nil || !strings.Contains(email, "@") {
		again("Enter a valid email address.")
		return
	}
	if len(pw) < minPassword {
		again("Use a password of at least 12 characters.")
		return
	}
	if pw != r.PostFormValue("password2") {
		again("The passwords differ.")
		return
	}
	hash, err := store.HashPassword(pw)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	u := &store.User{Email: email, PasswordHash: hash}
	if err := s.store.CreateUser(ctx, u); err != nil {
		s.serverError(w, r, err)
		return
	}
	if err := s.startSession(w, r, u); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, "/targets", http.StatusSeeOther)
}
