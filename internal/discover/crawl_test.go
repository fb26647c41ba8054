package discover

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/merlonsec/merlon/internal/scan"
)

// shop is a small JSON API: a root with links, a collection of users
// addressed by username whose OPTIONS allows POST, and orders under each
// user whose OPTIONS says nothing.
type shop struct {
	offsite string // an in-body link to another origin
	mu      sync.Mutex
	asked   []string // "METHOD /path"
}

func (s *shop) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.asked = append(s.asked, r.Method+" "+r.URL.Path)
	s.mu.Unlock()
	if r.Method == http.MethodOptions {
		switch r.URL.Path {
		case "/users":
			w.Header().Set("Allow", "GET, HEAD, POST")
		case "/users/alice":
			w.Header().Set("Allow", "GET")
		default:
			w.WriteHeader(http.StatusNotFound)
			return
		}
		w.WriteHeader(http.StatusNoContent)
		return
	}
	body := ""
	switch r.URL.Path {
	case "/":
		body = fmt.Sprintf(`{"_links": {"users": {"href": "/users"}, "status": {"href": "/status?verbose=1"}, "admin": {"href": "/admin"}},
			"elsewhere": %q, "docs": "https://example.invalid/docs", "logo": "/static/logo.png", "note": "see /nowhere here"}`, s.offsite)
	case "/users":
		body = `[{"username": "alice", "email": "alice@example.com", "admin": false, "age": 30},
			{"username": "bob", "email": "bob@example.com", "admin": false, "age": null}]`
	case "/users/alice", "/users/bob":
		name := strings.TrimPrefix(r.URL.Path, "/users/")
		body = fmt.Sprintf(`{"username": %q, "orders": "/users/%s/orders"}`, name, name)
	case "/users/alice/orders":
		body = `{"data": [{"id": 17, "total": 3.5, "created": "2024-05-01T10:00:00Z"}], "next": null}`
	case "/users/alice/orders/17":
		body = `{"id": 17, "total": 3.5}`
	case "/status":
		body = `{"ok": true}`
	case "/admin":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error": "forbidden"}`))
		return
	default:
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write([]byte(body))
}

// summary lists operations as "METHOD /path", in order.
func summary(ops []*scan.Operation) []string {
	var out []string
	for _, op := range ops {
		out = append(out, op.Method+" "+op.Path)
	}
	return out
}

func find(t *testing.T, ops []*scan.Operation, method, path string) *scan.Operation {
	t.Helper()
	for _, op := range ops {
		if op.Method == method && op.Path == path {
			return op
		}
	}
	t.Fatalf("no operation %s %s in %v", method, path, summary(ops))
	return nil
}

func startShop(t *testing.T) (*shop, *httptest.Server, *atomic.Int64) {
	t.Helper()
	var offsiteHits atomic.Int64
	off := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { offsiteHits.Add(1) }))
	t.Cleanup(off.Close)
	s := &shop{offsite: off.URL + "/users"}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return s, srv, &offsiteHits
}

