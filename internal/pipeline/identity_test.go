package pipeline_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/merlonsec/merlon/internal/engine"
	"github.com/merlonsec/merlon/internal/pipeline"
	"github.com/merlonsec/merlon/internal/scan"
)

// authAPI serves a public spec, a root that is 404 for everybody, and
// /items for requests bearing "Bearer good-token" (static) or a token
// issued by POST /login.
func authAPI(t *testing.T) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"openapi":"3.0.3","info":{"title":"auth","version":"1"},"paths":{"/items":{"get":{"responses":{"200":{"description":"ok"}}}}}}`)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("password") != "s3cret-pass" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"issued-token-xyz"}`)
	})
	mux.HandleFunc("GET /items", func(w http.ResponseWriter, r *http.Request) {
		switch r.Header.Get("Authorization") {
		case "Bearer good-token", "Bearer issued-token-xyz":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `[{"id":1}]`)
		default:
			w.WriteHeader(http.StatusUnauthorized)
		}
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNotFound) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// identitySpy records the identities the checks are given.
type identitySpy struct {
	mu  sync.Mutex
	ids []scan.Identity
}

func (s *identitySpy) Meta() scan.Meta { return scan.Meta{ID: "test.identity-spy", Family: "test"} }

func (s *identitySpy) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	s.mu.Lock()
	s.ids = t.Identities
	s.mu.Unlock()
	return nil, nil
}

func TestIdentityPreflight(t *testing.T) {
	srv := authAPI(t)
	form := &engine.Login{Path: "/login", Header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, TokenJSON: "$.access_token"}
	withBody := func(body string) *engine.Login {
		l := *form
		l.Body = []byte(body)
		return &l
	}
	tests := []struct {
		name      string
		ids       []scan.Identity
		auth      map[string]pipeline.Auth
		wantErr   string // "" for success
		wantToken string
	}{
		{name: "good static token",
			ids:       []scan.Identity{{Name: "alice", Role: "user", Headers: http.Header{"Authorization": {"Bearer good-token"}}}},
			wantToken: "Bearer good-token"},
		{name: "wrong static token",
			ids:     []scan.Identity{{Name: "alice", Role: "user", Headers: http.Header{"Authorization": {"Bearer wrong-token"}}}},
			wantErr: `identity "alice" (role user) is not accepted: GET`},
		{name: "good login",
			ids:       []scan.Identity{{Name: "admin", Role: "admin"}},
			auth:      map[string]pipeline.Auth{"admin": {Login: withBody("user=root&password=s3cret-pass")}},
			wantToken: "Bearer issued-token-xyz"},
		{name: "wrong password",
			ids:     []scan.Identity{{Name: "admin", Role: "admin"}},
			auth:    map[string]pipeline.Auth{"admin": {Login: withBody("user=root&password=nope")}},
			wantErr: `identity "admin" (role admin): login failed`},
		{name: "explicit check refused",
			ids:     []scan.Identity{{Name: "alice", Headers: http.Header{"Authorization": {"Bearer good-token"}}}},
			auth:    map[string]pipeline.Auth{"alice": {CheckMethod: "GET", CheckPath: "/nowhere"}},
			wantErr: "answered 404"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spy := &identitySpy{}
			cfg := scanConfig(t, srv.URL)
			cfg.Checks = []scan.Check{spy}
			cfg.Identities = tt.ids
			cfg.Auth = tt.auth
			rep, err := pipeline.Run(context.Background(), cfg)
			if tt.wantErr != "" {
				var ie *pipeline.InputError
				if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Run error = %v, want an InputError containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "wrong-token") || strings.Contains(err.Error(), "nope") {
					t.Errorf("error %q shows a credential", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run error = %v, want nil", err)
			}
			if rep == nil {
				t.Fatal("nil report")
			}
			spy.mu.Lock()
			defer spy.mu.Unlock()
			if len(spy.ids) != 1 || spy.ids[0].Headers.Get("Authorization") != tt.wantToken || spy.ids[0].Role != tt.ids[0].Role {
				t.Errorf("Target.Identities = %+v, want %s with Authorization %q", spy.ids, tt.ids[0].Name, tt.wantToken)
			}
		})
	}
}

