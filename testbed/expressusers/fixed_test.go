package expressusers_test

import (
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/testbed/expressusers"
)

func TestFixedTokens(t *testing.T) {
	t.Parallel()
	app := expressusers.Start(t, "fixed")
	if len(app.JWTSecret) < 32 || app.JWTSecret == expressusers.WeakSecret {
		t.Fatalf("fixed JWTSecret = %q, want a random key of at least 32 characters", app.JWTSecret)
	}
	token := login(t, app, "alice")

	header, claims := decode(t, token)
	if header["alg"] != "HS256" {
		t.Errorf("issued token alg = %v, want HS256", header["alg"])
	}
	if !signedWith(token, app.JWTSecret) || signedWith(token, expressusers.WeakSecret) {
		t.Errorf("issued token is not signed with the app's secret alone")
	}
	var keys []string
	for k := range claims {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if want := []string{"exp", "role", "sub"}; !slices.Equal(keys, want) {
		t.Errorf("issued token claims = %v, want exactly %v", keys, want)
	}
	exp, _ := claims["exp"].(float64)
	if left := time.Until(time.Unix(int64(exp), 0)); math.Abs(left.Minutes()-15) > 1 {
		t.Errorf("issued token expires in %v, want about 15m", left)
	}

	past := time.Now().Add(-time.Minute).Unix()
	future := time.Now().Add(time.Hour).Unix()
	alice := func(extra ...any) map[string]any {
		c := map[string]any{"sub": "1", "role": "user", "exp": future}
		for i := 0; i+1 < len(extra); i += 2 {
			k := extra[i].(string)
			if extra[i+1] == nil {
				delete(c, k)
			} else {
				c[k] = extra[i+1]
			}
		}
		return c
	}
	tests := []struct {
		name  string
		token string
		want  int
	}{
		{"issued", token, http.StatusOK},
		{"forged with the real secret", forge(t, "HS256", alice(), app.JWTSecret), http.StatusOK},
		{"alg none", forge(t, "none", alice(), ""), http.StatusUnauthorized},
		{"weak secret", forge(t, "HS256", alice(), "secret"), http.StatusUnauthorized},
		{"expired", forge(t, "HS256", alice("exp", past), app.JWTSecret), http.StatusUnauthorized},
		{"no exp", forge(t, "HS256", alice("exp", nil), app.JWTSecret), http.StatusUnauthorized},
		{"HS512 with the real secret", forge(t, "HS512", alice(), app.JWTSecret), http.StatusUnauthorized},
		{"tampered payload", tamper(t, token, alice("sub", "2")), http.StatusUnauthorized},
		{"garbage", "not.a.jwt", http.StatusUnauthorized},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := call(t, app, http.MethodGet, "/me", nil, tc.token)
			if got.status != tc.want {
				t.Errorf("GET /me with %s token = %d %s, want %d", tc.name, got.status, got.raw, tc.want)
			}
		})
	}

	// The role comes from the account, not from the token.
	bump := forge(t, "HS256", alice("role", "admin"), app.JWTSecret)
	if got := call(t, app, http.MethodGet, "/admin/users", nil, bump); got.status != http.StatusForbidden {
		t.Errorf("GET /admin/users as alice claiming admin = %d, want 403", got.status)
	}
}

func TestFixedOwnership(t *testing.T) {
	t.Parallel()
	app := expressusers.Start(t, "fixed")
	alice, bob, admin := login(t, app, "alice"), login(t, app, "bob"), login(t, app, "admin")

	tests := []struct {
		name, method, path string
		body               any
		token              string
		want               int
	}{
		{"read own order", http.MethodGet, "/orders/1", nil, alice, http.StatusOK},
		{"read bob's order", http.MethodGet, "/orders/3", nil, alice, http.StatusNotFound},
		{"update bob's order", http.MethodPatch, "/orders/3", map[string]any{"status": "cancelled"}, alice, http.StatusNotFound},
		{"delete bob's order", http.MethodDelete, "/orders/4", nil, alice, http.StatusNotFound},
		{"read missing order", http.MethodGet, "/orders/999", nil, alice, http.StatusNotFound},
		{"read own profile", http.MethodGet, "/users/1/profile", nil, alice, http.StatusOK},
		{"read bob's profile", http.MethodGet, "/users/2/profile", nil, alice, http.StatusForbidden},
		{"admin reads bob's order", http.MethodGet, "/orders/3", nil, admin, http.StatusOK},
		{"admin reads bob's profile", http.MethodGet, "/users/2/profile", nil, admin, http.StatusOK},
		{"bob updates his order", http.MethodPatch, "/orders/3", map[string]any{"quantity": 2}, bob, http.StatusOK},
		{"bob deletes his order", http.MethodDelete, "/orders/4", nil, bob, http.StatusNoContent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := call(t, app, tc.method, tc.path, tc.body, tc.token); got.status != tc.want {
				t.Errorf("%s %s = %d %s, want %d", tc.method, tc.path, got.status, got.raw, tc.want)
			}
		})
	}
	if got := field(mustCall(t, app, http.StatusOK, http.MethodGet, "/orders/3", nil, bob).json(t), "status"); got != "pending" {
		t.Errorf("bob's order 3 status = %v, want pending (alice's PATCH refused)", got)
	}

	list := mustCall(t, app, http.StatusOK, http.MethodGet, "/orders", nil, alice).json(t)
	orders, _ := list["orders"].([]any)
	for _, o := range orders {
		if owner := field(o, "owner_id"); owner != float64(1) {
			t.Errorf("GET /orders as alice lists an order of owner %v", owner)
		}
	}
	if len(orders) != 2 {
		t.Errorf("GET /orders as alice listed %d orders, want 2", len(orders))
	}
	created := mustCall(t, app, http.StatusCreated, http.MethodPost, "/orders", map[string]any{"product_id": 2, "quantity": 3}, bob).json(t)
	if created["id"] != float64(6) {
		t.Errorf("POST /orders id = %v, want 6 (sequential)", created["id"])
	}
	mustCall(t, app, http.StatusNotFound, http.MethodGet, "/orders/6", nil, alice)
}

