package authn_test

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/merlonsec/merlon/internal/checks/authn"
	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/scan"
)

func TestUnauthenticatedAccess(t *testing.T) {
	tok := sign(t, strongSecret, goodClaims())
	tests := []struct {
		name     string
		api      *api
		ids      []scan.Identity
		wantConf scan.Confidence // -1: no finding
	}{
		{"anonymous list, with identity", &api{secret: strongSecret, anonOrders: true}, []scan.Identity{bearer("alice", tok)}, scan.Likely},
		{"anonymous list, no identity", &api{secret: strongSecret, anonOrders: true}, nil, scan.Likely},
		{"everything secured", &api{secret: strongSecret}, []scan.Identity{bearer("alice", tok)}, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := checktest.Run(t, authn.UnauthenticatedAccess{}, tt.api.Handler(),
				checktest.WithOperations(ops()...), checktest.WithIdentities(tt.ids...))
			if tt.wantConf < 0 {
				checktest.None(t, fs)
				return
			}
			checktest.Only(t, fs, "authn.unauthenticated-access")
			if len(fs) != 1 || fs[0].Operation != "GET /orders" || fs[0].Confidence != tt.wantConf {
				t.Fatalf("findings = %v, want one %v on GET /orders", describe(fs), tt.wantConf)
			}
			if id := fs[0].Evidence[0].Request.Identity; id != scan.Anonymous {
				t.Errorf("first evidence identity = %q, want %q", id, scan.Anonymous)
			}
		})
	}
}

// TestUnauthenticatedAccessSameBody: an operation that answers everybody
// the same is confirmed, and public operations (security: [] or none
// declared) are never reported, even when they answer 2xx to anyone.
func TestUnauthenticatedAccessSameBody(t *testing.T) {
	tok := sign(t, strongSecret, goodClaims())
	mux := http.NewServeMux()
	mux.HandleFunc("GET /reports", func(w http.ResponseWriter, r *http.Request) { reply(w, 200, map[string]int{"total": 3}) })
	mux.HandleFunc("GET /open", func(w http.ResponseWriter, r *http.Request) { reply(w, 200, map[string]int{"n": 1}) })
	mux.HandleFunc("GET /optional", func(w http.ResponseWriter, r *http.Request) { reply(w, 200, map[string]int{"n": 2}) })
	open := checktest.Op("GET", "/open")
	optional := checktest.Op("GET", "/optional")
	optional.Security = []map[string][]string{{"bearer": {}}, {}}
	fs := checktest.Run(t, authn.UnauthenticatedAccess{}, mux,
		checktest.WithOperations(secured(checktest.Op("GET", "/reports")), open, optional),
		checktest.WithIdentities(bearer("alice", tok)))
	checktest.Only(t, fs, "authn.unauthenticated-access")
	if len(fs) != 1 || fs[0].Operation != "GET /reports" || fs[0].Confidence != scan.Confirmed {
		t.Fatalf("findings = %v, want one confirmed on GET /reports", describe(fs))
	}
}

func TestJWTAlgNone(t *testing.T) {
	tok := sign(t, strongSecret, goodClaims())
	t.Run("vulnerable", func(t *testing.T) {
		fs := checktest.Run(t, authn.JWTAlgNone{}, (&api{secret: strongSecret, algNone: true}).Handler(),
			checktest.WithOperations(ops()...), checktest.WithIdentities(bearer("alice", tok)))
		f := checktest.At(t, checktest.Only(t, fs, "authn.jwt-alg-none"), "Authorization")
		if f.Confidence != scan.Confirmed || f.Severity != scan.Critical {
			t.Errorf("finding = %s, want critical/confirmed", checktest.Describe(f))
		}
		if len(f.Evidence) != 3 || f.Evidence[1].Response.Status != 401 || f.Evidence[2].Response.Status != 200 {
			t.Errorf("evidence statuses wrong: %v", statuses(f))
		}
	})
	t.Run("clean", func(t *testing.T) {
		checktest.None(t, checktest.Run(t, authn.JWTAlgNone{}, (&api{secret: strongSecret}).Handler(),
			checktest.WithOperations(ops()...), checktest.WithIdentities(bearer("alice", tok))))
	})
	t.Run("no identity sends nothing", func(t *testing.T) {
		var n atomic.Int32
		checktest.None(t, checktest.Run(t, authn.JWTAlgNone{}, (&api{secret: strongSecret, algNone: true}).Handler(),
			checktest.WithOperations(ops()...), checktest.WithObserver(func(*scan.Exchange) { n.Add(1) })))
		if n.Load() != 0 {
			t.Errorf("requests = %d, want 0", n.Load())
		}
	})
	t.Run("no probe operation", func(t *testing.T) {
		// /me is the only operation and it answers without a token too:
		// nothing shows the token is checked, so nothing is reported.
		mux := http.NewServeMux()
		mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) { reply(w, 200, map[string]string{"x": "y"}) })
		checktest.None(t, checktest.Run(t, authn.JWTAlgNone{}, mux,
			checktest.WithOperations(checktest.Op("GET", "/me")), checktest.WithIdentities(bearer("alice", tok))))
	})
}

