package coverage

import (
	"fmt"
	"html"
	"net/http"
	"strings"
)

const inventorySpec = `{"openapi":"3.0.3","info":{"title":"inventory twin","version":"2.0"},"paths":{
 "/v2/users":{"get":{"responses":{"200":{"description":"users"}}}},
 "/v2/users/{id}":{"get":{"parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"integer"}}],"responses":{"200":{"description":"a user"}}}},
 "/v2/reports/legacy":{"get":{"deprecated":true,"responses":{"200":{"description":"the old report"}}}},
 "/v2/orders":{"post":{"requestBody":{"content":{"application/json":{"schema":{"type":"object","properties":{"sku":{"type":"string"}}}}}},"responses":{"201":{"description":"created"}}}}}}`

const unversionedSpec = `{"openapi":"3.0.3","info":{"title":"unversioned twin","version":"1.0"},"paths":{
 "/users":{"get":{"responses":{"200":{"description":"users"}}}}}}`

// InventoryVulnerable is an API whose v2 is documented while v1 still
// answers, whose deprecated report still works, which serves undocumented
// routes (/internal, /v2/users/{id}/admin, GET on a POST-only path), and
// which exposes .env, .git and a Spring-style actuator. Unknown paths get
// an honest 404.
func InventoryVulnerable() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", serveSpec(inventorySpec))
	users := `[{"id":1,"name":"ada"},{"id":2,"name":"grace"}]`
	mux.HandleFunc("GET /v2/users", func(w http.ResponseWriter, r *http.Request) { sendJSON(w, 200, users) })
	mux.HandleFunc("GET /v1/users", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, `[{"id":1,"name":"ada","password_hash":"legacy"}]`)
	})
	mux.HandleFunc("GET /v2/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "1" && r.PathValue("id") != "2" {
			sendJSON(w, 404, `{"error":"not found"}`)
			return
		}
		sendJSON(w, 200, fmt.Sprintf(`{"id":%s,"name":"ada"}`, r.PathValue("id")))
	})
	mux.HandleFunc("GET /v2/users/{id}/admin", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, `{"id":1,"role":"user","can_promote":true}`)
	})
	mux.HandleFunc("GET /v2/reports/legacy", func(w http.ResponseWriter, r *http.Request) { sendJSON(w, 200, `{"rows":[]}`) })
	mux.HandleFunc("POST /v2/orders", func(w http.ResponseWriter, r *http.Request) { sendJSON(w, 201, `{"id":1}`) })
	mux.HandleFunc("GET /v2/orders", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, `[{"id":1,"sku":"A-1","customer":"ada"}]`)
	})
	mux.HandleFunc("GET /internal", func(w http.ResponseWriter, r *http.Request) { sendJSON(w, 200, `{"jobs":["reindex"]}`) })
	mux.HandleFunc("GET /.env", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "DATABASE_URL=postgres://app:app@db/app\nSECRET_KEY=testbed-not-a-secret\nDEBUG=false\n")
	})
	mux.HandleFunc("GET /.git/config", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = false\n")
	})
	mux.HandleFunc("GET /.git/HEAD", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "ref: refs/heads/main\n")
	})
	mux.HandleFunc("GET /actuator", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, 200, `{"_links":{"self":{"href":"http://localhost/actuator"},"health":{"href":"http://localhost/actuator/health"}}}`)
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { sendJSON(w, 404, `{"error":"not found"}`) })
	return mux
}

// InventoryClean is its twin: only v2, the deprecated report gone (410),
// no undocumented routes or files. It is also a soft-404 server, as many
// are: every unknown path under /v<n>/ answers 200 with a JSON message,
// and every other unknown path answers 200 with an HTML "not found" page,
// both quoting the path — so a scanner that trusts a 200 would report
// everything.
func InventoryClean() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", serveSpec(inventorySpec))
	mux.HandleFunc("GET /v2/users", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("API-Version", "2")
		sendJSON(w, 200, `[{"id":1,"name":"ada"},{"id":2,"name":"grace"}]`)
	})
	mux.HandleFunc("GET /v2/users/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") != "1" && r.PathValue("id") != "2" {
			sendJSON(w, 404, `{"error":"not found"}`)
			return
		}
		sendJSON(w, 200, fmt.Sprintf(`{"id":%s,"name":"ada"}`, r.PathValue("id")))
	})
	mux.HandleFunc("GET /v2/reports/legacy", func(w http.ResponseWriter, r *http.Request) {
		sendJSON(w, http.StatusGone, `{"error":"this report was retired; use /v2/users"}`)
	})
	mux.HandleFunc("POST /v2/orders", func(w http.ResponseWriter, r *http.Request) { sendJSON(w, 201, `{"id":1}`) })
	mux.HandleFunc("/", softNotFound)
	return mux
}

// InventoryUnversioned is an API without any version, the vulnerable twin
// of inventory.no-versioning (InventoryClean is versioned).
func InventoryUnversioned() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", serveSpec(unversionedSpec))
	mux.HandleFunc("GET /users", func(w http.ResponseWriter, r *http.Request) { sendJSON(w, 200, `[{"id":1,"name":"ada"}]`) })
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { sendJSON(w, 404, `{"error":"not found"}`) })
	return mux
}

// softNotFound answers every unknown path with 200.
func softNotFound(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	if len(p) > 2 && p[1] == 'v' && strings.Count(p, "/") >= 2 {
		sendJSON(w, 200, fmt.Sprintf(`{"message":"no route for %s","status":"not found"}`, strings.ReplaceAll(p, `"`, "")))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprintf(w, "<!doctype html><html><head><title>Page not found</title></head><body><h1>Not found</h1><p>Nothing lives at %s. Go back to the <a href=\"/\">home page</a>.</p></body></html>", html.EscapeString(p))
}
