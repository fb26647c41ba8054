package coverage

import (
	"net/http"
)

// MisconfigVulnerable advertises TRACE and WebDAV methods in OPTIONS and
// echoes TRACE requests, as a web server with tracing left on does.
func MisconfigVulnerable() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodOptions:
			w.Header().Set("Allow", "GET, HEAD, OPTIONS, TRACE, PROPFIND, MKCOL")
			w.WriteHeader(http.StatusNoContent)
		case "TRACE":
			w.Header().Set("Content-Type", "message/http")
			r.Write(w)
		case http.MethodGet, http.MethodHead:
			writeJSON(w, 200, map[string]string{"status": "ok"})
		default:
			w.Header().Set("Allow", "GET, HEAD, OPTIONS, TRACE, PROPFIND, MKCOL")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
		}
	})
}

// MisconfigClean allows only what a read-only API needs and refuses TRACE.
func MisconfigClean() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodOptions:
			w.Header().Set("Allow", "GET, HEAD, OPTIONS")
			w.WriteHeader(http.StatusNoContent)
		case http.MethodGet, http.MethodHead:
			writeJSON(w, 200, map[string]string{"status": "ok"})
		default:
			w.Header().Set("Allow", "GET, HEAD, OPTIONS")
			writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"error": "method not allowed"})
		}
	})
}