func TestJWTAlgNoneCookie(t *testing.T) {
	tok := sign(t, strongSecret, goodClaims())
	id := scan.Identity{Name: "alice", Headers: http.Header{"Cookie": {"theme=dark; session=" + tok}}}
	fs := checktest.Run(t, authn.JWTAlgNone{}, (&api{secret: strongSecret, algNone: true, cookie: "session"}).Handler(),
		checktest.WithOperations(ops()...), checktest.WithIdentities(id))
	checktest.At(t, checktest.Only(t, fs, "authn.jwt-alg-none"), "Cookie: session")
}

func TestJWTSignatureNotVerified(t *testing.T) {
	tok := sign(t, strongSecret, goodClaims())
	t.Run("vulnerable", func(t *testing.T) {
		a := &api{secret: strongSecret, noVerify: true}
		fs := checktest.Run(t, authn.JWTSignatureNotVerified{}, a.Handler(),
			checktest.WithOperations(ops()...), checktest.WithIdentities(bearer("alice", tok)))
		f := checktest.At(t, checktest.Only(t, fs, "authn.jwt-signature-not-verified"), "Authorization")
		if f.Confidence != scan.Confirmed {
			t.Errorf("confidence = %v, want confirmed", f.Confidence)
		}
		if len(a.forgedClaims) != 1 {
			t.Errorf("API saw %d tampered payloads, want 1", len(a.forgedClaims))
		}
	})
	for name, a := range map[string]*api{
		"clean":                           {secret: strongSecret},
		"alg none accepted but HMAC kept": {secret: strongSecret, algNone: true},
	} {
		t.Run(name, func(t *testing.T) {
			checktest.None(t, checktest.Run(t, authn.JWTSignatureNotVerified{}, a.Handler(),
				checktest.WithOperations(ops()...), checktest.WithIdentities(bearer("alice", tok))))
		})
	}
}

func TestJWTWeakSecret(t *testing.T) {
	tests := []struct {
		name     string
		secret   string
		wordlist []string
		want     bool
	}{
		{"built-in word", "secret", nil, true},
		{"placeholder", "your-256-bit-secret", nil, true},
		{"user wordlist", "hunter2-company", []string{"nope", "hunter2-company"}, true},
		{"strong secret", strongSecret, []string{"nope"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := sign(t, tt.secret, goodClaims())
			a := &api{secret: tt.secret}
			fs := checktest.Run(t, authn.JWTWeakSecret{Wordlist: tt.wordlist}, a.Handler(),
				checktest.WithOperations(ops()...), checktest.WithIdentities(bearer("alice", tok)))
			if !tt.want {
				checktest.None(t, fs)
				return
			}
			f := checktest.At(t, checktest.Only(t, fs, "authn.jwt-weak-secret"), "Authorization")
			if f.Confidence != scan.Confirmed {
				t.Errorf("confidence = %v, want confirmed", f.Confidence)
			}
			if m := f.Evidence[2].Matched; strings.Contains(m, tt.secret) {
				t.Errorf("evidence shows the secret: %q", m)
			}
			if len(a.forgedClaims) != 1 {
				t.Errorf("API saw %d re-signed tokens, want 1", len(a.forgedClaims))
			}
		})
	}
}

func TestJWTExpiredAccepted(t *testing.T) {
	noExp := jwt.MapClaims{"sub": "1"}
	expired := jwt.MapClaims{"sub": "1", "exp": time.Now().Add(-2 * time.Hour).Unix()}
	tests := []struct {
		name   string
		secret string
		claims jwt.MapClaims
		ignore bool // the API ignores exp
		want   bool
	}{
		{"weak secret, expiry ignored", "secret", noExp, true, true},
		{"genuine token expired and accepted", strongSecret, expired, true, true},
		{"weak secret, expiry enforced", "secret", goodClaims(), false, false},
		{"strong secret: nothing to sign with", strongSecret, noExp, true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := sign(t, tt.secret, tt.claims)
			a := &api{secret: tt.secret, ignoreExp: tt.ignore}
			fs := checktest.Run(t, authn.JWTExpiredAccepted{}, a.Handler(),
				checktest.WithOperations(ops()...), checktest.WithIdentities(bearer("alice", tok)))
			if !tt.want {
				checktest.None(t, fs)
				return
			}
			checktest.At(t, checktest.Only(t, fs, "authn.jwt-expired-accepted"), "Authorization")
		})
	}
}

