package coverage

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

const resourceSpec = `{"openapi":"3.0.3","info":{"title":"resource twin","version":"1"},"paths":{
 "/items":{
  "get":{"parameters":[{"name":"limit","in":"query","schema":{"type":"integer"}},{"name":"page","in":"query","schema":{"type":"integer"}}],
         "responses":{"200":{"description":"a page of items"}}},
  "post":{"requestBody":{"required":true,"content":{"application/json":{"schema":{"type":"object","required":["name"],"properties":{"name":{"type":"string"}}}}}},
          "responses":{"201":{"description":"created"}}}},
 "/items/{id}":{
  "get":{"parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"integer"}}],"responses":{"200":{"description":"an item"}}},
  "delete":{"parameters":[{"name":"id","in":"path","required":true,"schema":{"type":"integer"}}],"responses":{"204":{"description":"deleted"}}}},
 "/export":{"get":{"responses":{"200":{"description":"every item"}}}}}}`

// resourceAPI is the resource-consumption twin; hardened selects the clean one.
type resourceAPI struct {
	hardened bool

	mu     sync.Mutex
	items  map[int]string
	next   int
	window time.Time
	inUse  int
}

// ResourceVulnerable is an API with no rate limit and no rate-limit
// headers, a page size it honours whatever its value, an unpaginated
// 1.2 MiB export, and no request body limit.
func ResourceVulnerable() http.Handler { return newResourceAPI(false) }

// ResourceClean is its twin: a 40-requests-a-second limit announced in
// RateLimit headers, page sizes clamped to 100, a paginated export and a
// 1 MiB body limit.
func ResourceClean() http.Handler { return newResourceAPI(true) }

// rateLimit is the clean twin's limit per one-second window.
const rateLimit = 40

func newResourceAPI(hardened bool) http.Handler {
	a := &resourceAPI{hardened: hardened, items: make(map[int]string), next: 301}
	for i := 1; i <= 300; i++ {
		a.items[i] = fmt.Sprintf("item %d", i)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, r *http.Request) { sendJSON(w, 200, resourceSpec) })
	mux.HandleFunc("GET /items", a.list)
	mux.HandleFunc("POST /items", a.create)
	mux.HandleFunc("GET /items/{id}", a.get)
	mux.HandleFunc("DELETE /items/{id}", a.remove)
	mux.HandleFunc("GET /export", a.export)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { sendJSON(w, 404, `{"error":"not found"}`) })
	if !hardened {
		return mux
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.mu.Lock()
		now := time.Now()
		if now.Sub(a.window) >= time.Second {
			a.window, a.inUse = now, 0
		}
		a.inUse++
		left := rateLimit - a.inUse
		a.mu.Unlock()
		w.Header().Set("RateLimit-Policy", fmt.Sprintf("%d;w=1", rateLimit))
		w.Header().Set("RateLimit", fmt.Sprintf("limit=%d, remaining=%d, reset=1", rateLimit, max(left, 0)))
		if left < 0 {
			w.Header().Set("Retry-After", "1")
			sendJSON(w, http.StatusTooManyRequests, `{"error":"too many requests"}`)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

type item struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

func (a *resourceAPI) sorted(from, n int) []item {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []item
	for id := 1; id < a.next && len(out) < n; id++ {
		if name, ok := a.items[id]; ok {
			if from > 0 {
				from--
				continue
			}
			out = append(out, item{id, name})
		}
	}
	return out
}

func (a *resourceAPI) list(w http.ResponseWriter, r *http.Request) {
	limit := 20
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			sendJSON(w, 400, `{"error":"limit must be a positive integer"}`)
			return
		}
		limit = n
	}
	if a.hardened {
		limit = min(limit, 100)
	}
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	b, _ := json.Marshal(map[string]any{"items": a.sorted(max(page-1, 0)*limit, limit), "page": max(page, 1)})
	sendJSON(w, 200, string(b))
}

func (a *resourceAPI) create(w http.ResponseWriter, r *http.Request) {
	var body io.Reader = r.Body
	if a.hardened {
		body = http.MaxBytesReader(w, r.Body, 1<<20)
	}
	var in map[string]any
	if err := json.NewDecoder(body).Decode(&in); err != nil {
		if strings.Contains(err.Error(), "too large") {
			sendJSON(w, http.StatusRequestEntityTooLarge, `{"error":"body too large"}`)
			return
		}
		sendJSON(w, 400, `{"error":"invalid JSON"}`)
		return
	}
	name, _ := in["name"].(string)
	if name == "" {
		sendJSON(w, 400, `{"error":"name is required"}`)
		return
	}
	a.mu.Lock()
	id := a.next
	a.next++
	a.items[id] = name[:min(len(name), 64)]
	a.mu.Unlock()
	sendJSON(w, 201, fmt.Sprintf(`{"id":%d,"name":%q}`, id, name[:min(len(name), 64)]))
}

func (a *resourceAPI) get(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.PathValue("id"))
	a.mu.Lock()
	name, ok := a.items[id]
	a.mu.Unlock()
	if !ok {
		sendJSON(w, 404, `{"error":"not found"}`)
		return
	}
	sendJSON(w, 200, fmt.Sprintf(`{"id":%d,"name":%q}`, id, name))
}

func (a *resourceAPI) remove(w http.ResponseWriter, r *http.Request) {
	id, _ := strconv.Atoi(r.PathValue("id"))
	a.mu.Lock()
	_, ok := a.items[id]
	delete(a.items, id)
	a.mu.Unlock()
	if !ok {
		sendJSON(w, 404, `{"error":"not found"}`)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// export sends every item with a long description: 1.2 MiB unpaginated
// on the vulnerable twin, the first 50 and a cursor on the clean one.
func (a *resourceAPI) export(w http.ResponseWriter, r *http.Request) {
	type row struct {
		item
		Description string `json:"description"`
	}
	items := a.sorted(0, 1<<30)
	pad := strings.Repeat("lorem ipsum ", 350)
	var rows []row
	for _, it := range items {
		rows = append(rows, row{it, pad})
	}
	var b []byte
	if a.hardened {
		b, _ = json.Marshal(map[string]any{"items": rows[:min(len(rows), 50)], "next": "cursor-50"})
	} else {
		b, _ = json.Marshal(rows)
	}
	sendJSON(w, 200, string(b))
}

// sendJSON writes a JSON answer with the headers a careful API sends.
func sendJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// serveSpec serves an OpenAPI document.
func serveSpec(spec string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { sendJSON(w, 200, spec) }
}
