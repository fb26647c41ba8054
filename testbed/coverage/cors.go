package coverage

import "net/http"

const corsSpec = `{"openapi":"3.0.3","info":{"title":"cors twin","version":"1"},"paths":{
 "/account":{"get":{"responses":{"200":{"description":"the caller's account"}}}},
 "/feed":{"get":{"responses":{"200":{"description":"a public feed"}}}},
 "/widgets":{"get":{"responses":{"200":{"description":"widgets"}}}}}}`

// TrustedOrigin is the one origin the clean CORS twin shares credentialed
// responses with.
const TrustedOrigin = "https://app.example.com"

// CORSVulnerable has one weak policy per operation: /account allows the
// null origin with credentials (a setting meant for local files), /feed
// sends * with credentials, and /widgets reflects any origin without
// credentials. (Reflection with credentials is the demo's.)
func CORSVulnerable() http.Handler {
	return corsAPI(map[string]func(h http.Header, origin string){
		"/account": func(h http.Header, origin string) {
			if origin == "null" || origin == TrustedOrigin {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Credentials", "true")
			}
		},
		"/feed": func(h http.Header, _ string) {
			h.Set("Access-Control-Allow-Origin", "*")
			h.Set("Access-Control-Allow-Credentials", "true")
		},
		"/widgets": func(h http.Header, origin string) {
			if origin != "" {
				h.Set("Access-Control-Allow-Origin", origin)
			}
		},
	})
}

// CORSClean is its twin: /account shares credentialed responses with
// TrustedOrigin only, /feed is public with * and no credentials, and
// /widgets sends no CORS headers at all.
func CORSClean() http.Handler {
	return corsAPI(map[string]func(h http.Header, origin string){
		"/account": func(h http.Header, origin string) {
			if origin == TrustedOrigin {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Credentials", "true")
			}
			h.Add("Vary", "Origin")
		},
		"/feed":    func(h http.Header, _ string) { h.Set("Access-Control-Allow-Origin", "*") },
		"/widgets": func(http.Header, string) {},
	})
}

// corsAPI answers GET and preflight OPTIONS on each path with the policy
// given for it.
func corsAPI(policy map[string]func(h http.Header, origin string)) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", serveSpec(corsSpec))
	for path, set := range policy {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			set(w.Header(), r.Header.Get("Origin"))
			switch r.Method {
			case http.MethodOptions:
				w.Header().Set("Access-Control-Allow-Methods", "GET")
				w.WriteHeader(http.StatusNoContent)
			case http.MethodGet, http.MethodHead:
				sendJSON(w, 200, `{"items":[]}`)
			default:
				sendJSON(w, http.StatusMethodNotAllowed, `{"error":"method not allowed"}`)
			}
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { sendJSON(w, 404, `{"error":"not found"}`) })
	return mux
}
