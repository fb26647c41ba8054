package discover

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/engine"
	"github.com/merlonsec/merlon/internal/scan"
)

// client is the real engine, aimed at base.
func client(t *testing.T, base string, active bool, maxRequests int) *engine.Client {
	t.Helper()
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %q: %v", base, err)
	}
	return engine.New(engine.Config{BaseURL: u, Active: active, MaxRequests: maxRequests, Timeout: 5 * time.Second, Retries: -1})
}

// serve starts a target that answers the given paths and 404s the rest.
// Each entry is a content type and body.
func serve(t *testing.T, pages map[string][2]string) (*httptest.Server, *[]string) {
	t.Helper()
	var asked []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked = append(asked, r.URL.Path)
		p, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", p[0])
		_, _ = w.Write([]byte(p[1]))
	}))
	t.Cleanup(srv.Close)
	return srv, &asked
}

const (
	jsonSpec = `{"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}`
	yamlSpec = "# the API\nopenapi: 3.1.0\ninfo:\n  title: t\n  version: '1'\npaths: {}\n"
)

func TestFindSpec(t *testing.T) {
	tests := []struct {
		name     string
		pages    map[string][2]string
		basePath string
		wantPath string // suffix of the URL returned; "" for ErrNoSpec
	}{
		{"openapi.json", map[string][2]string{"/openapi.json": {"application/json", jsonSpec}}, "", "/openapi.json"},
		{"v3 api-docs", map[string][2]string{"/v3/api-docs": {"application/json", jsonSpec}}, "", "/v3/api-docs"},
		{"swagger 2", map[string][2]string{"/swagger/v1/swagger.json": {"application/json", `{"swagger": "2.0", "paths": {}}`}}, "", "/swagger/v1/swagger.json"},
		{"yaml", map[string][2]string{"/openapi.yaml": {"application/yaml", yamlSpec}}, "", "/openapi.yaml"},
		{"yaml served as text", map[string][2]string{"/openapi.yml": {"text/plain", "---\n'swagger': \"2.0\"\n"}}, "", "/openapi.yml"},
		{"under the base path", map[string][2]string{"/svc/api-docs": {"application/json", jsonSpec}}, "/svc", "/svc/api-docs"},
		{"at the origin root", map[string][2]string{"/openapi.json": {"application/json", jsonSpec}}, "/svc/v2", "/openapi.json"},
		{"base path wins over root", map[string][2]string{
			"/openapi.json":     {"application/json", `{"openapi": "3.0.0", "info": {"title": "root"}}`},
			"/svc/openapi.json": {"application/json", jsonSpec},
		}, "/svc", "/svc/openapi.json"},
		{"none", map[string][2]string{"/": {"application/json", `{"hello": "world"}`}}, "", ""},
		{"html docs page is not a spec", map[string][2]string{
			"/openapi.json": {"text/html", "<html>\nopenapi: 3.0.0\n</html>"},
			"/api-docs":     {"text/html", "<!doctype html><title>docs</title>"},
		}, "", ""},
		{"json without the key", map[string][2]string{"/swagger.json": {"application/json", `{"info": {"openapi": "3.0.0"}}`}}, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, _ := serve(t, tt.pages)
			path, data, err := FindSpec(context.Background(), client(t, srv.URL+tt.basePath, false, 0))
			if tt.wantPath == "" {
				if !errors.Is(err, ErrNoSpec) {
					t.Fatalf("FindSpec() = %q, %v; want ErrNoSpec", path, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("FindSpec() error = %v, want %s", err, tt.wantPath)
			}
			if want := srv.URL + tt.wantPath; path != want {
				t.Errorf("FindSpec() path = %q, want %q", path, want)
			}
			if want := tt.pages[tt.wantPath][1]; string(data) != want {
				t.Errorf("FindSpec() data = %q, want %q", data, want)
			}
		})
	}
}

func TestFindSpecAsksEachPathOnce(t *testing.T) {
	srv, asked := serve(t, nil)
	if _, _, err := FindSpec(context.Background(), client(t, srv.URL, false, 0)); !errors.Is(err, ErrNoSpec) {
		t.Fatalf("FindSpec() error = %v, want ErrNoSpec", err)
	}
	if got, want := strings.Join(*asked, " "), strings.Join(WellKnownPaths(), " "); got != want {
		t.Errorf("FindSpec() asked for\n%s\nwant\n%s", got, want)
	}

	srv, asked = serve(t, nil)
	if _, _, err := FindSpec(context.Background(), client(t, srv.URL+"/base", false, 0)); !errors.Is(err, ErrNoSpec) {
		t.Fatalf("FindSpec(base path) error = %v, want ErrNoSpec", err)
	}
	if got, want := len(*asked), 2*len(WellKnownPaths()); got != want {
		t.Errorf("FindSpec(base path) sent %d requests, want %d (base and root)", got, want)
	}
}

func TestFindSpecFailures(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()
	_, _, err := FindSpec(context.Background(), client(t, deadURL, false, 0))
	if err == nil || errors.Is(err, ErrNoSpec) {
		t.Errorf("FindSpec(unreachable) error = %v, want a transport error", err)
	}

	srv, _ := serve(t, nil)
	_, _, err = FindSpec(context.Background(), client(t, srv.URL, false, 3))
	if !errors.Is(err, scan.ErrBudgetExhausted) {
		t.Errorf("FindSpec(budget 3) error = %v, want ErrBudgetExhausted", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = FindSpec(ctx, client(t, srv.URL, false, 0))
	if !errors.Is(err, context.Canceled) {
		t.Errorf("FindSpec(cancelled) error = %v, want context.Canceled", err)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"openapi json", jsonSpec, true},
		{"swagger json", ` {"swagger":"2.0"}`, true},
		{"bom", "\xef\xbb\xbf" + jsonSpec, true},
		{"yaml", yamlSpec, true},
		{"yaml quoted", "\"openapi\": 3.0.0\n", true},
		{"yaml crlf", "info:\r\n  title: x\r\nswagger: '2.0'\r\n", true},
		{"nested json key", `{"spec": {"openapi": "3.0.0"}}`, false},
		{"non-string version", `{"openapi": {}}`, false},
		{"json array", `[{"openapi": "3.0.0"}]`, false},
		{"yaml nested key", "spec:\n  openapi: 3.0.0\n", false},
		{"yaml empty value", "openapi:\n", false},
		{"html", "<html>\nopenapi: 3.0.0", false},
		{"empty", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sniff([]byte(tt.in)); got != tt.want {
				t.Errorf("sniff(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}
