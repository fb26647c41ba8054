package pipeline

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/merlonsec/merlon/internal/scan"
)

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSameOrigin(t *testing.T) {
	tests := []struct {
		a, b string
		want bool
	}{
		{"http://127.0.0.1:8080/openapi.json", "http://127.0.0.1:8080/", true},
		{"HTTP://Example.COM/a", "http://example.com/b", true},
		{"https://127.0.0.1:8080/", "http://127.0.0.1:8080/", false},
		{"http://127.0.0.1:8081/", "http://127.0.0.1:8080/", false},
		{"http://127.0.0.1/", "http://127.0.0.1:80/", false}, // Merlon compares what was written
		{"http://specs.example.com/", "http://example.com/", false},
	}
	for _, tt := range tests {
		if got := sameOrigin(mustURL(t, tt.a), mustURL(t, tt.b)); got != tt.want {
			t.Errorf("sameOrigin(%s, %s) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestSpecHeader(t *testing.T) {
	global := http.Header{"Authorization": {"Bearer global"}, "X-Tenant": {"acme"}}
	ids := []scan.Identity{
		{Name: "alice", Headers: http.Header{"authorization": {"Bearer alice"}, "Cookie": {"sid=1"}}},
		{Name: "bob", Headers: http.Header{"X-Bob": {"b"}}},
	}
	got := specHeader(global, ids)
	want := http.Header{"Authorization": {"Bearer alice"}, "Cookie": {"sid=1"}, "X-Tenant": {"acme"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("specHeader(global, alice+bob) = %v, want %v (the default identity over -H)", got, want)
	}
	if global.Get("Authorization") != "Bearer global" {
		t.Errorf("specHeader changed the global headers: %v", global)
	}
	if got := specHeader(nil, nil); got == nil || len(got) != 0 {
		t.Errorf("specHeader(nil, nil) = %v, want an empty header", got)
	}
}

func TestAPIBase(t *testing.T) {
	tests := []struct {
		name    string
		target  string
		baseURL string
		servers []string
		want    string
		wantErr string
	}{
		{name: "no servers", target: "http://127.0.0.1:8080/", want: "http://127.0.0.1:8080/"},
		{name: "server elsewhere with a path", target: "http://127.0.0.1:8080/", servers: []string{"https://api.example.com/v1"},
			want: "http://127.0.0.1:8080/v1"},
		{name: "server elsewhere without a path", target: "http://127.0.0.1:8080/", servers: []string{"https://api.example.com"},
			want: "http://127.0.0.1:8080/"},
		{name: "relative server", target: "http://127.0.0.1:8080/", servers: []string{"/api/v2/"}, want: "http://127.0.0.1:8080/api/v2"},
		{name: "swagger host and basePath", target: "http://127.0.0.1:8080/", servers: []string{"api.example.com/v3"},
			want: "http://127.0.0.1:8080/v3"},
		{name: "templated server skipped", target: "http://127.0.0.1:8080/", servers: []string{"https://{region}.example.com/{version}", "/v4"},
			want: "http://127.0.0.1:8080/v4"},
		{name: "target path wins over servers", target: "http://127.0.0.1:8080/api", servers: []string{"https://api.example.com/v1"},
			want: "http://127.0.0.1:8080/api"},
		{name: "--base-url wins", target: "http://127.0.0.1:8080/", baseURL: "http://127.0.0.1:8080/v9", servers: []string{"https://api.example.com/v1"},
			want: "http://127.0.0.1:8080/v9"},
		{name: "--base-url off the target", target: "http://127.0.0.1:8080/", baseURL: "http://127.0.0.1:9090/v1",
			wantErr: "--base-url http://127.0.0.1:9090/v1 is outside the target"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{Target: mustURL(t, tt.target)}
			if tt.baseURL != "" {
				cfg.BaseURL = mustURL(t, tt.baseURL)
			}
			got, err := apiBase(cfg, tt.servers)
			if tt.wantErr != "" {
				var ie *InputError
				if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("apiBase(%s, %q) error = %v, want an InputError containing %q", tt.target, tt.servers, err, tt.wantErr)
				}
				return
			}
			if err != nil || got.String() != tt.want {
				t.Errorf("apiBase(%s, %q) = %v, %v; want %s", tt.target, tt.servers, got, err, tt.want)
			}
		})
	}
}

// specServer serves a spec at /openapi.json and remembers the credential
// headers each fetch carried; with needAuth it answers 401 without them.
type specServer struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string
}

const tinySpec = `{"openapi":"3.0.3","info":{"title":"t","version":"1"},"paths":{"/items":{"get":{"responses":{"200":{"description":"ok"}}}}}}`

func newSpecServer(t *testing.T, needAuth bool) *specServer {
	t.Helper()
	s := &specServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		creds := strings.TrimSpace(r.Header.Get("Authorization") + " " + r.Header.Get("X-Org-Credential"))
		if r.URL.Path == "/openapi.json" {
			s.mu.Lock()
			s.seen = append(s.seen, creds)
			s.mu.Unlock()
			if needAuth && creds == "" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, tinySpec)
			return
		}
		if r.URL.Path == "/items" {
			fmt.Fprint(w, `[]`)
			return
		}
		w.WriteHeader(http.StatusNotFound)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *specServer) fetches() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// Credentials go to a spec URL only with --spec-auth, on the target's