// gatedAPI serves a spec with GET /items and GET /admin/stats. The root
// answers rootStatus to everybody without a good token (with 403, only to
// callers with a token: anonymous gets 401); /items needs
// "Bearer good-token" unless itemsPublic; /admin/stats answers 401 without
// a token and 403 to every token (nobody here is an admin).
func gatedAPI(t *testing.T, rootStatus int, itemsPublic bool) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"openapi":"3.0.3","info":{"title":"gated","version":"1"},"paths":{
		  "/admin/stats":{"get":{"responses":{"200":{"description":"ok"}}}},
		  "/items":{"get":{"responses":{"200":{"description":"ok"}}}}}}`)
	})
	mux.HandleFunc("GET /items", func(w http.ResponseWriter, r *http.Request) {
		if !itemsPublic && r.Header.Get("Authorization") != "Bearer good-token" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[{"id":1}]`)
	})
	mux.HandleFunc("GET /admin/stats", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		w.WriteHeader(http.StatusForbidden)
	})
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		if rootStatus == 4031 { // 403 to everyone
			w.WriteHeader(http.StatusForbidden)
			return
		}
		if rootStatus == http.StatusForbidden && r.Header.Get("Authorization") == "" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if rootStatus == http.StatusUnauthorized && r.Header.Get("Authorization") == "Bearer good-token" {
			fmt.Fprint(w, "welcome")
			return
		}
		w.WriteHeader(rootStatus)
		fmt.Fprint(w, "root")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// An identity is proven only by an operation that refuses anonymous
// callers: a public root, or an API where nothing is refused, must not
// let wrong credentials through silently.
func TestIdentityProof(t *testing.T) {
	tests := []struct {
		name        string
		root        int
		itemsPublic bool
		token       string
		wantErr     string // "" for a report
		wantWarning string // in the report's warnings; "" for none about identities
	}{
		{name: "public root, wrong token", root: 200, token: "WRONG",
			wantErr: `identity "alice" (role user) is not accepted: GET http://` /* …/items */},
		{name: "public root, good token", root: 200, token: "good-token"},
		{name: "protected root, good token", root: 401, token: "good-token"},
		{name: "protected root, wrong token", root: 401, token: "WRONG", wantErr: "answered 401 Unauthorized; check its credentials"},
		{name: "admin-only root, good token", root: 403, token: "good-token"},
		{name: "admin-only root, wrong token", root: 403, token: "WRONG", wantErr: "/items answered 401"},
		{name: "missing root, wrong token", root: 404, token: "WRONG", wantErr: "/items answered 401"},
		{name: "nothing refuses anonymous callers but an admin operation", root: 200, itemsPublic: true, token: "WRONG-or-not",
			wantWarning: `identity "alice" (role user) could not be verified: every operation tried that refuses anonymous callers answered it 403 too`},
		// A root that refuses everyone with 403, as some gateways do for
		// paths they do not route: valid credentials must not stop the
		// scan there.
		{name: "root forbidden to all, good token", root: 4031, token: "good-token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := gatedAPI(t, tt.root, tt.itemsPublic)
			cfg := scanConfig(t, srv.URL)
			cfg.Checks = []scan.Check{&identitySpy{}}
			cfg.Identities = []scan.Identity{{Name: "alice", Role: "user", Headers: http.Header{"Authorization": {"Bearer " + tt.token}}}}
			rep, err := pipeline.Run(context.Background(), cfg)
			if tt.wantErr != "" {
				var ie *pipeline.InputError
				if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Run error = %v, want an InputError containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), tt.token) {
					t.Errorf("error %q shows the token", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Run error = %v, want a report", err)
			}
			var about []string
			for _, w := range rep.Warnings {
				if strings.Contains(w, "identity") {
					about = append(about, w)
				}
			}
			switch {
			case tt.wantWarning == "" && len(about) > 0:
				t.Errorf("warnings = %q, want none about identities", about)
			case tt.wantWarning != "" && (len(about) != 1 || !strings.Contains(about[0], tt.wantWarning)):
				t.Errorf("warnings = %q, want one containing %q", about, tt.wantWarning)
			}
		})
	}
}

// With no operation at all that refuses anonymous callers, the warning
// says what was tried.
func TestIdentityUnverifiable(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"openapi":"3.0.3","info":{"title":"open","version":"1"},"paths":{"/items":{"get":{"responses":{"200":{"description":"ok"}}}}}}`)
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `[]`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	cfg := scanConfig(t, srv.URL)
	cfg.Checks = []scan.Check{&identitySpy{}}
	cfg.Identities = []scan.Identity{{Name: "bob", Headers: http.Header{"Authorization": {"Bearer anything"}}}}
	rep, err := pipeline.Run(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Run error = %v, want a report", err)
	}
	want := `identity "bob" could not be verified: no operation tried refuses anonymous callers (GET /items answered 200)`
	if w := strings.Join(rep.Warnings, "\n"); !strings.Contains(w, want) {
		t.Errorf("warnings = %q, want one containing %q", rep.Warnings, want)
	}
}
