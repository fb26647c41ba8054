package web

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/store"
)

const (
	sessionCookie = "merlon_session"
	// preCSRFCookie carries the double-submit CSRF token of the forms
	// shown before anyone is signed in (setup, sign-in).
	preCSRFCookie = "merlon_csrf"
	csrfField     = "csrf_token"
	sessionTTL    = 7 * 24 * time.Hour
)

type ctxKey int

const (
	userKey ctxKey = iota
	sessionKey
)

// currentUser returns the user a request was authenticated as; the access
// middleware guarantees one on page and api routes.
func currentUser(ctx context.Context) *store.User {
	u, _ := ctx.Value(userKey).(*store.User)
	return u
}

// sessionToken returns the raw session cookie value of a signed-in page
// request, from which its CSRF token derives.
func sessionToken(ctx context.Context) string {
	t, _ := ctx.Value(sessionKey).(string)
	return t
}

// csrfFor derives the synchronizer token of a session. It is a hash of the
// session secret, so it needs no storage, differs per session, and cannot
// be computed by a page that cannot read the HttpOnly cookie.
func csrfFor(session string) string {
	sum := sha256.Sum256([]byte("merlon csrf\x00" + session))
	return hex.EncodeToString(sum[:])
}

func equalTokens(a, b string) bool {
	return a != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// requireSession lets a page request through with a valid session cookie,
// and a state-changing one only with the session's CSRF token. Others are
// sent to sign in (or to set up a fresh install).
func (s *Server) requireSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		c, err := r.Cookie(sessionCookie)
		var sess *store.Session
		if err == nil && c.Value != "" {
			sess, err = s.store.GetSession(ctx, store.HashToken(c.Value), s.now())
		}
		if sess == nil || err != nil {
			if r.Method != http.MethodGet && r.Method != http.MethodHead {
				http.Error(w, "sign in first", http.StatusUnauthorized)
				return
			}
			dest := "/signin?next=" + url.QueryEscape(r.URL.RequestURI())
			if n, err := s.store.CountUsers(ctx); err == nil && n == 0 {
				dest = "/setup"
			}
			http.Redirect(w, r, dest, http.StatusSeeOther)
			return
		}
		u, err := s.store.GetUser(ctx, sess.UserID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !equalTokens(r.PostFormValue(csrfField), csrfFor(c.Value)) {
				http.Error(w, "missing or wrong CSRF token: reload the page and try again", http.StatusForbidden)
				return
			}
		}
		ctx = context.WithValue(ctx, userKey, u)
		ctx = context.WithValue(ctx, sessionKey, c.Value)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// requireToken lets an API request through with a valid bearer token. API
// requests carry no cookie authority, so they need no CSRF token.
func (s *Server) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		raw, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		raw = strings.TrimSpace(raw)
		if !ok || raw == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="merlon"`)
			writeError(w, http.StatusUnauthorized, "an API token is required (Authorization: Bearer <token>)")
			return
		}
		tok, err := s.store.GetAPIToken(ctx, store.HashToken(raw))
		if errors.Is(err, store.ErrNotFound) {
			w.Header().Set("WWW-Authenticate", `Bearer realm="merlon", error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "unknown or revoked API token")
			return
		}
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		u, err := s.store.GetUser(ctx, tok.UserID)
		if err != nil {
			s.serverError(w, r, err)
			return
		}
		if err := s.store.TouchAPIToken(ctx, tok.ID, s.now()); err != nil {
			s.log.WarnContext(ctx, "record API token use", "error", err)
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(ctx, userKey, u)))
	})
}

// startSession signs u in on this browser.
func (s *Server) startSession(w http.ResponseWriter, r *http.Request, u *store.User) error {
	tok, err := store.NewToken()
	if err != nil {
		return err
	}
	exp := s.now().Add(sessionTTL)
	if err := s.store.CreateSession(r.Context(), &store.Session{TokenHash: store.HashToken(tok), UserID: u.ID, ExpiresAt: exp}); err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: tok, Path: "/", Expires: exp,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode,
	})
	return nil
}

// preCSRF returns the double-submit token of a signed-out form, setting
// its cookie when the browser has none yet.
func preCSRF(w http.ResponseWriter, r *http.Request) (string, error) {
	if c, err := r.Cookie(preCSRFCookie); err == nil && len(c.Value) >= 32 {
		return c.Value, nil
	}
	tok, err := store.NewToken()
	if err != nil {
		return "", err
	}
	http.SetCookie(w, &http.Cookie{
		Name: preCSRFCookie, Value: tok, Path: "/",
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode,
	})
	return tok, nil
}

// checkPreCSRF verifies a signed-out form's token against its cookie.
func checkPreCSRF(r *http.Request) bool {
	c, err := r.Cookie(preCSRFCookie)
	return err == nil && equalTokens(r.PostFormValue(csrfField), c.Value)
}