// origin as much as on another.
func TestLoadSpecCredentials(t *testing.T) {
	api := newSpecServer(t, false)
	tests := []struct {
		name      string
		sameHost  bool
		specAuth  bool
		needAuth  bool
		wantCreds string
		wantErr   string
	}{
		{name: "same origin without --spec-auth", sameHost: true},
		{name: "other origin without --spec-auth"},
		{name: "same origin with --spec-auth", sameHost: true, specAuth: true, wantCreds: "Bearer global-token alice-cred"},
		{name: "other origin with --spec-auth", specAuth: true, wantCreds: "Bearer global-token alice-cred"},
		{name: "spec needs credentials", needAuth: true,
			wantErr: "/openapi.json: answered 401 Unauthorized; pass --spec-auth to send your credentials"},
		{name: "spec needs credentials, given", needAuth: true, specAuth: true, wantCreds: "Bearer global-token alice-cred"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			specs := api
			if !tt.sameHost {
				specs = newSpecServer(t, tt.needAuth)
			}
			before := len(specs.fetches())
			cfg := Config{
				Target:     mustURL(t, api.URL+"/"),
				Spec:       specs.URL + "/openapi.json",
				SpecAuth:   tt.specAuth,
				Headers:    http.Header{"Authorization": {"Bearer global-token"}},
				Identities: []scan.Identity{{Name: "alice", Headers: http.Header{"X-Org-Credential": {"alice-cred"}}}},
			}
			s, err := loadSpec(context.Background(), cfg)
			if tt.wantErr != "" {
				var ie *InputError
				if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("loadSpec error = %v, want an InputError containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(s.Operations) != 1 {
				t.Fatalf("loadSpec = %v, %v; want the one-operation spec", s, err)
			}
			got := specs.fetches()[before:]
			if len(got) != 1 || got[0] != tt.wantCreds {
				t.Errorf("spec fetches carried credentials %q, want [%q]", got, tt.wantCreds)
			}
		})
	}
}

// A spec URL that does not answer 200 gets one line that says what to
// do, with "load spec" once.
func TestLoadSpecStatusErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/gone.json":
			w.WriteHeader(http.StatusNotFound)
		case "/forbidden.json":
			w.WriteHeader(http.StatusForbidden)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	}))
	defer srv.Close()
	tests := []struct {
		path     string
		specAuth bool
		want     string
	}{
		{"/gone.json", false, "load spec " + srv.URL + "/gone.json: answered 404 Not Found; check the --spec URL, or leave --spec out to let Merlon look for the spec"},
		{"/forbidden.json", false, "load spec " + srv.URL + "/forbidden.json: answered 403 Forbidden; pass --spec-auth to send your credentials"},
		{"/forbidden.json", true, "load spec " + srv.URL + "/forbidden.json: answered 403 Forbidden to the credentials sent with --spec-auth; check them, or pass the spec as a file"},
		{"/broken.json", false, "load spec " + srv.URL + "/broken.json: answered 500 Internal Server Error, not 200; check the --spec URL, or pass the spec as a file"},
	}
	for _, tt := range tests {
		cfg := Config{Target: mustURL(t, srv.URL+"/"), Spec: srv.URL + tt.path, SpecAuth: tt.specAuth}
		_, err := loadSpec(context.Background(), cfg)
		if err == nil || err.Error() != tt.want {
			t.Errorf("loadSpec(%s, spec-auth %v) error = %v, want %q", tt.path, tt.specAuth, err, tt.want)
		}
	}
}
