package exposure_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/checks/exposure"
	"github.com/merlonsec/merlon/internal/scan"
)

func sample(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// itemAPI serves GET /items/{id}, answering a non-numeric ID with fail
// and any unknown path with notFound.
func itemAPI(fail, notFound func(w http.ResponseWriter)) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		if err != nil {
			fail(w)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"id": id, "name": "lamp"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { notFound(w) })
	return mux
}

func respond(status int, ctype, body string) func(http.ResponseWriter) {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", ctype)
		w.WriteHeader(status)
		w.Write([]byte(body))
	}
}

func jsonNotFound() func(http.ResponseWriter) {
	return respond(404, "application/json", `{"error":"not found"}`)
}

func TestErrorDisclosure(t *testing.T) {
	flaskProd500 := "<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.</p>\n"
	flask404 := "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n"
	items := checktest.WithOperations(checktest.Op("GET", "/items/{id}"))
	tests := []struct {
		name      string
		h         http.Handler
		opts      []checktest.Option
		want      string // finding title prefix; "" for none
		operation string
		location  string
	}{
		{"flask debug mode",
			itemAPI(respond(500, "text/html; charset=utf-8", sample(t, "werkzeug-debugger.html")), respond(404, "text/html; charset=utf-8", flask404)),
			[]checktest.Option{items}, "Werkzeug interactive debugger", "GET /items/{id}", "id"},
		{"flask production",
			itemAPI(respond(500, "text/html; charset=utf-8", flaskProd500), respond(404, "text/html; charset=utf-8", flask404)),
			[]checktest.Option{items}, "", "", ""},
		{"spring with include-stacktrace",
			itemAPI(respond(500, "application/json", sample(t, "spring-trace.json")), jsonNotFound()),
			[]checktest.Option{items}, "Java stack trace", "GET /items/{id}", "id"},
		{"spring defaults",
			itemAPI(respond(400, "application/json", `{"timestamp":"2024-05-01T10:00:00.000+00:00","status":400,"error":"Bad Request","path":"/items/abc"}`), jsonNotFound()),
			[]checktest.Option{items}, "", "", ""},
		{"express development",
			itemAPI(respond(500, "text/html; charset=utf-8", sample(t, "express-dev.html")), respond(404, "text/html; charset=utf-8", "<pre>Cannot GET /x</pre>")),
			[]checktest.Option{items}, "Node.js stack trace", "GET /items/{id}", "id"},
		{"express production",
			itemAPI(respond(500, "text/html; charset=utf-8", "<pre>Internal Server Error</pre>"), respond(404, "text/html; charset=utf-8", "<pre>Cannot GET /x</pre>")),
			[]checktest.Option{items}, "", "", ""},
		{"django debug 404 without inventory",
			itemAPI(jsonNotFound(), respond(404, "text/html; charset=utf-8", sample(t, "django-debug-404.html"))),
			nil, "Django debug page", "", ""},
		{"clean json api",
			itemAPI(respond(400, "application/json", `{"error":"invalid id","code":"bad_request"}`), jsonNotFound()),
			[]checktest.Option{items}, "", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := checktest.Run(t, exposure.ErrorDisclosure{}, tt.h, tt.opts...)
			if tt.want == "" {
				checktest.None(t, fs)
				return
			}
			checktest.Only(t, fs, "exposure.error-disclosure")
			if len(fs) != 1 {
				t.Fatalf("ErrorDisclosure = %d findings, want 1", len(fs))
			}
			f := fs[0]
			if !strings.HasPrefix(f.Title, tt.want) || f.Operation != tt.operation || f.Location != tt.location {
				t.Errorf("ErrorDisclosure = %s, want %q at %q %q", checktest.Describe(f), tt.want, tt.operation, tt.location)
			}
			if f.Severity != scan.Medium || f.Confidence != scan.Confirmed {
				t.Errorf("severity/confidence = %v/%v, want medium/confirmed", f.Severity, f.Confidence)
			}
			if f.Evidence[0].Matched == "" {
				t.Error("Evidence.Matched is empty, want the trace excerpt")
			}
		})
	}
}

// TestErrorDisclosureQuery: a malformed query value reaches the code that
// throws, and the finding names the parameter.
func TestErrorDisclosureQuery(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /search", func(w http.ResponseWriter, r *http.Request) {
		if _, err := strconv.Atoi(r.URL.Query().Get("limit")); err != nil {
			respond(500, "text/plain", sample(t, "fastapi-debug.txt"))(w)
			return
		}
		w.Write([]byte(`{"results":[]}`))
	})
	limit := scan.Parameter{Name: "limit", In: "query", Schema: &scan.Schema{Type: "integer", Example: 10}}
	fs := checktest.Run(t, exposure.ErrorDisclosure{}, mux,
		checktest.WithOperations(checktest.Op("GET", "/search", limit)))
	f := checktest.At(t, checktest.Only(t, fs, "exposure.error-disclosure"), "limit")
	if f.Operation != "GET /search" || !strings.HasPrefix(f.Title, "Python traceback") {
		t.Errorf("ErrorDisclosure = %s, want a Python traceback on GET /search", checktest.Describe(f))
	}
	if !strings.Contains(f.Evidence[0].Request.URL, "limit=") {
		t.Errorf("evidence URL = %q, want the malformed limit", f.Evidence[0].Request.URL)
	}
}

// TestErrorDisclosureOnePerKind: debug mode on every route makes one
// finding, which counts the probes that drew it.
func TestErrorDisclosureOnePerKind(t *testing.T) {
	debug := respond(500, "text/html; charset=utf-8", sample(t, "werkzeug-debugger.html"))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/items/") || strings.HasPrefix(r.URL.Path, "/users/") {
			if _, err := strconv.Atoi(r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:]); err != nil {
				debug(w)
				return
			}
		}
		w.Write([]byte(`{}`))
	})
	// The check sends several requests at once, so the count is atomic.
	var sent atomic.Int64
	fs := checktest.Run(t, exposure.ErrorDisclosure{}, h,
		checktest.WithOperations(checktest.Op("GET", "/items/{id}"), checktest.Op("GET", "/users/{id}")),
		checktest.WithProfile(scan.Deep), checktest.WithObserver(func(*scan.Exchange) { sent.Add(1) }))
	if len(fs) != 1 {
		t.Fatalf("ErrorDisclosure = %d findings, want 1", len(fs))
	}
	// Deep: three bad values on each of two operations, plus the unknown path.
	if n := sent.Load(); n != 7 {
		t.Errorf("deep ErrorDisclosure sent %d requests, want 7", n)
	}
	// "-1" parses as an integer, so four of the six path probes fail.
	if !strings.Contains(fs[0].Description, "4 probes") {
		t.Errorf("Description = %q, want it to count 4 probes", fs[0].Description)
	}
}
