package property_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"sync"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/scan"
)

// userAPI is a small user API in the shape of the Flask + DynamoDB
// testbed, whose write handling is chosen per test: the vulnerable and the
// clean twin differ only in mode.
type userAPI struct {
	mode string // "vulnerable", "fixed", "echo", "strict", "writeonce"

	mu    sync.Mutex
	users map[string]map[string]any
	// set records, in writeonce mode, the extra fields a client already
	// wrote to each user: the first write of one sticks, later ones are
	// ignored.
	set map[string]map[string]bool
}

var allowed = map[string]bool{"username": true, "email": true, "display_name": true}

func newUserAPI(mode string) *userAPI {
	return &userAPI{mode: mode, set: map[string]map[string]bool{}, users: map[string]map[string]any{
		"alice": {"username": "alice", "email": "a@example.com", "display_name": "Alice", "is_admin": false, "role": "user", "credits": 0},
	}}
}

func (a *userAPI) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.users)
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// accept applies body to user name's u by the API's mode and reports
// whether the request is accepted. The caller holds a.mu.
func (a *userAPI) accept(name string, u, body map[string]any) bool {
	for k, v := range body {
		switch {
		case a.mode == "vulnerable":
			u[k] = v
		case allowed[k]:
			u[k] = v
		case a.mode == "strict":
			return false
		case a.mode == "writeonce" && !a.set[name][k]:
			if a.set[name] == nil {
				a.set[name] = map[string]bool{}
			}
			a.set[name][k] = true
			u[k] = v
		}
	}
	return true
}

func (a *userAPI) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /users", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		var out []map[string]any
		for _, u := range a.users {
			out = append(out, maps.Clone(u))
		}
		reply(w, 200, map[string]any{"users": out})
	})
	mux.HandleFunc("POST /users", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if json.NewDecoder(r.Body).Decode(&body) != nil {
			reply(w, 400, map[string]any{"error": "bad json"})
			return
		}
		name, _ := body["username"].(string)
		if name == "" {
			reply(w, 400, map[string]any{"error": "username required"})
			return
		}
		u := map[string]any{"is_admin": false, "role": "user", "credits": 0}
		a.mu.Lock()
		delete(a.set, name)
		if !a.accept(name, u, body) {
			a.mu.Unlock()
			reply(w, 400, map[string]any{"error": "unknown field"})
			return
		}
		a.users[name] = u
		a.mu.Unlock()
		resp := map[string]any{"status": "created", "username": name}
		if a.mode == "echo" {
			maps.Copy(resp, body)
		}
		reply(w, 201, resp)
	})
	mux.HandleFunc("GET /users/{username}", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		u, ok := a.users[r.PathValue("username")]
		u = maps.Clone(u)
		a.mu.Unlock()
		if !ok {
			reply(w, 404, map[string]any{"error": "not found"})
			return
		}
		reply(w, 200, u)
	})
	mux.HandleFunc("PATCH /users/{username}", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if json.NewDecoder(r.Body).Decode(&body) != nil {
			reply(w, 400, map[string]any{"error": "bad json"})
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		u, ok := a.users[r.PathValue("username")]
		if !ok {
			reply(w, 404, map[string]any{"error": "not found"})
			return
		}
		delete(body, "username") // the key never changes here
		next := maps.Clone(u)
		if !a.accept(r.PathValue("username"), next, body) {
			reply(w, 400, map[string]any{"error": "unknown field"})
			return
		}
		a.users[r.PathValue("username")] = next
		resp := map[string]any{"status": "updated"}
		if a.mode == "echo" {
			maps.Copy(resp, next)
			maps.Copy(resp, body)
		}
		reply(w, 200, resp)
	})
	mux.HandleFunc("DELETE /users/{username}", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if _, ok := a.users[r.PathValue("username")]; !ok {
			reply(w, 404, map[string]any{"error": "not found"})
			return
		}
		delete(a.users, r.PathValue("username"))
		w.WriteHeader(204)
	})
	// /me is the caller's own record, the caller named by a bearer token
	// "tok-<username>".
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		u, found := a.users[caller(r)]
		u = maps.Clone(u)
		a.mu.Unlock()
		if !found {
			reply(w, 401, map[string]any{"error": "sign in"})
			return
		}
		reply(w, 200, u)
	})
	mux.HandleFunc("PATCH /me", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if json.NewDecoder(r.Body).Decode(&body) != nil {
			reply(w, 400, map[string]any{"error": "bad json"})
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		name := caller(r)
		u, found := a.users[name]
		if !found {
			reply(w, 401, map[string]any{"error": "sign in"})
			return
		}
		delete(body, "username")
		next := maps.Clone(u)
		if !a.accept(name, next, body) {
			reply(w, 400, map[string]any{"error": "unknown field"})
			return
		}
		a.users[name] = next
		reply(w, 200, map[string]any{"status": "updated"})
	})
	mux.HandleFunc("GET /admin/stats", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		u := a.users[caller(r)]
		admin := u != nil && (u["is_admin"] == true || u["role"] == "admin")
		a.mu.Unlock()
		if !admin {
			reply(w, 403, map[string]any{"error": "admin only"})
			return
		}
		reply(w, 200, map[string]any{"secret": "s3"})
	})
	return mux
}

