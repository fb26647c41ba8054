package coverage

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Fake credentials of the exposure twins. They have the shape of real
// ones and work nowhere; tests look for them in reports to prove that
// Merlon masks what it finds.
var (
	LeakedStripeKey = "sk_live_" + strings.Repeat("Mrl0nT3st", 3)
	LeakedGitHubKey = "ghp_" + strings.Repeat("Mrl0nT3st", 4)
	LeakedAWSKey    = "AKIA" + "MERLONTESTKEY234"
	LeakedCard      = "4539578763621486"
	LeakedSSN       = "219-09-9999"
	LeakedBcrypt    = "$2b$12$" + strings.Repeat("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", 2)[:53]
)

const exposureSpec = `{"openapi":"3.0.3","info":{"title":"exposure twin","version":"1"},"paths":{
 "/users":{"get":{"responses":{"200":{"description":"ok"}}}},
 "/config":{"get":{"responses":{"200":{"description":"ok"}}}}}}`

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func specHandler(spec string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Write([]byte(spec))
	}
}

func notFound(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusNotFound, map[string]string{"error": "not found"})
}

// ExposureVulnerable leaks everything exposure.sensitive-data looks for
// and mounts the debug endpoints exposure.debug-pages looks for.
func ExposureVulnerable() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", specHandler(exposureSpec))
	mux.HandleFunc("GET /users", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, []map[string]any{
			{"id": 1, "email": "ada@example.com", "phone": "+44 20 7946 0001", "ssn": LeakedSSN, "card_number": LeakedCard, "password_hash": LeakedBcrypt},
			{"id": 2, "email": "grace@example.com", "phone": "+44 20 7946 0002"},
			{"id": 3, "email": "linus@example.com", "phone": "+44 20 7946 0003"},
		})
	})
	mux.HandleFunc("GET /config", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Backend-Server", "10.0.3.17")
		writeJSON(w, 200, map[string]any{
			"payments": map[string]string{"provider": "stripe", "key": LeakedStripeKey},
			"deploy":   map[string]string{"github": LeakedGitHubKey, "aws": LeakedAWSKey},
		})
	})
	mux.HandleFunc("GET /console", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Write([]byte("<!doctype html>\n<html><head><title>Console // Werkzeug Debugger</title></head>\n<body><script>var EVALEX = true, EVALEX_TRUSTED = false, SECRET = \"x\";</script><h1>Interactive Console</h1></body></html>\n"))
	})
	mux.HandleFunc("GET /actuator", func(w http.ResponseWriter, r *http.Request) {
		base := "http://" + r.Host + "/actuator"
		writeJSON(w, 200, map[string]any{"_links": map[string]any{
			"self":     map[string]any{"href": base, "templated": false},
			"env":      map[string]any{"href": base + "/env", "templated": false},
			"heapdump": map[string]any{"href": base + "/heapdump", "templated": false},
		}})
	})
	mux.HandleFunc("GET /actuator/env", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"activeProfiles": []string{"prod"}, "propertySources": []map[string]any{
			{"name": "systemEnvironment", "properties": map[string]any{"DB_HOST": map[string]string{"value": "db"}}}}})
	})
	mux.HandleFunc("GET /actuator/heapdump", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/octet-stream")
		w.Header().Set("Content-Disposition", `attachment; filename="heapdump2024-05-01-10-00-live.hprof"`)
		w.Write([]byte("JAVA PROFILE 1.0.2\x00"))
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html;charset=UTF-8")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("<html><body><h1>Whitelabel Error Page</h1><p>This application has no explicit mapping for /error, so you are seeing this as a fallback.</p><div>There was an unexpected error (type=Not Found, status=404).</div></body></html>"))
	})
	return mux
}

// ExposureClean is ExposureVulnerable fixed: the same operations return
// only what a caller may see (its own email, masked card digits), and no
// debug endpoint exists. It keeps values that look alike but are not
// leaks: a Luhn-valid order ID, a version string, a hex ETag.
func ExposureClean() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", specHandler(exposureSpec))
	mux.HandleFunc("GET /users", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, []map[string]any{
			{"id": 1, "name": "Ada", "email": "ada@example.com", "card_last4": "1486", "order_id": "4111111111111111"},
			{"id": 2, "name": "Grace"},
			{"id": 3, "name": "Linus"},
		})
	})
	mux.HandleFunc("GET /config", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("ETag", `"5d41402abc4b2a76b9719d911017c592"`)
		writeJSON(w, 200, map[string]any{"version": "10.4.2.1", "payments": map[string]string{"provider": "stripe", "publishable": "pk_live_notasecret"},
			"revision": "da39a3ee5e6b4b0d3255bfef95601890afd80709"})
	})
	mux.HandleFunc("GET /actuator/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]string{"status": "UP"})
	})
	mux.HandleFunc("/", notFound)
	return mux
}
