package authn_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/scan"
)

// strongSecret is the clean API's key: 32 random-looking bytes no
// wordlist holds.
const strongSecret = "k3Jq9vX2mB7nR4tW8yZ1cF6hL0pD5sG_"

// api is a small JWT-protected API whose weaknesses are switched on one
// by one, so each check has a vulnerable and a clean target.
type api struct {
	secret       string
	algNone      bool // accepts alg none in any spelling
	noVerify     bool // reads claims without checking the signature
	ignoreExp    bool // accepts expired tokens
	anonOrders   bool // GET /orders answers anonymous callers
	throttle     int  // failed logins per username before 429; 0 never
	cookie       string
	mu           sync.Mutex
	failures     map[string]int
	loginCount   int
	forgedClaims []string // merlon_tamper values seen, for assertions
}

func (a *api) verify(raw string) (jwt.MapClaims, bool) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, false
	}
	unverified := jwt.MapClaims{}
	tok, _, err := jwt.NewParser().ParseUnverified(raw, unverified)
	if tok == nil || tok.Header == nil {
		return nil, false
	}
	if alg, _ := tok.Header["alg"].(string); strings.EqualFold(alg, "none") {
		return unverified, a.algNone
	}
	if err != nil {
		return nil, false
	}
	if a.noVerify {
		return unverified, true
	}
	opts := []jwt.ParserOption{jwt.WithValidMethods([]string{"HS256", "HS384", "HS512"})}
	if a.ignoreExp {
		opts = append(opts, jwt.WithoutClaimsValidation())
	} else {
		opts = append(opts, jwt.WithExpirationRequired())
	}
	claims := jwt.MapClaims{}
	if _, err := jwt.NewParser(opts...).ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) {
		return []byte(a.secret), nil
	}); err != nil {
		return nil, false
	}
	return claims, true
}

func (a *api) auth(r *http.Request) (jwt.MapClaims, bool) {
	c, ok := a.credentials(r)
	if v, isStr := c["merlon_tamper"].(string); ok && isStr {
		a.mu.Lock()
		a.forgedClaims = append(a.forgedClaims, v)
		a.mu.Unlock()
	}
	return c, ok
}

func (a *api) credentials(r *http.Request) (jwt.MapClaims, bool) {
	if a.cookie != "" {
		c, err := r.Cookie(a.cookie)
		if err != nil {
			return nil, false
		}
		return a.verify(c.Value)
	}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, false
	}
	return a.verify(tok)
}

func reply(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (a *api) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		c, ok := a.auth(r)
		if !ok {
			reply(w, http.StatusUnauthorized, map[string]string{"error": "authentication required"})
			return
		}
		reply(w, http.StatusOK, map[string]any{"id": c["sub"], "name": "alice"})
	})
	mux.HandleFunc("GET /orders", func(w http.ResponseWriter, r *http.Request) {
		c, ok := a.auth(r)
		switch {
		case ok:
			reply(w, http.StatusOK, map[string]any{"orders": []any{map[string]any{"id": 1, "owner": c["sub"]}}})
		case a.anonOrders:
			reply(w, http.StatusOK, map[string]any{"orders": []any{map[string]any{"id": 1, "owner": "1"}, map[string]any{"id": 2, "owner": "2"}}})
		default:
			reply(w, http.StatusUnauthorized, map[string]string{"error": "authentication required"})
		}
	})
	mux.HandleFunc("GET /products", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusOK, map[string]any{"products": []string{"pen"}})
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Username, Password string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			reply(w, http.StatusBadRequest, map[string]string{"error": "bad json"})
			return
		}
		a.mu.Lock()
		defer a.mu.Unlock()
		a.loginCount++
		if a.throttle > 0 && a.failures[body.Username] >= a.throttle {
			reply(w, http.StatusTooManyRequests, map[string]string{"error": "too many failed logins"})
			return
		}
		if a.failures == nil {
			a.failures = map[string]int{}
		}
		a.failures[body.Username]++
		reply(w, http.StatusUnauthorized, map[string]string{"error": "invalid username or password"})
	})
	return mux
}

// sign makes a token for the test identities.
func sign(t *testing.T, secret string, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString([]byte(secret))
	if err != nil {
		t.Fatalf("sign: %v", err)
	}
	return s
}

// goodClaims are what a well-behaved API puts in a token.
func goodClaims() jwt.MapClaims {
	return jwt.MapClaims{"sub": "1", "role": "user", "exp": time.Now().Add(15 * time.Minute).Unix()}
}

// bearer is an identity sending tok as a bearer token.
func bearer(name, tok string) scan.Identity {
	return scan.Identity{Name: name, Role: "user", Headers: http.Header{"Authorization": {"Bearer " + tok}}}
}

// secured marks an operation as requiring a bearer token.
func secured(op *scan.Operation) *scan.Operation {
	op.Security = []map[string][]string{{"bearer": {}}}
	return op
}

// ops is the test API's inventory: /me and /orders secured, /products
// explicitly public, /login a login.
func ops() []*scan.Operation {
	public := checktest.Op("GET", "/products")
	public.Security = []map[string][]string{}
	login := checktest.Op("POST", "/login")
	login.RequestBody = &scan.RequestBody{ContentType: "application/json", Schema: &scan.Schema{
		Type: "object",
		Properties: map[string]*scan.Schema{
			"username": {Type: "string", Example: "alice"},
			"password": {Type: "string"},
		},
	}}
	return []*scan.Operation{public, secured(checktest.Op("GET", "/orders")), secured(checktest.Op("GET", "/me")), login}
}
