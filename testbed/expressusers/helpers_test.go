package expressusers_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"hash"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/testbed/expressusers"
)

// reply is one answer from the app.
type reply struct {
	status int
	header http.Header
	raw    []byte
}

// json decodes the body as a JSON object, failing t when it is not one.
func (r reply) json(t *testing.T) map[string]any {
	t.Helper()
	var out map[string]any
	if err := json.Unmarshal(r.raw, &out); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.raw, err)
	}
	return out
}

// call sends method path with body (none when nil; a string is sent as is,
// anything else as JSON) and, unless token is empty, a bearer token.
func call(t *testing.T, app *expressusers.App, method, path string, body any, token string) reply {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("encode %v: %v", body, err)
		}
		r = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, app.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return reply{status: resp.StatusCode, header: resp.Header, raw: raw}
}

// mustCall is call that fails t unless the status is want.
func mustCall(t *testing.T, app *expressusers.App, want int, method, path string, body any, token string) reply {
	t.Helper()
	got := call(t, app, method, path, body, token)
	if got.status != want {
		t.Fatalf("%s %s = %d %s, want %d", method, path, got.status, got.raw, want)
	}
	return got
}

var b64 = base64.RawURLEncoding

// forge builds a JWT with the given header alg and claims, signed with
// secret for HS256/HS384/HS512 and unsigned (empty signature) for "none".
func forge(t *testing.T, alg string, claims map[string]any, secret string) string {
	t.Helper()
	head, err := json.Marshal(map[string]string{"alg": alg, "typ": "JWT"})
	if err != nil {
		t.Fatal(err)
	}
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	signing := b64.EncodeToString(head) + "." + b64.EncodeToString(body)
	var h func() hash.Hash
	switch alg {
	case "HS256":
		h = sha256.New
	case "HS384":
		h = sha512.New384
	case "HS512":
		h = sha512.New
	default:
		return signing + "."
	}
	mac := hmac.New(h, []byte(secret))
	mac.Write([]byte(signing))
	return signing + "." + b64.EncodeToString(mac.Sum(nil))
}

// decode returns a JWT's header and claims without checking anything.
func decode(t *testing.T, token string) (header, claims map[string]any) {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q has %d parts, want 3", token, len(parts))
	}
	for i, dst := range []*map[string]any{&header, &claims} {
		raw, err := b64.DecodeString(parts[i])
		if err != nil {
			t.Fatalf("token part %d: %v", i, err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatalf("token part %d %s: %v", i, raw, err)
		}
	}
	return header, claims
}

// signedWith says whether an HS256 token's signature is right for secret.
func signedWith(token, secret string) bool {
	i := strings.LastIndex(token, ".")
	if i < 0 {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(token[:i]))
	sig, err := b64.DecodeString(token[i+1:])
	return err == nil && hmac.Equal(sig, mac.Sum(nil))
}

// tamper replaces a token's claims and keeps its old signature.
func tamper(t *testing.T, token string, claims map[string]any) string {
	t.Helper()
	parts := strings.Split(token, ".")
	body, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	return parts[0] + "." + b64.EncodeToString(body) + "." + parts[2]
}

// login signs in a seeded user by name.
func login(t *testing.T, app *expressusers.App, name string) string {
	t.Helper()
	for _, u := range expressusers.Users() {
		if u.Name == name {
			return app.Login(t, u.Name, u.Password)
		}
	}
	t.Fatalf("no seeded user %q", name)
	return ""
}

// field walks a path of object keys through v.
func field(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}