func TestCrawl(t *testing.T) {
	s, srv, offsiteHits := startShop(t)
	vals := &scan.ValueBank{}
	ops, err := Crawl(context.Background(), client(t, srv.URL, false, 0), CrawlOptions{Values: vals})
	if err != nil {
		t.Fatalf("Crawl() error = %v", err)
	}
	want := []string{
		"GET /",
		"GET /admin",
		"GET /status",
		"GET /users",
		"POST /users",
		"GET /users/{username}",
		"GET /users/{username}/orders",
		"GET /users/{username}/orders/{id}",
	}
	if got := summary(ops); !reflect.DeepEqual(got, want) {
		t.Errorf("Crawl() operations =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, op := range ops {
		if op.Source != "discovered" || op.ID != op.Method+" "+op.Path {
			t.Errorf("%s: Source %q, ID %q; want discovered, %q", op.ID, op.Source, op.ID, op.Method+" "+op.Path)
		}
		if strings.Contains(op.Summary, "guessed") {
			t.Errorf("%s guessed without Active: %q", op.ID, op.Summary)
		}
	}

	if n := offsiteHits.Load(); n != 0 {
		t.Errorf("off-scope server got %d requests, want 0", n)
	}
	for _, a := range s.asked {
		if strings.Contains(a, "logo.png") || strings.Contains(a, "nowhere") {
			t.Errorf("crawl asked for %q, which is not an API link", a)
		}
	}

	item := find(t, ops, "GET", "/users/{username}")
	if want := []scan.Parameter{{Name: "username", In: "path", Required: true, Schema: &scan.Schema{Type: "string"}, Example: "alice"}}; !reflect.DeepEqual(item.Parameters, want) {
		t.Errorf("GET /users/{username} parameters = %+v, want %+v", item.Parameters, want)
	}
	order := find(t, ops, "GET", "/users/{username}/orders/{id}")
	if got := order.Parameters; len(got) != 2 || got[0].Name != "username" || got[1].Name != "id" || got[1].Schema.Type != "integer" || got[1].Example != "17" {
		t.Errorf("GET /users/{username}/orders/{id} parameters = %+v, want username then integer id 17", got)
	}
	status := find(t, ops, "GET", "/status")
	if len(status.Parameters) != 1 || status.Parameters[0].In != "query" || status.Parameters[0].Name != "verbose" || status.Parameters[0].Example != "1" {
		t.Errorf("GET /status parameters = %+v, want query verbose=1", status.Parameters)
	}

	post := find(t, ops, "POST", "/users")
	if post.RequestBody == nil || post.RequestBody.Schema == nil {
		t.Fatalf("POST /users has no body schema")
	}
	props := post.RequestBody.Schema.Properties
	wantTypes := map[string]string{"username": "string", "email": "string", "admin": "boolean", "age": "integer"}
	if len(props) != len(wantTypes) {
		t.Errorf("POST /users body properties = %v, want %v", props, wantTypes)
	}
	for name, typ := range wantTypes {
		if p := props[name]; p == nil || p.Type != typ || p.ReadOnly {
			t.Errorf("POST /users body property %s = %+v, want writable %s", name, p, typ)
		}
	}
	if p := props["email"]; p != nil && p.Format != "email" {
		t.Errorf("email format = %q, want email", p.Format)
	}
	if p := props["age"]; p != nil && !p.Nullable {
		t.Errorf("age seen as null once: Nullable = false, want true")
	}
	resp := find(t, ops, "GET", "/users").Responses["200"]
	if resp == nil || resp.ContentType != "application/json" || resp.Schema.Type != "array" || resp.Schema.Items.Properties["username"] == nil {
		t.Errorf("GET /users response = %+v, want a JSON array of user objects", resp)
	}

	if got := vals.All("username"); !slices.Contains(got, "alice") || !slices.Contains(got, "bob") {
		t.Errorf("Values username = %v, want alice and bob", got)
	}
	if got, _ := vals.Get("id"); got != "17" {
		t.Errorf("Values id = %q, want 17", got)
	}
}

func TestCrawlActiveGuesses(t *testing.T) {
	_, srv, _ := startShop(t)
	ops, err := Crawl(context.Background(), client(t, srv.URL, true, 0), CrawlOptions{Active: true})
	if err != nil {
		t.Fatalf("Crawl() error = %v", err)
	}
	// /users allows POST only, and /users/alice lists its methods: nothing
	// is guessed there. The orders say nothing, so their writes are guessed.
	for _, tc := range []struct {
		method, path string
		guessed      bool
	}{
		{"POST", "/users", false},
		{"POST", "/users/{username}/orders", true},
		{"PUT", "/users/{username}/orders/{id}", true},
		{"PATCH", "/users/{username}/orders/{id}", true},
		{"DELETE", "/users/{username}/orders/{id}", true},
	} {
		op := find(t, ops, tc.method, tc.path)
		if got := strings.Contains(op.Summary, "guessed"); got != tc.guessed {
			t.Errorf("%s %s summary %q: guessed = %v, want %v", tc.method, tc.path, op.Summary, got, tc.guessed)
		}
		if tc.method == "DELETE" {
			if op.RequestBody != nil {
				t.Errorf("DELETE %s has a body", tc.path)
			}
			continue
		}
		id := op.RequestBody.Schema.Properties["id"]
		if tc.path != "/users" && (id == nil || !id.ReadOnly || id.Type != "integer") {
			t.Errorf("%s %s body id = %+v, want a readOnly integer", tc.method, tc.path, id)
		}
	}
	for _, op := range ops {
		if op.Path == "/users/{username}" && op.Method != "GET" {
			t.Errorf("Crawl() added %s %s though OPTIONS allowed only GET", op.Method, op.Path)
		}
	}
}

func TestCrawlMaxPages(t *testing.T) {
	var gets atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			gets.Add(1)
		}
		n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/page/"))
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"n": %d, "next": "/page/%d", "also": "/page/%d?x=%d"}`, n, n+1, n+2, n)
	}))
	defer srv.Close()

	ops, err := Crawl(context.Background(), client(t, srv.URL, false, 0), CrawlOptions{MaxPages: 7})
	if err != nil {
		t.Fatalf("Crawl() error = %v", err)
	}
	if got := gets.Load(); got != 7 {
		t.Errorf("Crawl(MaxPages 7) sent %d GETs, want 7", got)
	}
	page := find(t, ops, "GET", "/page/{id}")
	if len(page.Parameters) != 2 || page.Parameters[0].Name != "id" || page.Parameters[1].Name != "x" {
		t.Errorf("GET /page/{id} parameters = %+v, want path id and query x", page.Parameters)
	}

	// The default bound holds too.
	gets.Store(0)
	if _, err := Crawl(context.Background(), client(t, srv.URL, false, 0), CrawlOptions{}); err != nil {
		t.Fatalf("Crawl() error = %v", err)
	}
	if got := gets.Load(); got != DefaultMaxPages {
		t.Errorf("Crawl(default) sent %d GETs, want %d", got, DefaultMaxPages)
	}

	// And so does the engine's budget, which ends the crawl without error.
	gets.Store(0)
	if _, err := Crawl(context.Background(), client(t, srv.URL, false, 4), CrawlOptions{}); err != nil {
		t.Fatalf("Crawl(budget 4) error = %v, want nil", err)
	}
	if got := gets.Load(); got != 4 {
		t.Errorf("Crawl(budget 4) sent %d GETs, want 4", got)
	}
}

func TestCrawlHostile(t *testing.T) {
	deep := `{"next": "/wide", "x": ` + strings.Repeat(`{"a": `, 5000) + "1" + strings.Repeat("}", 5000) + "}"
	wide := `[` + strings.Repeat(`{"id": 1},`, 150_000) + `{"id": 2}]`
	var got []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = append(got, r.Method+" "+r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/":
			_, _ = w.Write([]byte(deep))
		case "/wide":
			_, _ = w.Write([]byte(wide))
		case "/bad":
			_, _ = w.Write([]byte(`{"a": [1, 2`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	ops, err := Crawl(context.Background(), client(t, srv.URL, false, 0), CrawlOptions{})
	if err != nil {
		t.Fatalf("Crawl() error = %v", err)
	}
	// The links read before the nesting limit are followed; the bodies past
	// the limits are not taken apart, but their paths still answered JSON.
	if want := []string{"GET /", "GET /wide"}; !reflect.DeepEqual(summary(ops), want) {
		t.Errorf("Crawl(hostile) = %v, want %v", summary(ops), want)
	}
	if !slices.Contains(got, "GET /wide") {
		t.Errorf("Crawl(hostile) asked %v, want /wide followed", got)
	}
	if _, err := json.Marshal(ops); err != nil {
		t.Errorf("operations do not marshal: %v", err)
	}
}

func TestCrawlBasePath(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	var srv *httptest.Server
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.URL.Path)
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v2", "/api/v2/":
			fmt.Fprintf(w, `{"users": "/api/v2/users", "items": "%s/api/v2/items/", "relative": "/tags", "other": "%s/admin"}`, srv.URL, srv.URL)
		case "/api/v2/users", "/api/v2/items", "/api/v2/tags":
			_, _ = w.Write([]byte(`[]`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	ops, err := Crawl(context.Background(), client(t, srv.URL+"/api/v2", false, 0), CrawlOptions{})
	if err != nil {
		t.Fatalf("Crawl() error = %v", err)
	}
	if want := []string{"GET /", "GET /items", "GET /tags", "GET /users"}; !reflect.DeepEqual(summary(ops), want) {
		t.Errorf("Crawl(base /api/v2) = %v, want %v", summary(ops), want)
	}
	for _, a := range asked {
		if !strings.HasPrefix(a, "/api/v2") {
			t.Errorf("Crawl(base /api/v2) asked %s, outside the base path", a)
		}
	}
}

func TestCrawlUnreachable(t *testing.T) {
	dead := httptest.NewServer(http.NotFoundHandler())
	u := dead.URL
	dead.Close()
	if ops, err := Crawl(context.Background(), client(t, u, false, 0), CrawlOptions{}); err == nil {
		t.Errorf("Crawl(unreachable) = %v, nil; want an error", summary(ops))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()
	if _, err := Crawl(ctx, client(t, srv.URL, false, 0), CrawlOptions{}); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("Crawl(cancelled) error = %v, want context canceled", err)
	}
}

func TestTemplate(t *testing.T) {
	c := &crawler{items: map[string]map[string]string{
		"/users":            {"alice": "username"},
		"/teams/{}/members": {"m-1": "slug"},
	}}
	tests := []struct {
		in, want string
		params   []string
	}{
		{"/", "/", nil},
		{"/users", "/users", nil},
		{"/users/alice", "/users/{username}", []string{"username"}},
		{"/users/carol", "/users/carol", nil},
		{"/users/42", "/users/{id}", []string{"id"}},
		{"/users/42/posts/7", "/users/{userId}/posts/{id}", []string{"userId", "id"}},
		{"/categories/3/items", "/categories/{id}/items", []string{"id"}},
		{"/teams/9/members/m-1", "/teams/{teamId}/members/{slug}", []string{"teamId", "slug"}},
		{"/files/550e8400-e29b-41d4-a716-446655440000", "/files/{id}", []string{"id"}},
		{"/objects/507f1f77bcf86cd799439011/v2", "/objects/{id}/v2", []string{"id"}},
		{"/1/2", "/{id}/{id2}", []string{"id", "id2"}},
		{"/line-items/5/x", "/line-items/{id}/x", []string{"id"}},
	}
	for _, tt := range tests {
		got, params := c.template(tt.in)
		var names []string
		for _, p := range params {
			names = append(names, p.Name)
		}
		if got != tt.want || !reflect.DeepEqual(names, tt.params) {
			t.Errorf("template(%q) = %q %v, want %q %v", tt.in, got, names, tt.want, tt.params)
		}
	}
}
