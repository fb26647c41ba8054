package misconfig_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/checks/misconfig"
	"github.com/merlonsec/merlon/internal/scan"
)

// corsAPI answers JSON on every path, with the CORS headers policy picks
// for the request's Origin. preflightOnly applies the policy to OPTIONS
// requests alone.
func corsAPI(policy func(origin string) (acao string, creds bool), preflightOnly bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" && (!preflightOnly || r.Method == http.MethodOptions) {
			if acao, creds := policy(o); acao != "" {
				w.Header().Set("Access-Control-Allow-Origin", acao)
				w.Header().Set("Vary", "Origin")
				if creds {
					w.Header().Set("Access-Control-Allow-Credentials", "true")
				}
			}
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"items":[]}`))
	})
}

func reflect(creds bool) func(string) (string, bool) {
	return func(o string) (string, bool) { return o, creds }
}

func fixed(acao string, creds bool) func(string) (string, bool) {
	return func(string) (string, bool) { return acao, creds }
}

func allowlist(o string) (string, bool) {
	if o == "https://app.example.com" {
		return o, true
	}
	return "", false
}

func TestCORS(t *testing.T) {
	tests := []struct {
		name     string
		h        http.Handler
		location string // "" for no finding
		sev      scan.Severity
	}{
		{"reflected with credentials", corsAPI(reflect(true), false), "Access-Control-Allow-Origin", scan.High},
		{"reflected without credentials", corsAPI(reflect(false), false), "Access-Control-Allow-Origin", scan.Low},
		{"reflected with credentials on preflight only", corsAPI(reflect(true), true), "Access-Control-Allow-Origin", scan.High},
		{"null with credentials", corsAPI(func(o string) (string, bool) {
			if o == "null" {
				return "null", true
			}
			return "", false
		}, false), "Access-Control-Allow-Origin: null", scan.High},
		{"wildcard with credentials", corsAPI(fixed("*", true), false), "Access-Control-Allow-Credentials", scan.Medium},
		{"wildcard without credentials", corsAPI(fixed("*", false), false), "", 0},
		{"fixed allowlisted origin", corsAPI(fixed("https://app.example.com", true), false), "", 0},
		{"allowlist echoing only trusted origins", corsAPI(allowlist, false), "", 0},
		{"no cors headers", corsAPI(fixed("", false), false), "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := checktest.Run(t, misconfig.CORS{}, tt.h,
				checktest.WithOperations(checktest.Op("GET", "/items"), checktest.Op("GET", "/items/{id}")))
			if tt.location == "" {
				checktest.None(t, fs)
				return
			}
			if len(fs) != 1 {
				t.Fatalf("CORS = %d findings, want 1: %q", len(fs), checktest.Locations(fs))
			}
			f := checktest.At(t, fs, tt.location)
			if f.Severity != tt.sev || f.Confidence != scan.Confirmed {
				t.Errorf("severity/confidence = %v/%v, want %v/confirmed", f.Severity, f.Confidence, tt.sev)
			}
			if !strings.Contains(f.Evidence[0].Matched, "Access-Control-Allow-Origin: ") {
				t.Errorf("Matched = %q, want the Access-Control-Allow-Origin header", f.Evidence[0].Matched)
			}
		})
	}
}

// TestCORSMostSevereWins: an API that reflects origins with credentials on
// one route and without on another gets one finding, the high one.
func TestCORSMostSevereWins(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/public", corsAPI(reflect(false), false))
	mux.Handle("/account", corsAPI(reflect(true), false))
	fs := checktest.Run(t, misconfig.CORS{}, mux,
		checktest.WithOperations(checktest.Op("GET", "/public"), checktest.Op("GET", "/account")))
	if len(fs) != 1 {
		t.Fatalf("CORS = %d findings, want 1", len(fs))
	}
	if fs[0].Severity != scan.High || !strings.Contains(fs[0].Description, "GET /account") {
		t.Errorf("CORS = %s (%s), want high on GET /account", checktest.Describe(fs[0]), fs[0].Description)
	}
	if got := fs[0].Evidence[0].Request.Header.Get("Origin"); got != misconfig.ProbeOrigin {
		t.Errorf("evidence Origin = %q, want %q", got, misconfig.ProbeOrigin)
	}
}

// TestCORSBudget: the quick profile samples three operations, three
// requests each.
func TestCORSBudget(t *testing.T) {
	var ops []*scan.Operation
	for _, p := range []string{"/a", "/b", "/c", "/d", "/e", "/f"} {
		ops = append(ops, checktest.Op("GET", p))
	}
	var n int
	count := func(*scan.Exchange) { n++ }
	checktest.Run(t, misconfig.CORS{}, corsAPI(fixed("", false), false),
		checktest.WithOperations(ops...), checktest.WithProfile(scan.Quick), checktest.WithObserver(count))
	if n != 9 {
		t.Errorf("quick CORS sent %d requests, want 9", n)
	}
}
