package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/store"
)

// signInAs signs in through the real sign-in form with a fresh browser and
// returns it, or fails.
func signInAs(t *testing.T, base, email, password string) *http.Client {
	t.Helper()
	c := browser(t)
	tok := formToken(t, get(t, c, base+"/signin"))
	resp, err := c.PostForm(base+"/signin", url.Values{csrfField: {tok}, "email": {email}, "password": {password}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/targets" {
		t.Fatalf("sign in as %s = %d to %q, want 303 to /targets", email, resp.StatusCode, resp.Header.Get("Location"))
	}
	return c
}

// TestUserManagement adds a teammate on the users page, signs in as them
// through the form, removes them, and checks that their session and API
// token stop working.
func TestUserManagement(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	base := startServer(t, e)

	body := e.page("/users").Body.String()
	if !strings.Contains(body, "admin@example.com") || !strings.Contains(body, `<span class="muted">you</span>`) {
		t.Errorf("users page does not list the signed-in admin as you")
	}

	refused := []struct {
		name string
		form url.Values
		want string
	}{
		{"bad email", url.Values{"email": {"bob at example"}, "password": {"a long enough password"}, "password2": {"a long enough password"}}, "valid email"},
		{"short password", url.Values{"email": {"bob@example.com"}, "password": {"short"}, "password2": {"short"}}, "at least 12 characters"},
		{"passwords differ", url.Values{"email": {"bob@example.com"}, "password": {"a long enough password"}, "password2": {"another one entirely"}}, "passwords differ"},
		{"taken email", url.Values{"email": {"ADMIN@example.com"}, "password": {"a long enough password"}, "password2": {"a long enough password"}}, "exists already"},
	}
	for _, tc := range refused {
		rec := e.post("/users", tc.form)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), tc.want) {
			t.Errorf("POST /users (%s) = %d, want 400 saying %q", tc.name, rec.Code, tc.want)
		}
	}
	// Without the CSRF token nothing is added.
	rec := e.do("POST", "/users", strings.NewReader("email=mallory%40example.com&password=a+long+enough+password&password2=a+long+enough+password"),
		map[string]string{"session": "", "Content-Type": "application/x-www-form-urlencoded"})
	if rec.Code != http.StatusForbidden {
		t.Errorf("POST /users without CSRF = %d, want 403", rec.Code)
	}
	if n, _ := e.st.CountUsers(ctx); n != 1 {
		t.Fatalf("users after refused additions = %d, want 1", n)
	}

	rec = e.post("/users", url.Values{"email": {"bob@example.com"}, "password": {"bob's long password"}, "password2": {"bob's long password"}})
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "Added bob@example.com") {
		t.Fatalf("POST /users = %d, want 200 saying bob was added: %s", rec.Code, rec.Body.String())
	}
	bob, err := e.st.GetUserByEmail(ctx, "bob@example.com")
	if err != nil {
		t.Fatal(err)
	}

	// Bob signs in through the form, sees the team's pages and makes a token.
	c := signInAs(t, base, "bob@example.com", "bob's long password")
	if page := get(t, c, base+"/users"); !strings.Contains(page, "admin@example.com") || !strings.Contains(page, `/users/`+itoa(e.user.ID)+`/delete`) {
		t.Errorf("bob's users page does not offer to remove the admin")
	}
	tok, _, err := e.srv.createToken(ctx, bob, "bob's CI")
	if err != nil {
		t.Fatal(err)
	}

	// Nobody removes themselves.
	if rec := e.post("/users/"+itoa(e.user.ID)+"/delete", nil); rec.Code != http.StatusBadRequest {
		t.Errorf("admin removing themselves = %d, want 400", rec.Code)
	}
	if rec := e.post("/users/99999/delete", nil); rec.Code != http.StatusNotFound {
		t.Errorf("removing an unknown user = %d, want 404", rec.Code)
	}
	if rec := e.post("/users/"+itoa(bob.ID)+"/delete", nil); rec.Code != http.StatusSeeOther {
		t.Fatalf("removing bob = %d %s, want 303", rec.Code, rec.Body.String())
	}
	if _, err := e.st.GetUser(ctx, bob.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetUser(bob) after removal = %v, want ErrNotFound", err)
	}
	resp, err := c.Get(base + "/targets")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/signin") {
		t.Errorf("bob's session after removal: GET /targets = %d to %q, want a redirect to sign in", resp.StatusCode, resp.Header.Get("Location"))
	}
	req, _ := http.NewRequest("GET", base+"/api/targets", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("bob's API token after removal = %d, want 401", resp.StatusCode)
	}
	if strings.Contains(e.page("/users").Body.String(), "bob@example.com") {
		t.Errorf("users page still lists bob after removal")
	}
}

func TestAddUserRules(t *testing.T) {
	e := newEnvNoUser(t)
	ctx := context.Background()
	tests := []struct {
		name, email, password string
		want                  error
	}{
		{"ok", " ana@example.com ", "twelve chars", nil},
		{"taken, other case", "ANA@example.com", "twelve chars", store.ErrConflict},
		{"display name form", "Ana <ana2@example.com>", "twelve chars", store.ErrInvalid},
		{"no at sign", "ana", "twelve chars", store.ErrInvalid},
		{"empty", "", "twelve chars", store.ErrInvalid},
		{"eleven characters", "bo@example.com", "eleven char", store.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := AddUser(ctx, e.st, tt.email, tt.password)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (u != nil) {
				t.Fatalf("AddUser(%q, %q) = %v, %v; want %v", tt.email, tt.password, u, err, tt.want)
			}
			if u != nil && (u.Email != "ana@example.com" || !store.CheckPassword(u.PasswordHash, tt.password)) {
				t.Errorf("AddUser(%q) stored %+v, want the trimmed email and a hash of the password", tt.email, u)
			}
		})
	}
}
