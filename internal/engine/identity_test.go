package engine

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
)

func TestAnonymousStripsCredentials(t *testing.T) {
	var mu sync.Mutex
	var seen http.Header
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = r.Header.Clone()
		mu.Unlock()
	})
	c := newClient(t, srv.URL, Config{
		Header: http.Header{
			"Authorization":    {"Bearer global-token-1"},
			"X-Api-Key":        {"global-key-12345"},
			"Cookie":           {"sid=abc"},
			"X-Org-Credential": {"org-cred-98765"}, // an identity header name below
			"X-Team":           {"blue"},
		},
		Identities: []scan.Identity{{Name: "alice", Role: "user", Headers: http.Header{"X-Org-Credential": {"alice-cred-555"}}}},
	})
	tests := []struct {
		name string
		req  scan.Request
		want map[string]string
	}{
		{name: "anonymous", req: scan.Request{Identity: scan.Anonymous},
			want: map[string]string{"Authorization": "", "X-Api-Key": "", "Cookie": "", "X-Org-Credential": "", "X-Team": "blue"}},
		{name: "default identity", req: scan.Request{},
			want: map[string]string{"Authorization": "Bearer global-token-1", "X-Org-Credential": "alice-cred-555", "X-Team": "blue"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Path = "/"
			ex, err := c.Do(context.Background(), &tt.req)
			if err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			for k, want := range tt.want {
				if got := seen.Get(k); got != want {
					t.Errorf("server saw %s = %q, want %q", k, got, want)
				}
			}
			wantID := tt.req.Identity
			if wantID == "" {
				wantID = "alice"
			}
			if ex.Request.Identity != wantID {
				t.Errorf("recorded identity = %q, want %q", ex.Request.Identity, wantID)
			}
		})
	}
}

func TestNoIdentityRecordsEmpty(t *testing.T) {
	srv := newCounter(t, ok)
	c := newClient(t, srv.URL, Config{Header: http.Header{"Authorization": {"Bearer x"}}})
	ex, err := c.Do(context.Background(), &scan.Request{Path: "/"})
	if err != nil {
		t.Fatal(err)
	}
	if ex.Request.Identity != "" {
		t.Errorf("identity with only global headers = %q, want empty", ex.Request.Identity)
	}
}

// authServer issues tokens on POST /login and accepts only the newest one
// on GET /me. Revoke makes every issued token invalid.
type authServer struct {
	*httptest.Server
	logins atomic.Int64
	mes    atomic.Int64
	mu     sync.Mutex
	valid  map[string]bool
	// jwtTTL, when set, issues JWTs with an exp that far ahead.
	jwtTTL time.Duration
	// always401 makes /me refuse every token.
	always401 bool
	// refuseLogins makes POST /login answer 401 whatever the password.
	refuseLogins atomic.Bool
}

const loginPassword = "correct-horse-battery"

