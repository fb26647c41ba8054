package expressusers_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/testbed/expressusers"
)

func TestVulnerableTokens(t *testing.T) {
	t.Parallel()
	app := expressusers.Start(t, "vulnerable")
	token := login(t, app, "alice")

	header, claims := decode(t, token)
	if header["alg"] != "HS256" {
		t.Errorf("issued token alg = %v, want HS256", header["alg"])
	}
	if !signedWith(token, expressusers.WeakSecret) {
		t.Errorf("issued token is not signed with %q", expressusers.WeakSecret)
	}
	if _, ok := claims["exp"]; ok {
		t.Errorf("issued token claims exp = %v, want none", claims["exp"])
	}
	for _, sensitive := range []string{"password_hash", "ssn", "email"} {
		if s, _ := claims[sensitive].(string); s == "" {
			t.Errorf("issued token claims %s = %v, want a leaked value", sensitive, claims[sensitive])
		}
	}
	if s, _ := claims["password_hash"].(string); !strings.HasPrefix(s, "sha256$") {
		t.Errorf("claims password_hash = %q, want a sha256$ hash", s)
	}

	past := time.Now().Add(-time.Hour).Unix()
	tests := []struct {
		name  string
		token string
		want  int
	}{
		{"issued", token, http.StatusOK},
		{"alg none", forge(t, "none", map[string]any{"sub": "1", "role": "user"}, ""), http.StatusOK},
		{"alg None", forge(t, "None", map[string]any{"sub": "1", "role": "user"}, ""), http.StatusOK},
		{"expired, weak secret", forge(t, "HS256", map[string]any{"sub": "1", "role": "user", "exp": past}, "secret"), http.StatusOK},
		{"HS512, weak secret", forge(t, "HS512", map[string]any{"sub": "1", "role": "user"}, "secret"), http.StatusOK},
		{"other secret", forge(t, "HS256", map[string]any{"sub": "1", "role": "user"}, "not-the-secret"), http.StatusUnauthorized},
		{"tampered payload", tamper(t, token, map[string]any{"sub": "2", "role": "user"}), http.StatusUnauthorized},
		{"unknown subject", forge(t, "HS256", map[string]any{"sub": "99"}, "secret"), http.StatusUnauthorized},
		{"garbage", "not.a.jwt", http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := call(t, app, http.MethodGet, "/me", nil, tc.token)
			if got.status != tc.want {
				t.Fatalf("GET /me with %s token = %d %s, want %d", tc.name, got.status, got.raw, tc.want)
			}
			if tc.want == http.StatusOK && field(got.json(t), "username") != "alice" {
				t.Errorf("GET /me = %s, want alice", got.raw)
			}
		})
	}

	// The role claim is trusted: an unsigned token makes alice an admin.
	forged := forge(t, "none", map[string]any{"sub": "1", "role": "admin"}, "")
	if got := call(t, app, http.MethodGet, "/admin/users", nil, forged); got.status != http.StatusOK {
		t.Errorf("GET /admin/users with alg none role admin = %d, want 200", got.status)
	}
}

// TestUnverifiedAcceptsTamperedPayload: the unverified variant decodes
// tokens without checking their signature at all.
func TestUnverifiedAcceptsTamperedPayload(t *testing.T) {
	t.Parallel()
	app := expressusers.Start(t, "unverified")
	token := login(t, app, "alice")
	if !signedWith(token, expressusers.WeakSecret) {
		t.Errorf("issued token is not signed with %q", expressusers.WeakSecret)
	}
	tests := []struct {
		name  string
		token string
		want  string
	}{
		{"tampered sub", tamper(t, token, map[string]any{"sub": "2", "role": "user"}), "bob"},
		{"other secret", forge(t, "HS256", map[string]any{"sub": "3", "role": "admin"}, "not-the-secret"), "admin"},
		{"alg none", forge(t, "none", map[string]any{"sub": "1"}, ""), "alice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := mustCall(t, app, http.StatusOK, http.MethodGet, "/me", nil, tc.token)
			if u := field(got.json(t), "username"); u != tc.want {
				t.Errorf("GET /me with %s token: username = %v, want %s", tc.name, u, tc.want)
			}
		})
	}
}