// caller is who a request speaks for: the X-User header, else the user a
// bearer token "tok-<username>" names.
func caller(r *http.Request) string {
	if u := r.Header.Get("X-User"); u != "" {
		return u
	}
	return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer tok-")
}

// user returns a copy of the stored user name.
func (a *userAPI) user(name string) map[string]any {
	a.mu.Lock()
	defer a.mu.Unlock()
	return maps.Clone(a.users[name])
}

// meOps is the spec of /me: the caller's own record.
func meOps() []*scan.Operation {
	get := checktest.Op("GET", "/me")
	get.Responses = map[string]*scan.Response{"200": {ContentType: "application/json", Schema: &scan.Schema{Type: "object", Properties: map[string]*scan.Schema{
		"username": str(), "email": str(), "is_admin": {Type: "boolean", ReadOnly: true}, "role": {Type: "string", ReadOnly: true},
	}}}}
	patch := checktest.Op("PATCH", "/me")
	patch.RequestBody = &scan.RequestBody{ContentType: "application/json", Schema: &scan.Schema{Type: "object", Properties: map[string]*scan.Schema{
		"email": str(), "display_name": str(),
	}}}
	return []*scan.Operation{get, patch}
}

func str() *scan.Schema { return &scan.Schema{Type: "string"} }

// userOps is the spec of userAPI: honest request schemas and a User
// response with readOnly server-owned attributes.
func userOps() []*scan.Operation {
	user := &scan.Schema{Type: "object", Properties: map[string]*scan.Schema{
		"username": str(), "email": {Type: "string", Format: "email"}, "display_name": str(),
		"is_admin": {Type: "boolean", ReadOnly: true},
		"role":     {Type: "string", ReadOnly: true},
		"credits":  {Type: "integer", ReadOnly: true},
	}}
	create := &scan.Schema{Type: "object", Required: []string{"username", "email"}, Properties: map[string]*scan.Schema{
		"username": str(), "email": {Type: "string", Format: "email"}, "display_name": str(),
	}}
	update := &scan.Schema{Type: "object", Properties: map[string]*scan.Schema{
		"email": {Type: "string", Format: "email"}, "display_name": str(),
	}}
	ok := func(s *scan.Schema) map[string]*scan.Response {
		return map[string]*scan.Response{"200": {ContentType: "application/json", Schema: s}}
	}
	post := checktest.Op("POST", "/users")
	post.RequestBody = &scan.RequestBody{ContentType: "application/json", Schema: create}
	patch := checktest.Op("PATCH", "/users/{username}")
	patch.RequestBody = &scan.RequestBody{ContentType: "application/json", Schema: update}
	get := checktest.Op("GET", "/users/{username}")
	get.Responses = ok(user)
	list := checktest.Op("GET", "/users")
	list.Responses = ok(&scan.Schema{Type: "object", Properties: map[string]*scan.Schema{"users": {Type: "array", Items: user}}})
	admin := checktest.Op("GET", "/admin/stats", scan.Parameter{Name: "X-User", In: "header", Required: true, Schema: str()})
	return []*scan.Operation{list, post, get, patch, checktest.Op("DELETE", "/users/{username}"), admin}
}