func TestFixedFunctionLevelAuthorization(t *testing.T) {
	t.Parallel()
	app := expressusers.Start(t, "fixed")
	alice, admin := login(t, app, "alice"), login(t, app, "admin")
	product := map[string]any{"price": 1.5}
	tests := []struct {
		name, method, path string
		body               any
		token              string
		want               int
	}{
		{"list users as user", http.MethodGet, "/admin/users", nil, alice, http.StatusForbidden},
		{"list users anonymously", http.MethodGet, "/admin/users", nil, "", http.StatusUnauthorized},
		{"delete user as user", http.MethodDelete, "/admin/users/2", nil, alice, http.StatusForbidden},
		{"delete user anonymously", http.MethodDelete, "/admin/users/2", nil, "", http.StatusUnauthorized},
		{"put product anonymously", http.MethodPut, "/products/1", product, "", http.StatusUnauthorized},
		{"put product as user", http.MethodPut, "/products/1", product, alice, http.StatusForbidden},
		{"delete product as admin", http.MethodDelete, "/products/1", nil, admin, http.StatusNotFound},
		{"list users as admin", http.MethodGet, "/admin/users", nil, admin, http.StatusOK},
		{"put product as admin", http.MethodPut, "/products/1", product, admin, http.StatusOK},
		{"put bad product as admin", http.MethodPut, "/products/1", map[string]any{"price": -1}, admin, http.StatusBadRequest},
		{"delete user as admin", http.MethodDelete, "/admin/users/2", nil, admin, http.StatusNoContent},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := call(t, app, tc.method, tc.path, tc.body, tc.token); got.status != tc.want {
				t.Errorf("%s %s = %d %s, want %d", tc.method, tc.path, got.status, got.raw, tc.want)
			}
		})
	}
}

func TestFixedNeedsTokens(t *testing.T) {
	t.Parallel()
	app := expressusers.Start(t, "fixed")
	for _, op := range []struct{ method, path string }{
		{http.MethodGet, "/me"},
		{http.MethodGet, "/users/1/profile"},
		{http.MethodGet, "/orders"},
		{http.MethodPost, "/orders"},
		{http.MethodGet, "/orders/1"},
		{http.MethodPatch, "/orders/1"},
		{http.MethodDelete, "/orders/1"},
		{http.MethodGet, "/admin/users"},
		{http.MethodDelete, "/admin/users/1"},
	} {
		var body any
		if op.method == http.MethodPost || op.method == http.MethodPatch {
			body = map[string]any{"product_id": 1, "quantity": 1}
		}
		got := call(t, app, op.method, op.path, body, "")
		if got.status != http.StatusUnauthorized || got.header.Get("WWW-Authenticate") != "Bearer" {
			t.Errorf("%s %s without a token = %d, WWW-Authenticate %q, want 401 Bearer",
				op.method, op.path, got.status, got.header.Get("WWW-Authenticate"))
		}
	}
	mustCall(t, app, http.StatusOK, http.MethodGet, "/orders/1", nil, login(t, app, "alice"))
}

func TestFixedLoginThrottle(t *testing.T) {
	t.Parallel()
	app := expressusers.Start(t, "fixed")
	wrong := map[string]any{"username": "alice", "password": "wrong"}
	for i := range 5 {
		if got := call(t, app, http.MethodPost, "/login", wrong, ""); got.status != http.StatusUnauthorized {
			t.Fatalf("wrong login %d = %d %s, want 401", i+1, got.status, got.raw)
		}
	}
	for _, tc := range []struct {
		name string
		body map[string]any
	}{
		{"sixth wrong password", wrong},
		{"right password while locked", map[string]any{"username": "alice", "password": "alice-pw"}},
	} {
		got := call(t, app, http.MethodPost, "/login", tc.body, "")
		retry, err := strconv.Atoi(got.header.Get("Retry-After"))
		if got.status != http.StatusTooManyRequests || err != nil || retry < 1 || retry > 60 {
			t.Errorf("%s = %d, Retry-After %q, want 429 with 1..60", tc.name, got.status, got.header.Get("Retry-After"))
		}
	}
	// The lock is per username.
	app.Login(t, "bob", "bob-pw")
	if got := call(t, app, http.MethodPost, "/login", map[string]any{"username": 42, "password": "x"}, ""); got.status != http.StatusBadRequest {
		t.Errorf("login with a numeric username = %d, want 400", got.status)
	}
}

