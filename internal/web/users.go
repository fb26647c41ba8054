package web

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"strings"

	"github.com/merlonsec/merlon/internal/store"
)

// MinPassword is the shortest password Merlon accepts for an account.
const MinPassword = 12

// AddUser creates an account after the checks every way of adding one
// shares (the setup page, the users page, `merlon serve user add`): a
// plain email address and a password of at least MinPassword characters.
// A bad email or password is refused with store.ErrInvalid, a taken email
// with store.ErrConflict; either error's text is fit to show the person.
func AddUser(ctx context.Context, users store.UserStore, email, password string) (*store.User, error) {
	email = strings.TrimSpace(email)
	if a, err := mail.ParseAddress(email); err != nil || a.Address != email || !strings.Contains(email, "@") {
		return nil, &userError{status: http.StatusBadRequest, msg: "enter a valid email address, like ana@example.com", err: store.ErrInvalid}
	}
	if len(password) < MinPassword {
		return nil, &userError{status: http.StatusBadRequest, msg: "use a password of at least 12 characters", err: store.ErrInvalid}
	}
	hash, err := store.HashPassword(password)
	if err != nil {
		return nil, err
	}
	u := &store.User{Email: email, PasswordHash: hash}
	if err := users.CreateUser(ctx, u); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, &userError{status: http.StatusConflict, msg: "an account with this email exists already", err: store.ErrConflict}
		}
		return nil, err
	}
	return u, nil
}

// showUsersPage lists the people who may sign in, with forms to add and
// remove them. Everyone signed in may: the dashboard serves one team.
func (s *Server) showUsersPage(w http.ResponseWriter, r *http.Request) {
	s.renderUsers(w, r, http.StatusOK, map[string]string{})
}

// renderUsers shows the users page with form state: Error and Email after
// a refused addition, Added after a successful one.
func (s *Server) renderUsers(w http.ResponseWriter, r *http.Request, status int, form map[string]string) {
	users, err := s.store.ListUsers(r.Context())
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	s.renderView(w, r, status, "users", view{Title: "Users", Page: map[string]any{"Users": users, "Form": form}})
}