func TestVulnerableBOLA(t *testing.T) {
	t.Parallel()
	app := expressusers.Start(t, "vulnerable")
	alice := login(t, app, "alice")

	// Orders 3 and 4 and profile 2 are bob's.
	order := mustCall(t, app, http.StatusOK, http.MethodGet, "/orders/3", nil, alice).json(t)
	if order["owner_id"] != float64(2) {
		t.Errorf("GET /orders/3 as alice: owner_id = %v, want 2 (bob's order)", order["owner_id"])
	}
	prof := mustCall(t, app, http.StatusOK, http.MethodGet, "/users/2/profile", nil, alice).json(t)
	if prof["username"] != "bob" || prof["phone"] == nil {
		t.Errorf("GET /users/2/profile as alice = %v, want bob's profile", prof)
	}
	mustCall(t, app, http.StatusOK, http.MethodPatch, "/orders/3", map[string]any{"status": "cancelled"}, alice)
	bob := login(t, app, "bob")
	if got := field(mustCall(t, app, http.StatusOK, http.MethodGet, "/orders/3", nil, bob).json(t), "status"); got != "cancelled" {
		t.Errorf("bob's order 3 status after alice's PATCH = %v, want cancelled", got)
	}
	mustCall(t, app, http.StatusNoContent, http.MethodDelete, "/orders/4", nil, alice)
	mustCall(t, app, http.StatusNotFound, http.MethodGet, "/orders/4", nil, bob)

	// Created orders get the next sequential id.
	created := mustCall(t, app, http.StatusCreated, http.MethodPost, "/orders", map[string]any{"product_id": 1, "quantity": 1}, bob).json(t)
	if created["id"] != float64(6) || created["owner_id"] != float64(2) {
		t.Errorf("POST /orders as bob = %v, want id 6 owned by 2", created)
	}
	mustCall(t, app, http.StatusOK, http.MethodGet, "/orders/6", nil, alice)
	// Without a token, single orders still need one.
	mustCall(t, app, http.StatusUnauthorized, http.MethodGet, "/orders/6", nil, "")
}

func TestVulnerableAnonymousList(t *testing.T) {
	t.Parallel()
	app := expressusers.Start(t, "vulnerable")
	all := mustCall(t, app, http.StatusOK, http.MethodGet, "/orders", nil, "").json(t)
	if orders, _ := all["orders"].([]any); len(orders) != 5 {
		t.Errorf("GET /orders without a token listed %d orders, want all 5", len(orders))
	}
	mine := mustCall(t, app, http.StatusOK, http.MethodGet, "/orders", nil, login(t, app, "alice")).json(t)
	if orders, _ := mine["orders"].([]any); len(orders) != 2 {
		t.Errorf("GET /orders as alice listed %d orders, want her 2", len(orders))
	}
	for _, path := range []string{"/me", "/users/1/profile", "/admin/users"} {
		if got := call(t, app, http.MethodGet, path, nil, ""); got.status != http.StatusUnauthorized {
			t.Errorf("GET %s without a token = %d, want 401", path, got.status)
		}
	}
}

func TestVulnerableBFLA(t *testing.T) {
	t.Parallel()
	app := expressusers.Start(t, "vulnerable")
	alice := login(t, app, "alice")

	users := mustCall(t, app, http.StatusOK, http.MethodGet, "/admin/users", nil, alice).json(t)
	if list, _ := users["users"].([]any); len(list) != 3 {
		t.Errorf("GET /admin/users as alice listed %d users, want 3", len(list))
	}
	mustCall(t, app, http.StatusNoContent, http.MethodDelete, "/admin/users/2", nil, alice)
	if got := call(t, app, http.MethodPost, "/login", map[string]any{"username": "bob", "password": "bob-pw"}, ""); got.status != http.StatusUnauthorized {
		t.Errorf("login as bob after alice deleted him = %d, want 401", got.status)
	}

	// Method swap: GET /products/1 is public, and so, undocumented, is PUT.
	before := mustCall(t, app, http.StatusOK, http.MethodGet, "/products/1", nil, "").json(t)
	mustCall(t, app, http.StatusOK, http.MethodPut, "/products/1", map[string]any{"price": 0.01}, "")
	after := mustCall(t, app, http.StatusOK, http.MethodGet, "/products/1", nil, "").json(t)
	if before["price"] == after["price"] || after["price"] != 0.01 {
		t.Errorf("product 1 price after anonymous PUT = %v (was %v), want 0.01", after["price"], before["price"])
	}
}