func TestJWTNoExpiry(t *testing.T) {
	tests := []struct {
		name   string
		claims jwt.MapClaims
		want   bool
	}{
		{"no exp", jwt.MapClaims{"sub": "1"}, true},
		{"exp", goodClaims(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := sign(t, strongSecret, tt.claims)
			fs := checktest.Run(t, authn.JWTNoExpiry{}, (&api{secret: strongSecret, ignoreExp: true}).Handler(),
				checktest.WithOperations(ops()...),
				checktest.WithIdentities(bearer("alice", tok), bearer("bob", sign(t, strongSecret, withSub(tt.claims, "2")))))
			if !tt.want {
				checktest.None(t, fs)
				return
			}
			f := checktest.At(t, checktest.Only(t, fs, "authn.jwt-no-expiry"), "Authorization")
			if len(fs) != 1 || !strings.Contains(f.Description, "alice, bob") {
				t.Errorf("findings = %v, want one naming alice, bob", describe(fs))
			}
			if id := f.Evidence[0].Request.Identity; id != "alice" {
				t.Errorf("evidence identity = %q, want alice", id)
			}
		})
	}
}

func TestJWTSensitiveClaims(t *testing.T) {
	tests := []struct {
		name    string
		claims  jwt.MapClaims
		sev     scan.Severity
		names   []string // claim names the finding must list
		noMatch bool
	}{
		{"hash and ssn", jwt.MapClaims{"sub": "1", "password_hash": "$2b$12$abcdefghijklmnopqrstuv", "ssn": "078-05-1120", "email": "a@example.com"},
			scan.Medium, []string{"password_hash", "ssn", "email"}, false},
		{"card in nested claim", jwt.MapClaims{"sub": "1", "billing": map[string]any{"number": "4111 1111 1111 1111"}}, scan.Medium, []string{"billing.number"}, false},
		{"email only", jwt.MapClaims{"sub": "alice@example.com"}, scan.Low, []string{"sub"}, false},
		{"client secret", jwt.MapClaims{"sub": "1", "client_secret": "abc123def456"}, scan.Medium, []string{"client_secret"}, false},
		{"minimal", jwt.MapClaims{"sub": "1", "role": "user", "exp": 1900000000, "iat": 1700000000, "pwd_changed": false, "company": "acme"}, 0, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := sign(t, strongSecret, tt.claims)
			fs := checktest.Run(t, authn.JWTSensitiveClaims{}, (&api{secret: strongSecret, ignoreExp: true}).Handler(),
				checktest.WithOperations(ops()...), checktest.WithIdentities(bearer("alice", tok)))
			if tt.noMatch {
				checktest.None(t, fs)
				return
			}
			f := checktest.At(t, checktest.Only(t, fs, "authn.jwt-sensitive-claims"), "Authorization")
			if f.Severity != tt.sev {
				t.Errorf("severity = %v, want %v", f.Severity, tt.sev)
			}
			for _, n := range tt.names {
				if !strings.Contains(f.Evidence[0].Matched, n) {
					t.Errorf("matched %q lacks %q", f.Evidence[0].Matched, n)
				}
			}
			for _, v := range tt.claims {
				if s, ok := v.(string); ok && len(s) > 3 && (strings.Contains(f.Description, s) || strings.Contains(f.Evidence[0].Matched, s)) {
					t.Errorf("finding shows the claim value %q", s)
				}
			}
		})
	}
}

func TestLoginBruteForce(t *testing.T) {
	tests := []struct {
		name     string
		throttle int
		want     bool
	}{
		{"no throttling", 0, true},
		{"throttled after 5", 5, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &api{secret: strongSecret, throttle: tt.throttle}
			fs := checktest.Run(t, authn.LoginBruteForce{}, a.Handler(),
				checktest.WithOperations(ops()...), checktest.WithActive())
			for name := range a.failures {
				if !strings.HasPrefix(name, "merlon-") {
					t.Errorf("login attempted for %q, want only made-up merlon- usernames", name)
				}
			}
			if len(a.failures) != 1 {
				t.Errorf("usernames tried = %d, want 1", len(a.failures))
			}
			if !tt.want {
				checktest.None(t, fs)
				if a.loginCount > tt.throttle+1+2 { // the engine retries a 429 twice
					t.Errorf("logins = %d, want the check to stop at the first 429", a.loginCount)
				}
				return
			}
			f := checktest.Only(t, fs, "authn.login-brute-force")[0]
			if f.Operation != "POST /login" || a.loginCount != 10 {
				t.Errorf("finding on %q after %d logins, want POST /login after 10", f.Operation, a.loginCount)
			}
		})
	}
}