func TestFixedValidation(t *testing.T) {
	t.Parallel()
	app := expressusers.Start(t, "fixed")
	alice := login(t, app, "alice")
	tests := []struct {
		name  string
		field string
		value any
		want  int
	}{
		{"wrong type", "quantity", "abc", http.StatusBadRequest},
		{"negative", "quantity", -5, http.StatusBadRequest},
		{"zero", "quantity", 0, http.StatusBadRequest},
		{"huge", "quantity", 1e9, http.StatusBadRequest},
		{"fraction", "quantity", 2.5, http.StatusBadRequest},
		{"over-long note", "note", strings.Repeat("x", 100_000), http.StatusBadRequest},
		{"note one too long", "note", strings.Repeat("x", 501), http.StatusBadRequest},
		{"bad email", "email", "not-an-email", http.StatusBadRequest},
		{"bad date", "delivery_date", "2024-13-45", http.StatusBadRequest},
		{"day out of month", "delivery_date", "2024-02-30", http.StatusBadRequest},
		{"bad enum", "status", "bogus", http.StatusBadRequest},
		{"unknown product", "product_id", 99, http.StatusBadRequest},
		{"product id string", "product_id", "one", http.StatusBadRequest},
		{"max quantity", "quantity", 100, http.StatusCreated},
		{"longest note", "note", strings.Repeat("x", 500), http.StatusCreated},
		{"good email", "email", "a.b@example.org", http.StatusCreated},
		{"leap day", "delivery_date", "2024-02-29", http.StatusCreated},
		{"good enum", "status", "shipped", http.StatusCreated},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any{"product_id": 1, "quantity": 1, tc.field: tc.value}
			if got := call(t, app, http.MethodPost, "/orders", body, alice); got.status != tc.want {
				t.Errorf("POST /orders %s=%.40v = %d %s, want %d", tc.field, tc.value, got.status, got.raw, tc.want)
			}
			patchWant := tc.want
			if patchWant == http.StatusCreated {
				patchWant = http.StatusOK
			}
			if got := call(t, app, http.MethodPatch, "/orders/1", map[string]any{tc.field: tc.value}, alice); got.status != patchWant {
				t.Errorf("PATCH /orders/1 %s=%.40v = %d %s, want %d", tc.field, tc.value, got.status, got.raw, patchWant)
			}
		})
	}
	for _, body := range []any{map[string]any{"quantity": 1}, []any{1, 2}, "null"} {
		if got := call(t, app, http.MethodPost, "/orders", body, alice); got.status != http.StatusBadRequest {
			t.Errorf("POST /orders %v = %d %s, want 400", body, got.status, got.raw)
		}
	}
}

func TestFixedErrorsAreShortJSON(t *testing.T) {
	t.Parallel()
	app := expressusers.Start(t, "fixed")
	alice := login(t, app, "alice")
	tests := []struct {
		name, method, path string
		body               any
		want               int
	}{
		{"malformed create", http.MethodPost, "/orders", `{"quantity": 1,`, http.StatusBadRequest},
		{"malformed update", http.MethodPatch, "/orders/1", `{"quantity"`, http.StatusBadRequest},
		{"malformed login", http.MethodPost, "/login", `{`, http.StatusBadRequest},
		{"too large", http.MethodPost, "/orders", `{"note":"` + strings.Repeat("x", 2<<20) + `"}`, http.StatusRequestEntityTooLarge},
		{"unknown route", http.MethodGet, "/nope", nil, http.StatusNotFound},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := call(t, app, tc.method, tc.path, tc.body, alice)
			if got.status != tc.want {
				t.Errorf("%s %s = %d, want %d", tc.method, tc.path, got.status, tc.want)
			}
			if ct := got.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("%s %s Content-Type = %q, want JSON", tc.method, tc.path, ct)
			}
			for _, leak := range []string{"at ", "node_modules", "SyntaxError", "Error:"} {
				if strings.Contains(string(got.raw), leak) {
					t.Errorf("%s %s body %s contains %q", tc.method, tc.path, got.raw, leak)
				}
			}
		})
	}
	if got := call(t, app, http.MethodGet, "/health", nil, ""); got.header.Get("X-Powered-By") != "" {
		t.Errorf("X-Powered-By = %q, want none", got.header.Get("X-Powered-By"))
	}
}
