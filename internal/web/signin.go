package web

import (
	"errors"
	"net/http"
	"strings"
	"sync"

	"github.com/merlonsec/merlon/internal/store"
)

// dummyHash is compared against when the email is unknown, so a wrong
// email takes as long as a wrong password and does not reveal who has an
// account.
var dummyHash = sync.OnceValue(func() string {
	h, _ := store.HashPassword("merlon: no such user")
	return h
})

func (s *Server) showSignInPage(w http.ResponseWriter, r *http.Request) {
	if n, err := s.store.CountUsers(r.Context()); err == nil && n == 0 {
		http.Redirect(w, r, "/setup", http.StatusSeeOther)
		return
	}
	tok, err := preCSRF(w, r)
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.renderView(w, r, http.StatusOK, "signin", view{Title: "Sign in", CSRF: tok, Page: map[string]string{"Next": safeNext(r.URL.Query().Get("next"))}})
}

func (s *Server) signIn(w http.ResponseWriter, r *http.Request) {
	if !checkPreCSRF(r) {
		http.Error(w, "missing or wrong CSRF token: reload the page and try again", http.StatusForbidden)
		return
	}
	email := strings.TrimSpace(r.PostFormValue("email"))
	next := safeNext(r.PostFormValue("next"))
	u, err := s.store.GetUserByEmail(r.Context(), email)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		s.serverError(w, r, err)
		return
	}
	hash := dummyHash()
	if u != nil {
		hash = u.PasswordHash
	}
	if !store.CheckPassword(hash, r.PostFormValue("password")) || u == nil {
		tok, _ := preCSRF(w, r)
		s.renderView(w, r, http.StatusUnauthorized, "signin", view{Title: "Sign in", CSRF: tok,
			Page: map[string]string{"Error": "Wrong email or password.", "Email": email, "Next": next}})
		return
	}
	if err := s.startSession(w, r, u); err != nil {
		s.serverError(w, r, err)
		return
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

// safeNext keeps a post-sign-in redirect on this server: a local path,
// never "//host" or a full URL.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.ContainsAny(next, "\r\n") {
		return "/targets"
	}
	return next
}