func TestLoginBruteForceIgnoresNonLogins(t *testing.T) {
	// A login-looking path that answers 404 (or a validation error) to
	// every attempt is not a login the check could judge.
	mux := http.NewServeMux()
	mux.HandleFunc("POST /auth/login", func(w http.ResponseWriter, r *http.Request) {
		reply(w, http.StatusUnprocessableEntity, map[string]string{"error": "field otp required"})
	})
	op := checktest.Op("POST", "/auth/login")
	checktest.None(t, checktest.Run(t, authn.LoginBruteForce{}, mux, checktest.WithOperations(op), checktest.WithActive()))
}

func TestReadWordlist(t *testing.T) {
	got, err := authn.ReadWordlist(strings.NewReader("one\r\n\n two \nthree"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"one", " two ", "three"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("ReadWordlist = %q, want %q", got, want)
	}
}

func TestWithWordlist(t *testing.T) {
	cs := authn.WithWordlist([]scan.Check{authn.JWTWeakSecret{}, authn.JWTExpiredAccepted{}, authn.JWTNoExpiry{}}, []string{"w"})
	if ws, ok := cs[0].(authn.JWTWeakSecret); !ok || len(ws.Wordlist) != 1 {
		t.Errorf("WithWordlist: weak-secret check = %#v, want the wordlist set", cs[0])
	}
	if ex, ok := cs[1].(authn.JWTExpiredAccepted); !ok || len(ex.Wordlist) != 1 {
		t.Errorf("WithWordlist: expired check = %#v, want the wordlist set", cs[1])
	}
	if _, ok := cs[2].(authn.JWTNoExpiry); !ok {
		t.Errorf("WithWordlist changed an unrelated check: %#v", cs[2])
	}
}

func describe(fs []scan.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, checktest.Describe(f))
	}
	return out
}

func statuses(f scan.Finding) []int {
	var out []int
	for _, e := range f.Evidence {
		out = append(out, e.Response.Status)
	}
	return out
}

// withSub returns a copy of c for another subject.
func withSub(c jwt.MapClaims, sub string) jwt.MapClaims {
	out := jwt.MapClaims{}
	for k, v := range c {
		out[k] = v
	}
	out["sub"] = sub
	return out
}

// TestGlobalHeaderToken: a token passed with -H rather than through an
// identity is still forged and tested, and named as the --header token in
// evidence; an API that verifies it draws no finding.
func TestGlobalHeaderToken(t *testing.T) {
	tok := sign(t, strongSecret, goodClaims())
	global := checktest.WithHeader(http.Header{"Authorization": {"Bearer " + tok}})
	tests := []struct {
		name  string
		check scan.Check
		vuln  *api
	}{
		{"alg none", authn.JWTAlgNone{}, &api{secret: strongSecret, algNone: true}},
		{"signature not verified", authn.JWTSignatureNotVerified{}, &api{secret: strongSecret, noVerify: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := checktest.Run(t, tt.check, tt.vuln.Handler(), checktest.WithOperations(ops()...), global)
			f := checktest.At(t, checktest.Only(t, fs, tt.check.Meta().ID), "Authorization")
			if f.Confidence != scan.Confirmed {
				t.Errorf("confidence = %v, want confirmed", f.Confidence)
			}
			if note := f.Evidence[0].Note; !strings.Contains(note, "--header") {
				t.Errorf("first evidence note = %q, want it to name the --header token", note)
			}
			checktest.None(t, checktest.Run(t, tt.check, (&api{secret: strongSecret}).Handler(),
				checktest.WithOperations(ops()...), global))
		})
	}
	t.Run("unauthenticated access compares with the header's answer", func(t *testing.T) {
		fs := checktest.Run(t, authn.UnauthenticatedAccess{}, (&api{secret: strongSecret, anonOrders: true}).Handler(),
			checktest.WithOperations(ops()...), global)
		f := checktest.At(t, checktest.Only(t, fs, "authn.unauthenticated-access"), "")
		if len(f.Evidence) != 2 || !strings.Contains(f.Evidence[1].Note, "--header credentials") {
			t.Fatalf("evidence = %v, want the anonymous exchange then one with the --header credentials", statuses(f))
		}
		if h := f.Evidence[0].Request.Header.Get("Authorization"); h != "" {
			t.Errorf("anonymous request carried Authorization %q", h)
		}
		if h := f.Evidence[1].Request.Header.Get("Authorization"); h == "" {
			t.Errorf("authenticated request carried no Authorization")
		}
	})
}
