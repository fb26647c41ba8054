package authz_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/scan"
)

// noteAPI is a small multi-user API: notes owned by users, a public
// catalogue, and an admin list. Callers name themselves with X-User (the
// identities' headers); mode picks the weaknesses.
//
//   - "vulnerable": any signed-in user reads, updates and deletes any
//     note; users reach GET /admin/users; PUT /items/{id} (undocumented)
//     is open to everybody.
//   - "fixed": owners only (admins read all); admins only; PUT refused.
type noteAPI struct {
	mode  string
	mu    sync.Mutex
	notes map[int]map[string]any
	next  int
}

var roles = map[string]string{"alice": "user", "bob": "user", "root": "admin"}

func newNoteAPI(mode string) *noteAPI {
	return &noteAPI{mode: mode, next: 4, notes: map[int]map[string]any{
		1: {"id": 1, "owner": "alice", "text": "alice's secret"},
		2: {"id": 2, "owner": "alice", "text": "alice's other"},
		3: {"id": 3, "owner": "bob", "text": "bob's secret"},
	}}
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (a *noteAPI) Handler() http.Handler {
	mux := http.NewServeMux()
	user := func(r *http.Request) string { return r.Header.Get("X-User") }
	may := func(r *http.Request, n map[string]any) bool {
		u := user(r)
		return u != "" && (a.mode == "vulnerable" || n["owner"] == u || roles[u] == "admin")
	}
	mux.HandleFunc("GET /notes", func(w http.ResponseWriter, r *http.Request) {
		if user(r) == "" {
			reply(w, 401, map[string]string{"error": "login"})
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		var mine []any
		for i := 1; i < a.next; i++ {
			if n, ok := a.notes[i]; ok && n["owner"] == user(r) {
				mine = append(mine, n)
			}
		}
		reply(w, 200, map[string]any{"notes": mine})
	})
	mux.HandleFunc("POST /notes", func(w http.ResponseWriter, r *http.Request) {
		if user(r) == "" {
			reply(w, 401, map[string]string{"error": "login"})
			return
		}
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		a.mu.Lock()
		defer a.mu.Unlock()
		n := map[string]any{"id": a.next, "owner": user(r), "text": body["text"]}
		a.notes[a.next] = n
		a.next++
		reply(w, 201, n)
	})
	item := func(w http.ResponseWriter, r *http.Request) (map[string]any, int) {
		id, _ := strconv.Atoi(r.PathValue("id"))
		if user(r) == "" {
			reply(w, 401, map[string]string{"error": "login"})
			return nil, 0
		}
		n, ok := a.notes[id]
		if !ok || !may(r, n) {
			reply(w, 404, map[string]string{"error": "not found"})
			return nil, 0
		}
		return n, id
	}
	mux.HandleFunc("GET /notes/{id}", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if n, _ := item(w, r); n != nil {
			reply(w, 200, n)
		}
	})
	mux.HandleFunc("PATCH /notes/{id}", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if n, _ := item(w, r); n != nil {
			var body map[string]any
			_ = json.NewDecoder(r.Body).Decode(&body)
			if t, ok := body["text"]; ok {
				n["text"] = t
			}
			reply(w, 200, n)
		}
	})
	mux.HandleFunc("DELETE /notes/{id}", func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		defer a.mu.Unlock()
		if n, id := item(w, r); n != nil {
			delete(a.notes, id)
			w.WriteHeader(204)
		}
	})
	// A public catalogue: the same for everybody, signed in or not.
	mux.HandleFunc("GET /items", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, map[string]any{"items": []any{map[string]any{"id": 1, "name": "widget"}, map[string]any{"id": 2, "name": "gadget"}}})
	})
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, map[string]any{"id": r.PathValue("id"), "name": "item " + r.PathValue("id")})
	})
	mux.HandleFunc("PUT /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		if a.mode == "vulnerable" || roles[user(r)] == "admin" {
			reply(w, 200, map[string]any{"id": r.PathValue("id")})
			return
		}
		reply(w, 403, map[string]string{"error": "admins only"})
	})
	mux.HandleFunc("GET /admin/users", func(w http.ResponseWriter, r *http.Request) {
		switch {
		case user(r) == "":
			reply(w, 401, map[string]string{"error": "login"})
		case a.mode == "vulnerable" || roles[user(r)] == "admin":
			reply(w, 200, map[string]any{"users": []string{"alice", "bob", "root"}})
		default:
			reply(w, 403, map[string]string{"error": "admins only"})
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 404, map[string]string{"error": "no route " + strings.ToLower(r.Method)})
	})
	return mux
}

func (a *noteAPI) count() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.notes)
}

func ident(name string) scan.Identity {
	return scan.Identity{Name: name, Role: roles[name], Headers: http.Header{"X-User": {name}}}
}

func str() *scan.Schema { return &scan.Schema{Type: "string"} }

// noteOps is the API's spec: PUT /items/{id} is left out on purpose.
func noteOps() []*scan.Operation {
	noteBody := &scan.RequestBody{ContentType: "application/json", Schema: &scan.Schema{Type: "object",
		Properties: map[string]*scan.Schema{"text": str()}}}
	create := checktest.Op("POST", "/notes")
	create.RequestBody = noteBody
	update := checktest.Op("PATCH", "/notes/{id}")
	update.RequestBody = noteBody
	admin := checktest.Op("GET", "/admin/users")
	admin.Tags = []string{"admin"}
	return []*scan.Operation{
		checktest.Op("GET", "/notes"), create, checktest.Op("GET", "/notes/{id}"), update,
		checktest.Op("DELETE", "/notes/{id}"), checktest.Op("GET", "/items"), checktest.Op("GET", "/items/{id}"), admin,
	}
}
