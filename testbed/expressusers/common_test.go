package expressusers_test

import (
	"bytes"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/testbed/expressusers"
	"github.com/merlonsec/merlon/testbed/internal/proc"
)

// TestPublicProducts: products are the same for everybody, signed in or
// not, in every variant, so they are never a BOLA.
func TestPublicProducts(t *testing.T) {
	t.Parallel()
	for _, variant := range expressusers.Variants() {
		t.Run(variant, func(t *testing.T) {
			t.Parallel()
			app := expressusers.Start(t, variant)
			callers := map[string]string{"anonymous": "", "alice": login(t, app, "alice"), "bob": login(t, app, "bob")}
			for _, path := range []string{"/products", "/products/2"} {
				want := mustCall(t, app, http.StatusOK, http.MethodGet, path, nil, "").raw
				for name, token := range callers {
					if got := mustCall(t, app, http.StatusOK, http.MethodGet, path, nil, token).raw; !bytes.Equal(got, want) {
						t.Errorf("GET %s as %s = %s, want %s as for anonymous", path, name, got, want)
					}
				}
			}
			mustCall(t, app, http.StatusNotFound, http.MethodGet, "/products/99", nil, "")
			health := mustCall(t, app, http.StatusOK, http.MethodGet, "/health", nil, "").json(t)
			if health["variant"] != variant {
				t.Errorf("GET /health variant = %v, want %s", health["variant"], variant)
			}
		})
	}
}

func TestSeededUsers(t *testing.T) {
	t.Parallel()
	app := expressusers.Start(t, "fixed")
	for _, u := range expressusers.Users() {
		me := mustCall(t, app, http.StatusOK, http.MethodGet, "/me", nil, app.Login(t, u.Name, u.Password)).json(t)
		if me["id"] != float64(u.ID) || me["username"] != u.Name || me["role"] != u.Role {
			t.Errorf("GET /me as %s = %v, want id %d role %s", u.Name, me, u.ID, u.Role)
		}
	}
}

func TestOpenAPIDescribesVariant(t *testing.T) {
	t.Parallel()
	for _, variant := range expressusers.Variants() {
		t.Run(variant, func(t *testing.T) {
			t.Parallel()
			app := expressusers.Start(t, variant)
			doc := mustCall(t, app, http.StatusOK, http.MethodGet, "/openapi.json", nil, "").json(t)
			if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.0") {
				t.Errorf("openapi = %q, want 3.0.x", v)
			}
			if got := field(doc, "components", "securitySchemes", "bearerAuth", "scheme"); got != "bearer" {
				t.Errorf("bearerAuth scheme = %v, want bearer", got)
			}
			secured := []struct{ path, method string }{
				{"/me", "get"}, {"/users/{id}/profile", "get"}, {"/orders", "get"}, {"/orders", "post"},
				{"/orders/{id}", "get"}, {"/orders/{id}", "patch"}, {"/orders/{id}", "delete"},
				{"/admin/users", "get"}, {"/admin/users/{id}", "delete"},
			}
			for _, op := range secured {
				sec, _ := field(doc, "paths", op.path, op.method, "security").([]any)
				if len(sec) != 1 || field(sec[0], "bearerAuth") == nil {
					t.Errorf("%s %s security = %v, want bearerAuth", op.method, op.path, sec)
				}
			}
			for _, op := range []struct{ path, method string }{{"/login", "post"}, {"/products/{id}", "get"}, {"/health", "get"}} {
				sec, ok := field(doc, "paths", op.path, op.method, "security").([]any)
				if !ok || len(sec) != 0 {
					t.Errorf("%s %s security = %v, want [] (public)", op.method, op.path, sec)
				}
			}
			for _, path := range []string{"/admin/users", "/admin/users/{id}"} {
				for _, op := range []string{"get", "delete"} {
					if m, ok := field(doc, "paths", path, op).(map[string]any); ok {
						if tags, _ := m["tags"].([]any); len(tags) != 1 || tags[0] != "admin" {
							t.Errorf("%s %s tags = %v, want [admin]", op, path, tags)
						}
					}
				}
			}
			if field(doc, "paths", "/products/{id}", "put") != nil {
				t.Error("PUT /products/{id} is documented, want it left for method-swap probing")
			}
			for _, prop := range []string{"id", "owner_id", "created_at"} {
				if got := field(doc, "components", "schemas", "Order", "properties", prop, "readOnly"); got != true {
					t.Errorf("Order.%s readOnly = %v, want true", prop, got)
				}
			}
			q := field(doc, "components", "schemas", "OrderCreate", "properties", "quantity").(map[string]any)
			if q["type"] != "integer" || q["minimum"] != float64(1) || q["maximum"] != float64(100) {
				t.Errorf("OrderCreate.quantity = %v, want integer 1..100", q)
			}
			if got := field(doc, "paths", "/orders", "post", "requestBody", "content", "application/json", "example"); got == nil {
				t.Error("POST /orders has no request example")
			}
			fixed := variant == "fixed"
			if got := field(doc, "paths", "/login", "post", "responses", "429") != nil; got != fixed {
				t.Errorf("login documents 429 = %v, want %v", got, fixed)
			}
			if got := field(doc, "paths", "/orders", "post", "responses", "400") != nil; got != fixed {
				t.Errorf("POST /orders documents 400 = %v, want %v", got, fixed)
			}
		})
	}
}

// TestStartCleansUp checks that the app is gone once the test that started
// it ends.
func TestStartCleansUp(t *testing.T) {
	t.Parallel()
	proc.Require(t, expressusers.Available())
	var app *expressusers.App
	t.Run("start", func(t *testing.T) {
		app = expressusers.Start(t, "fixed")
		mustCall(t, app, http.StatusOK, http.MethodGet, "/health", nil, "")
	})
	if app == nil {
		t.Fatal("subtest did not start the app")
	}
	u, err := url.Parse(app.URL)
	if err != nil {
		t.Fatal(err)
	}
	if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
		c.Close()
		t.Errorf("dial %s after the test ended succeeded, want the process gone", u.Host)
	}
}
