package misconfig_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/checks/misconfig"
	"github.com/merlonsec/merlon/internal/scan"
)

// jsonAPI serves a tiny user API. set adds headers to every response.
func jsonAPI(set map[string]string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users/{id}", func(w http.ResponseWriter, r *http.Request) {
		for k, v := range set {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"id":"` + r.PathValue("id") + `","email":"ada@example.com"}`))
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		for k, v := range set {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error":"not found"}`))
	})
	return mux
}

// htmlPage serves an HTML page on every path.
func htmlPage(set map[string]string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for k, v := range set {
			w.Header().Set(k, v)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<!doctype html><title>Dashboard</title><h1>Hello</h1>"))
	})
}

var alice = scan.Identity{Name: "alice", Role: "user", Headers: http.Header{"Authorization": {"Bearer alice-token"}}}

func TestSecurityHeaders(t *testing.T) {
	safeJSON := map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}
	users := checktest.WithOperations(checktest.Op("GET", "/users/{id}"))
	tests := []struct {
		name string
		h    http.Handler
		opts []checktest.Option
		want []string // locations, in report order
	}{
		{"json without nosniff", jsonAPI(map[string]string{"Cache-Control": "no-store"}), []checktest.Option{users}, []string{"X-Content-Type-Options"}},
		{"json with nosniff", jsonAPI(safeJSON), []checktest.Option{users}, nil},
		{"nosniff checked without inventory", jsonAPI(nil), nil, []string{"X-Content-Type-Options"}},
		{"authenticated json without no-store", jsonAPI(map[string]string{"X-Content-Type-Options": "nosniff", "Cache-Control": "private, max-age=600"}),
			[]checktest.Option{users, checktest.WithIdentities(alice)}, []string{"Cache-Control"}},
		{"authenticated json with no-store", jsonAPI(safeJSON), []checktest.Option{users, checktest.WithIdentities(alice)}, nil},
		{"anonymous json needs no no-store", jsonAPI(map[string]string{"X-Content-Type-Options": "nosniff"}), []checktest.Option{users}, nil},
		{"https without hsts", jsonAPI(safeJSON), []checktest.Option{users, checktest.WithTLS()}, []string{"Strict-Transport-Security"}},
		{"https with short hsts", jsonAPI(map[string]string{"X-Content-Type-Options": "nosniff", "Strict-Transport-Security": "max-age=86400"}),
			[]checktest.Option{users, checktest.WithTLS()}, []string{"Strict-Transport-Security"}},
		{"https with one-year hsts", jsonAPI(map[string]string{"X-Content-Type-Options": "nosniff", "Strict-Transport-Security": "max-age=31536000; includeSubDomains"}),
			[]checktest.Option{users, checktest.WithTLS()}, nil},
		{"plain http asks no hsts", jsonAPI(safeJSON), []checktest.Option{users}, nil},
		{"html without csp or framing control", htmlPage(map[string]string{"X-Content-Type-Options": "nosniff"}), nil,
			[]string{"Content-Security-Policy", "X-Frame-Options"}},
		{"html with csp frame-ancestors", htmlPage(map[string]string{"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'"}), nil, nil},
		{"html with csp and x-frame-options", htmlPage(map[string]string{"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'self'", "X-Frame-Options": "DENY"}), nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := misconfig.SecurityHeaders{}
			got := checktest.Locations(checktest.Run(t, c, tt.h, tt.opts...))
			if !slices.Equal(got, tt.want) {
				t.Errorf("SecurityHeaders on %s = %q, want %q", tt.name, got, tt.want)
			}
		})
	}
}

func TestSecurityHeadersFinding(t *testing.T) {
	fs := checktest.Run(t, misconfig.SecurityHeaders{}, jsonAPI(nil),
		checktest.WithOperations(checktest.Op("GET", "/users/{id}"), checktest.Op("GET", "/health")))
	checktest.Only(t, fs, "misconfig.security-headers")
	f := checktest.At(t, fs, "X-Content-Type-Options")
	if f.Operation != "" {
		t.Errorf("Operation = %q, want \"\" (a finding for the whole target)", f.Operation)
	}
	if f.Severity != scan.Low || f.Confidence != scan.Confirmed {
		t.Errorf("severity/confidence = %v/%v, want low/confirmed", f.Severity, f.Confidence)
	}
	if len(f.Evidence) != 1 {
		t.Fatalf("len(Evidence) = %d, want 1 example exchange", len(f.Evidence))
	}
	if got := f.Evidence[0].Matched; got != "X-Content-Type-Options: (absent)" {
		t.Errorf("Matched = %q, want the absent header", got)
	}
	if !strings.HasPrefix(f.Description, "2 of 2 ") {
		t.Errorf("Description = %q, want it to count 2 of 2 responses", f.Description)
	}
	if f.Remediation == "" {
		t.Error("Remediation is empty, want the generic text")
	}
}
