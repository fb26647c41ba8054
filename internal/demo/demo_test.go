package demo

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func do(t *testing.T, srv *httptest.Server, method, path, body string, hdr map[string]string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	return resp.StatusCode, m
}

// TestWeaknesses pins the demo's deliberate weaknesses, which the demo's
// report and the e2e tests depend on.
func TestWeaknesses(t *testing.T) {
	srv := httptest.NewServer(New().Handler())
	defer srv.Close()

	if code, _ := do(t, srv, "GET", "/api/admin/stats", "", map[string]string{"X-User": "alice"}); code != 403 {
		t.Fatalf("admin stats as alice = %d, want 403", code)
	}
	if code, _ := do(t, srv, "POST", "/api/users", `{"username":"mallory","email":"m@example.com","is_admin":true}`, nil); code != 201 {
		t.Fatalf("create = %d, want 201", code)
	}
	if _, u := do(t, srv, "GET", "/api/users/mallory", "", nil); u["is_admin"] != true {
		t.Fatalf("stored is_admin = %v, want true (mass assignment)", u["is_admin"])
	}
	if code, _ := do(t, srv, "GET", "/api/admin/stats", "", map[string]string{"X-User": "mallory"}); code != 200 {
		t.Fatalf("admin stats as mallory = %d, want 200 (escalation)", code)
	}
	if code, _ := do(t, srv, "PATCH", "/api/users/alice", `{"role":"admin"}`, nil); code != 200 {
		t.Fatalf("update = %d, want 200", code)
	}
	if code, _ := do(t, srv, "GET", "/api/admin/stats", "", map[string]string{"X-User": "alice"}); code != 200 {
		t.Fatalf("admin stats as alice after role update = %d, want 200", code)
	}

	req, _ := http.NewRequest("GET", srv.URL+"/api/users/%27%3C", nil)
	req.Header.Set("Origin", "https://evil.invalid")
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 500 || resp.Header.Get("Access-Control-Allow-Origin") != "https://evil.invalid" ||
		resp.Header.Get("Access-Control-Allow-Credentials") != "true" || !strings.Contains(resp.Header.Get("Server"), "/") {
		t.Errorf("status %d, headers %v: want a 500 traceback with reflected CORS and a versioned Server", resp.StatusCode, resp.Header)
	}
}

func TestUserCap(t *testing.T) {
	a := New()
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	for i := len(a.users); i < maxUsers; i++ {
		a.users[fmt.Sprintf("filler-%d", i)] = map[string]any{}
	}
	if code, _ := do(t, srv, "POST", "/api/users", `{"username":"onemore"}`, nil); code != http.StatusInsufficientStorage {
		t.Errorf("create past the cap = %d, want 507", code)
	}
}