func newAuthServer(t *testing.T) *authServer {
	t.Helper()
	a := &authServer{valid: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ User, Password string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Password != loginPassword || a.refuseLogins.Load() {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprintf(w, `{"error":"bad password %s"}`, body.Password)
			return
		}
		n := a.logins.Add(1)
		tok := fmt.Sprintf("issued-token-%04d", n)
		if a.jwtTTL > 0 {
			head := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256"}`))
			claims := base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, `{"sub":"alice","n":%d,"exp":%d}`, n, time.Now().Add(a.jwtTTL).Unix()))
			tok = head + "." + claims + ".c2lnbmF0dXJl"
		}
		a.mu.Lock()
		a.valid[tok] = true
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"data":{"token":%q,"echo":%q}}`, tok, body.Password)
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		a.mes.Add(1)
		tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		a.mu.Lock()
		good := a.valid[tok] && !a.always401
		a.mu.Unlock()
		if !good {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, `{"user":"alice","your_token":%q}`, tok)
	})
	a.Server = httptest.NewServer(mux)
	t.Cleanup(a.Close)
	return a
}

func (a *authServer) revoke() {
	a.mu.Lock()
	a.valid = map[string]bool{}
	a.mu.Unlock()
}

func loginConfig(password string) Config {
	return Config{
		Identities: []scan.Identity{{Name: "alice", Role: "user"}},
		Logins: map[string]Login{"alice": {
			Path:      "/login",
			Header:    http.Header{"Content-Type": {"application/json"}},
			Body:      fmt.Appendf(nil, `{"user":"alice","password":%q}`, password),
			TokenJSON: "$.data.token",
		}},
		MinRelogin: time.Nanosecond,
	}
}

func TestLoginFlow(t *testing.T) {
	a := newAuthServer(t)
	var mu sync.Mutex
	var recorded []*scan.Exchange
	var logs bytes.Buffer
	cfg := loginConfig(loginPassword)
	cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg.Observer = func(ex *scan.Exchange) {
		mu.Lock()
		recorded = append(recorded, ex)
		mu.Unlock()
	}
	c := newClient(t, a.URL, cfg) // not Active: the login POST is still allowed
	ctx := context.Background()
	if err := c.Login(ctx, "alice"); err != nil {
		t.Fatalf("Login = %v, want nil", err)
	}
	ids := c.Identities()
	if len(ids) != 1 || ids[0].Headers.Get("Authorization") != "Bearer issued-token-0001" || ids[0].Role != "user" {
		t.Fatalf("Identities() = %+v, want alice with Bearer issued-token-0001", ids)
	}
	ex, err := c.Do(ctx, &scan.Request{Path: "/me", Identity: "alice"})
	if err != nil || ex.Response.Status != http.StatusOK {
		t.Fatalf("GET /me = %v, %v; want 200", ex, err)
	}

	// Mid-scan expiry: every token is revoked; the next request is
	// answered 401, logs in once more and is retried once.
	a.revoke()
	ex, err = c.Do(ctx, &scan.Request{Path: "/me"})
	if err != nil || ex.Response.Status != http.StatusOK {
		t.Fatalf("GET /me after revocation = %+v, %v; want 200 after a new login", ex, err)
	}
	if got := a.logins.Load(); got != 2 {
		t.Errorf("logins = %d, want 2", got)
	}

	// Concurrent requests hitting 401 together share one new login.
	a.revoke()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ex, err := c.Do(ctx, &scan.Request{Path: "/me"})
			if err != nil || ex.Response.Status != http.StatusOK {
				t.Errorf("concurrent GET /me = %v; want 200", err)
			}
		}()
	}
	wg.Wait()
	if got := a.logins.Load(); got > 4 {
		t.Errorf("logins after 8 concurrent 401s = %d, want at most a couple more than 2", got)
	}

	// No secret shows in what the engine recorded or logged.
	mu.Lock()
	defer mu.Unlock()
	if len(recorded) < 4 {
		t.Fatalf("recorded %d exchanges, want logins and requests", len(recorded))
	}
	all, _ := json.Marshal(recorded)
	text := string(all) + logs.String()
	for _, ex := range recorded {
		text += ex.Curl
		if ex.Request.Identity != "alice" {
			t.Errorf("%s %s recorded identity %q, want alice", ex.Request.Method, ex.Request.URL, ex.Request.Identity)
		}
	}
	for _, secret := range []string{loginPassword, "issued-token-000"} {
		if strings.Contains(text, secret) {
			t.Errorf("recorded evidence or logs contain %q", secret)
		}
	}
	if !strings.Contains(string(all), `"identity":"alice"`) {
		t.Errorf("JSON evidence lacks the identity field")
	}
}

func TestReloginOnlyOnce(t *testing.T) {
	a := newAuthServer(t)
	c := newClient(t, a.URL, loginConfig(loginPassword))
	ctx := context.Background()
	if err := c.Login(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	a.always401 = true
	a.mu.Unlock()
	ex, err := c.Do(ctx, &scan.Request{Path: "/me"})
	if err != nil || ex.Response.Status != http.StatusUnauthorized {
		t.Fatalf("GET /me = %v, %v; want the 401 returned", ex, err)
	}
	if got := a.logins.Load(); got != 2 {
		t.Errorf("logins = %d, want 2 (the first and one retry)", got)
	}
	if got := a.mes.Load(); got != 2 {
		t.Errorf("GET /me sent %d times, want 2 (one retry)", got)
	}

	// A request that removes the token itself is not a reason to log in.
	before := a.logins.Load()
	if _, err := c.Do(ctx, &scan.Request{Path: "/me", Header: http.Header{"Authorization": nil}}); err != nil {
		t.Fatal(err)
	}
	if got := a.logins.Load(); got != before {
		t.Errorf("a request without the token caused %d logins, want 0", got-before)
	}
}

// A renewal that fails mid-scan is not only logged: LoginFailures lists
// it, so the report can say that an identity lost its credentials.
func TestLoginFailuresRecorded(t *testing.T) {
	a := newAuthServer(t)
	c := newClient(t, a.URL, loginConfig(loginPassword))
	ctx := context.Background()
	if err := c.Login(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if got := c.LoginFailures(); got != nil {
		t.Fatalf("LoginFailures() after a good login = %+v, want nil", got)
	}
	a.refuseLogins.Store(true)
	a.revoke()
	for range 2 {
		ex, err := c.Do(ctx, &scan.Request{Path: "/me"})
		if err != nil || ex.Response.Status != http.StatusUnauthorized {
			t.Fatalf("GET /me = %v, %v; want the 401 returned", ex, err)
		}
	}
	got := c.LoginFailures()
	if len(got) != 1 || got[0].Identity != "alice" || got[0].Count != 2 || !strings.Contains(got[0].Last, "answered 401") {
		t.Fatalf("LoginFailures() = %+v, want alice failing twice with a 401", got)
	}
	if strings.Contains(got[0].Last, loginPassword) {
		t.Errorf("LoginFailures()[0].Last = %q shows the password", got[0].Last)
	}
	// Login's own failure goes to its caller, not into the list.
	if err := c.Login(ctx, "alice"); !errors.Is(err, ErrLoginFailed) {
		t.Fatalf("Login = %v, want ErrLoginFailed", err)
	}
	if got := c.LoginFailures(); got[0].Count != 2 {
		t.Errorf("LoginFailures()[0].Count after a failed Login = %d, want 2", got[0].Count)
	}
}

func TestReloginWaitsMinRelogin(t *testing.T) {
	a := newAuthServer(t)
	cfg := loginConfig(loginPassword)
	cfg.MinRelogin = time.Hour
	c := newClient(t, a.URL, cfg)
	if err := c.Login(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	a.revoke()
	if _, err := c.Do(context.Background(), &scan.Request{Path: "/me"}); err != nil {
		t.Fatal(err)
	}
	if got := a.logins.Load(); got != 1 {
		t.Errorf("logins = %d, want 1: a token younger than MinRelogin is not renewed on 401", got)
	}
}

func TestRefreshBeforeExpiry(t *testing.T) {
	a := newAuthServer(t)
	a.jwtTTL = 10 * time.Second // inside the 30s renewal window
	c := newClient(t, a.URL, loginConfig(loginPassword))
	ctx := context.Background()
	if err := c.Login(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	ex, err := c.Do(ctx, &scan.Request{Path: "/me"})
	if err != nil || ex.Response.Status != http.StatusOK {
		t.Fatalf("GET /me = %v, %v; want 200", ex, err)
	}
	if got := a.logins.Load(); got != 2 {
		t.Errorf("logins = %d, want 2: a token about to expire is renewed before use", got)
	}
	if got := a.mes.Load(); got != 1 {
		t.Errorf("GET /me sent %d times, want 1 (no 401 round)", got)
	}

	b := newAuthServer(t)
	b.jwtTTL = time.Hour
	c = newClient(t, b.URL, loginConfig(loginPassword))
	if err := c.Login(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Do(ctx, &scan.Request{Path: "/me"}); err != nil {
		t.Fatal(err)
	}
	if got := b.logins.Load(); got != 1 {
		t.Errorf("logins with an hour-long token = %d, want 1", got)
	}
}

func TestLoginErrors(t *testing.T) {
	a := newAuthServer(t)
	tests := []struct {
		name  string
		login Login
		want  error
	}{
		{name: "wrong password", login: loginConfig("wrong-password-here").Logins["alice"], want: ErrLoginFailed},
		{name: "no token at path", login: func() Login {
			l := loginConfig(loginPassword).Logins["alice"]
			l.TokenJSON = "$.data.missing"
			return l
		}(), want: ErrNoToken},
		{name: "no cookie", login: func() Login {
			l := loginConfig(loginPassword).Logins["alice"]
			l.TokenJSON, l.Cookie = "", "session"
			return l
		}(), want: ErrNoToken},
		{name: "out of scope", login: Login{Path: "http://localhost:1/login", TokenJSON: "token"}, want: scan.ErrOutOfScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := loginConfig(loginPassword)
			cfg.Logins["alice"] = tt.login
			c := newClient(t, a.URL, cfg)
			err := c.Login(context.Background(), "alice")
			if !errors.Is(err, tt.want) {
				t.Fatalf("Login = %v, want %v", err, tt.want)
			}
			if strings.Contains(err.Error(), "wrong-password-here") || strings.Contains(err.Error(), loginPassword) {
				t.Errorf("Login error %q shows the password", err)
			}
		})
	}
}

func TestCookieLogin(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /session", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "cookie-value-777"})
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		if ck, err := r.Cookie("sid"); err != nil || ck.Value != "cookie-value-777" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if ck, err := r.Cookie("theme"); err != nil || ck.Value != "dark" {
			w.WriteHeader(http.StatusBadRequest)
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	c := newClient(t, srv.URL, Config{
		Identities: []scan.Identity{{Name: "bob", Headers: http.Header{"Cookie": {"theme=dark"}}}},
		Logins:     map[string]Login{"bob": {Path: "/session", Cookie: "sid"}},
	})
	if err := c.Login(context.Background(), "bob"); err != nil {
		t.Fatal(err)
	}
	ex, err := c.Do(context.Background(), &scan.Request{Path: "/me", Identity: "bob"})
	if err != nil || ex.Response.Status != http.StatusOK {
		t.Fatalf("GET /me = %v, %v; want 200", ex, err)
	}
	if strings.Contains(ex.Curl, "cookie-value-777") {
		t.Errorf("curl shows the session cookie: %s", ex.Curl)
	}
}

// TestCustomHeaderRedacted: an identity header whose name package redact
// does not know is still redacted, and so is its value echoed anywhere.
func TestCustomHeaderRedacted(t *testing.T) {
	const secret = "org-credential-4242"
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "you sent %s", r.Header.Get("X-Org-Credential"))
	})
	c := newClient(t, srv.URL, Config{Identities: []scan.Identity{{Name: "carol", Headers: http.Header{"X-Org-Credential": {secret}}}}})
	ex, err := c.Do(context.Background(), &scan.Request{Path: "/?echo=" + secret})
	if err != nil {
		t.Fatal(err)
	}
	all, _ := json.Marshal(ex)
	if strings.Contains(string(all), secret) {
		t.Errorf("exchange contains the identity header value: %s", all)
	}
	if got := ex.Request.Header.Get("X-Org-Credential"); got != "[REDACTED]" {
		t.Errorf("recorded X-Org-Credential = %q, want [REDACTED]", got)
	}
}

func TestJSONPath(t *testing.T) {
	var doc any
	if err := json.Unmarshal([]byte(`{"access_token":"a","data":{"tokens":["b","c"],"x.y":"d"},"n":5}`), &doc); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		path string
		want any
		ok   bool
	}{
		{"access_token", "a", true},
		{"$.access_token", "a", true},
		{"$.data.tokens[1]", "c", true},
		{"data['x.y']", "d", true},
		{"$['data'][\"tokens\"][0]", "b", true},
		{"$.n", 5.0, true},
		{"$.data.tokens[2]", nil, false},
		{"$.missing", nil, false},
		{"$.access_token.deeper", nil, false},
		{"$.data[", nil, false},
	}
	for _, tt := range tests {
		got, ok := JSONPath(doc, tt.path)
		if ok != tt.ok || ok && got != tt.want {
			t.Errorf("JSONPath(%q) = %v, %v, want %v, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

// TestLoginFailureNotRecordedWhenBudgetRunsOut: a renewal that could not
// be sent because the scan's request budget ran out is not a refusal of
// the identity's credentials.
func TestLoginFailureNotRecordedWhenBudgetRunsOut(t *testing.T) {
	a := newAuthServer(t)
	cfg := loginConfig(loginPassword)
	cfg.MaxRequests = 2 // the login and one request
	c := newClient(t, a.URL, cfg)
	ctx := context.Background()
	if err := c.Login(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	a.revoke()
	if _, err := c.Do(ctx, &scan.Request{Path: "/me"}); err != nil {
		t.Fatalf("GET /me: %v", err)
	}
	if got := c.LoginFailures(); got != nil {
		t.Errorf("LoginFailures() = %+v, want none: the budget, not the credentials, stopped the renewal", got)
	}
}
