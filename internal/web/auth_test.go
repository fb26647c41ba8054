package web

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestAuthRequired(t *testing.T) {
	e := newEnv(t, true)
	tests := []struct {
		name, method, path string
		hdr                map[string]string
		want               int
		wantLoc            string
	}{
		{"page without session", "GET", "/targets", nil, http.StatusSeeOther, "/signin?next=%2Ftargets"},
		{"page with bogus session", "GET", "/tokens", map[string]string{"Cookie": sessionCookie + "=mln_nope"}, http.StatusSeeOther, "/signin?next=%2Ftokens"},
		{"page with session", "GET", "/targets", map[string]string{"session": ""}, http.StatusOK, ""},
		{"form post without session", "POST", "/targets", nil, http.StatusUnauthorized, ""},
		{"api without token", "GET", "/api/targets", nil, http.StatusUnauthorized, ""},
		{"api with unknown token", "GET", "/api/targets", map[string]string{"Authorization": "Bearer mln_unknown"}, http.StatusUnauthorized, ""},
		{"api with a session cookie only", "GET", "/api/targets", map[string]string{"session": ""}, http.StatusUnauthorized, ""},
		{"api with token", "GET", "/api/targets", map[string]string{"bearer": ""}, http.StatusOK, ""},
		{"metrics are public", "GET", "/metrics", nil, http.StatusOK, ""},
		{"openapi is public", "GET", "/api/openapi.json", nil, http.StatusOK, ""},
		{"unknown api route", "GET", "/api/nope", map[string]string{"bearer": ""}, http.StatusNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.do(tc.method, tc.path, nil, tc.hdr)
			if rec.Code != tc.want {
				t.Fatalf("%s %s = %d, want %d (body %s)", tc.method, tc.path, rec.Code, tc.want, rec.Body.String())
			}
			if tc.wantLoc != "" && rec.Header().Get("Location") != tc.wantLoc {
				t.Errorf("%s %s Location = %q, want %q", tc.method, tc.path, rec.Header().Get("Location"), tc.wantLoc)
			}
		})
	}
}

func TestRevokedTokenStopsWorking(t *testing.T) {
	e := newEnv(t, true)
	toks, err := e.st.ListAPITokens(context.Background(), e.user.ID)
	if err != nil || len(toks) != 1 {
		t.Fatalf("ListAPITokens = %v, %v; want one token", toks, err)
	}
	if toks[0].Hash == e.token || !strings.HasPrefix(e.token, "mln_") {
		t.Fatalf("stored token hash = %q for token %q, want a hash, not the token", toks[0].Hash, e.token)
	}
	if rec := e.api("DELETE", "/api/tokens/"+itoa(toks[0].ID), ""); rec.Code != http.StatusNoContent {
		t.Fatalf("DELETE token = %d, want 204", rec.Code)
	}
	if rec := e.api("GET", "/api/targets", ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("GET with revoked token = %d, want 401", rec.Code)
	}
}

func TestSetupOnlyWhileNoUser(t *testing.T) {
	e := newEnv(t, true)
	if rec := e.do("GET", "/setup", nil, nil); rec.Code != http.StatusSeeOther {
		t.Errorf("GET /setup with a user = %d, want 303 to sign in", rec.Code)
	}
	// The whole first-run flow through a real listener and cookie jar.
	fresh := newEnvNoUser(t)
	c := browser(t)
	srv := startServer(t, fresh)
	resp, err := c.Get(srv + "/targets")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "/setup" {
		t.Fatalf("GET /targets on a fresh install Location = %q, want /setup", loc)
	}
	body := get(t, c, srv+"/setup")
	tok := formToken(t, body)
	form := url.Values{"csrf_token": {tok}, "email": {"me@example.com"}, "password": {"a long enough password"}, "password2": {"a long enough password"}}
	resp, err = c.PostForm(srv+"/setup", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/targets" {
		t.Fatalf("POST /setup = %d to %q, want 303 to /targets", resp.StatusCode, resp.Header.Get("Location"))
	}
	var session *http.Cookie
	for _, ck := range resp.Cookies() {
		if ck.Name == sessionCookie {
			session = ck
		}
	}
	if session == nil || !session.HttpOnly || session.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie = %+v, want HttpOnly SameSite=Lax", session)
	}
	if body := get(t, c, srv+"/targets"); !strings.Contains(body, "me@example.com") {
		t.Errorf("targets page after setup does not name the signed-in user")
	}
	// A second setup is refused now that a user exists.
	resp, err = c.PostForm(srv+"/setup", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("second POST /setup = %d, want 403", resp.StatusCode)
	}
}
