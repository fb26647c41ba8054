// Package demo is Merlon's built-in, deliberately vulnerable API. It lives
// in-process so that `merlon demo` and the tests have a target that needs
// nothing installed. It imitates a small Flask service: Werkzeug's Server
// header and Python tracebacks on errors.
//
// Its weaknesses, each one a check's proof:
//   - create and update store every attribute the client sends, including
//     is_admin and role (mass assignment, CWE-915), and the admin route
//     trusts the stored is_admin;
//   - CORS reflects any Origin with credentials;
//   - no X-Content-Type-Options header;
//   - the Server header names product versions;
//   - a malformed username yields a Python traceback.
package demo

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// maxUsers bounds the demo's memory whatever a scan sends.
const maxUsers = 1000

// API is one demo API instance with its own in-memory state.
type API struct {
	mu    sync.Mutex
	users map[string]map[string]any
}

// New returns a demo API seeded with two users.
func New() *API {
	a := &API{users: map[string]map[string]any{}}
	for _, u := range []map[string]any{
		{"username": "alice", "email": "alice@example.com", "display_name": "Alice"},
		{"username": "bob", "email": "bob@example.com", "display_name": "Bob"},
	} {
		a.users[u["username"].(string)] = withServerFields(u)
	}
	a.users["root"] = withServerFields(map[string]any{"username": "root", "email": "root@example.com", "display_name": "Root"})
	a.users["root"]["is_admin"] = true
	a.users["root"]["role"] = "admin"
	return a
}

// withServerFields adds the attributes only the server should set.
func withServerFields(u map[string]any) map[string]any {
	out := map[string]any{"is_admin": false, "role": "user", "credits": 0, "verified": false}
	for k, v := range u {
		out[k] = v
	}
	return out
}

// Handler serves the demo API.
func (a *API) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.index)
	mux.HandleFunc("GET /openapi.json", serveSpec)
	mux.HandleFunc("GET /api/health", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
	})
	mux.HandleFunc("GET /api/users", a.listUsers)
	mux.HandleFunc("POST /api/users", a.createUser)
	mux.HandleFunc("GET /api/users/{username}", a.getUser)
	mux.HandleFunc("PATCH /api/users/{username}", a.updateUser)
	mux.HandleFunc("DELETE /api/users/{username}", a.deleteUser)
	mux.HandleFunc("GET /api/admin/stats", a.adminStats)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "not found"})
	})
	return flaskish(mux)
}

// flaskish adds the demo's header-level weaknesses to every response.
func flaskish(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Server", "Werkzeug/2.0.3 Python/3.9.2")
		if o := r.Header.Get("Origin"); o != "" {
			h.Set("Access-Control-Allow-Origin", o)
			h.Set("Access-Control-Allow-Credentials", "true")
			h.Set("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS")
		}
		if r.Method == http.MethodOptions {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *API) index(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"name":  "Merlon demo API",
		"links": map[string]string{"users": "/api/users", "health": "/api/health", "spec": "/openapi.json"},
	})
}

func (a *API) listUsers(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	names := make([]string, 0, len(a.users))
	for n := range a.users {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]map[string]any, 0, len(names))
	for _, n := range names {
		out = append(out, copyMap(a.users[n]))
	}
	a.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

var validUsername = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

func (a *API) getUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("username")
	if !validUsername.MatchString(name) {
		traceback(w, name)
		return
	}
	a.mu.Lock()
	u, ok := a.users[name]
	var out map[string]any
	if ok {
		out = copyMap(u)
	}
	a.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "user not found"})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// createUser is the seed's vulnerable create: the request body becomes the
// stored item as it is.
func (a *API) createUser(w http.ResponseWriter, r *http.Request) {
	body, ok := readObject(w, r)
	if !ok {
		return
	}
	name, _ := body["username"].(string)
	if !validUsername.MatchString(name) {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "username is required"})
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, exists := a.users[name]; !exists && len(a.users) >= maxUsers {
		writeJSON(w, http.StatusInsufficientStorage, map[string]any{"error": "demo is full"})
		return
	}
	a.users[name] = withServerFields(body)
	writeJSON(w, http.StatusCreated, map[string]any{"status": "created", "username": name})
}

// updateUser forwards every key of the body to the stored item.
func (a *API) updateUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("username")
	body, ok := readObject(w, r)
	if !ok {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	u, exists := a.users[name]
	if !exists {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "user not found"})
		return
	}
	for k, v := range body {
		if k == "username" {
			continue // the key cannot change
		}
		u[k] = v
	}
	writeJSON(w, http.StatusOK, map[string]any{"updated": copyMap(u)})
}

func (a *API) deleteUser(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("username")
	a.mu.Lock()
	_, ok := a.users[name]
	delete(a.users, name)
	a.mu.Unlock()
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "user not found"})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// adminStats trusts the stored is_admin of the user named by X-User.
func (a *API) adminStats(w http.ResponseWriter, r *http.Request) {
	name := r.Header.Get("X-User")
	a.mu.Lock()
	u, ok := a.users[name]
	admin := ok && (u["is_admin"] == true || u["role"] == "admin")
	n := len(a.users)
	a.mu.Unlock()
	if !admin {
		writeJSON(w, http.StatusForbidden, map[string]any{"error": "admin only"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"users": n, "deploy_key": "demo-not-a-secret"})
}

func readObject(w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	data, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "cannot read body"})
		return nil, false
	}
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil || body == nil {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "body must be a JSON object"})
		return nil, false
	}
	return body, true
}

// traceback answers like a Flask app in debug mode that hit an exception.
func traceback(w http.ResponseWriter, name string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, `<!doctype html><title>ValueError // Werkzeug Debugger</title>
<pre>Traceback (most recent call last):
  File "/srv/app/views.py", line 42, in get_user
    key = normalise_username(username)
  File "/srv/app/models.py", line 17, in normalise_username
    raise ValueError("invalid username: %%r" %% value)
ValueError: invalid username: %q</pre>`, htmlEscape(name))
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