func TestVulnerableLoginHasNoThrottle(t *testing.T) {
	t.Parallel()
	app := expressusers.Start(t, "vulnerable")
	for i := range 20 {
		got := call(t, app, http.MethodPost, "/login", map[string]any{"username": "alice", "password": "wrong"}, "")
		if got.status != http.StatusUnauthorized {
			t.Fatalf("wrong login %d = %d %s, want 401", i+1, got.status, got.raw)
		}
	}
	app.Login(t, "alice", "alice-pw")
}

func TestVulnerableStoresInvalidInput(t *testing.T) {
	t.Parallel()
	app := expressusers.Start(t, "vulnerable")
	alice := login(t, app, "alice")
	long := strings.Repeat("x", 100_000)
	tests := []struct {
		name  string
		field string
		value any
	}{
		{"wrong type", "quantity", "abc"},
		{"negative", "quantity", float64(-5)},
		{"huge", "quantity", float64(1e9)},
		{"fraction", "quantity", 2.5},
		{"over-long note", "note", long},
		{"bad email", "email", "not-an-email"},
		{"bad date", "delivery_date", "2024-13-45"},
		{"bad enum", "status", "bogus"},
		{"product id string", "product_id", "one"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any{"product_id": 1, "quantity": 1, tc.field: tc.value}
			created := mustCall(t, app, http.StatusCreated, http.MethodPost, "/orders", body, alice).json(t)
			id, _ := created["id"].(float64)
			path := "/orders/" + strconv.Itoa(int(id))
			if got := field(mustCall(t, app, http.StatusOK, http.MethodGet, path, nil, alice).json(t), tc.field); got != tc.value {
				t.Errorf("stored %s after POST = %.40v, want %.40v", tc.field, got, tc.value)
			}
			mustCall(t, app, http.StatusOK, http.MethodPatch, "/orders/1", map[string]any{tc.field: tc.value}, alice)
			if got := field(mustCall(t, app, http.StatusOK, http.MethodGet, "/orders/1", nil, alice).json(t), tc.field); got != tc.value {
				t.Errorf("stored %s after PATCH = %.40v, want %.40v", tc.field, got, tc.value)
			}
		})
	}
}

func TestVulnerableStackTraceOnMalformedJSON(t *testing.T) {
	t.Parallel()
	app := expressusers.Start(t, "vulnerable")
	alice := login(t, app, "alice")
	tests := []struct {
		name, method, path, token string
	}{
		{"create order", http.MethodPost, "/orders", alice},
		{"update order", http.MethodPatch, "/orders/1", alice},
		{"login", http.MethodPost, "/login", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := call(t, app, tc.method, tc.path, `{"quantity": 1,`, tc.token)
			if got.status != http.StatusInternalServerError {
				t.Errorf("%s %s with bad JSON = %d, want 500", tc.method, tc.path, got.status)
			}
			for _, want := range []string{"SyntaxError", "at JSON.parse", "node_modules/body-parser"} {
				if !strings.Contains(string(got.raw), want) {
					t.Errorf("%s %s with bad JSON: body lacks %q:\n%s", tc.method, tc.path, want, got.raw)
				}
			}
		})
	}
}

// TestVulnerableCrashesWithoutBody: an order write with no JSON body at all
// is a TypeError, and a 500 with its stack.
func TestVulnerableCrashesWithoutBody(t *testing.T) {
	t.Parallel()
	app := expressusers.Start(t, "vulnerable")
	got := call(t, app, http.MethodPost, "/orders", nil, login(t, app, "alice"))
	if got.status != http.StatusInternalServerError || !strings.Contains(string(got.raw), "TypeError") {
		t.Errorf("POST /orders without a body = %d %.200s, want 500 with a TypeError stack", got.status, got.raw)
	}
}
