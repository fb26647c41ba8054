package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := vars[k]
		return v, ok
	}
}

const full = `target: http://127.0.0.1:8080
spec: openapi.yaml
profile: quick
headers:
  X-Team: blue
identities:
  - name: alice
    role: user
    headers:
      Authorization: "Bearer ${ALICE_TOKEN}"
    cookies:
      theme: dark
  - name: admin
    role: admin
    login:
      method: POST
      path: /login
      body:
        username: root
        password: ${ADMIN_PASSWORD}
        nested: [{pin: "${PIN}"}]
      token:
        json: $.access_token
    check:
      method: GET
      path: /admin/me
`

func TestParse(t *testing.T) {
	f, err := Parse([]byte(full), env(map[string]string{"ALICE_TOKEN": "tok-a", "ADMIN_PASSWORD": "pw-b", "PIN": "1234"}))
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	if f.Target != "http://127.0.0.1:8080" || f.Profile != "quick" || f.Headers["X-Team"] != "blue" {
		t.Errorf("Parse top level = %+v", f)
	}
	if got := f.Identities[0].Headers["Authorization"]; got != "Bearer tok-a" {
		t.Errorf("alice Authorization = %q, want %q", got, "Bearer tok-a")
	}
	body, ok := f.Identities[1].Login.Body.(map[string]any)
	if !ok || body["password"] != "pw-b" {
		t.Fatalf("admin login body = %#v, want password pw-b", f.Identities[1].Login.Body)
	}
	if pin := body["nested"].([]any)[0].(map[string]any)["pin"]; pin != "1234" {
		t.Errorf("nested pin = %v, want 1234", pin)
	}
	if f.Identities[1].Check.Path != "/admin/me" || f.Identities[1].Login.Token.JSON != "$.access_token" {
		t.Errorf("admin = %+v", f.Identities[1])
	}
}

func TestParseErrors(t *testing.T) {
	vars := env(map[string]string{"ALICE_TOKEN": "x", "ADMIN_PASSWORD": "y", "PIN": "z"})
	tests := []struct {
		name string
		yaml string
		want string
	}{
		{name: "unset variable", yaml: "headers:\n  Authorization: Bearer ${NOPE_TOKEN}\n", want: "headers.Authorization: ${NOPE_TOKEN}: environment variable not set"},
		{name: "unset variable in body", yaml: strings.Replace(full, "${PIN}", "${MISSING_PIN}", 1), want: "${MISSING_PIN}"},
		{name: "unknown top key", yaml: "target: x\ntargte: y\n", want: `line 2: unknown key "targte"`},
		{name: "unknown nested key", yaml: "identities:\n  - name: a\n    headers: {A: b}\n    rol: user\n", want: `line 4: unknown key "rol"`},
		{name: "bad yaml", yaml: "identities: [\n", want: "line"},
		{name: "wrong type", yaml: "identities: {name: a}\n", want: "line 1"},
		{name: "anonymous", yaml: "identities:\n  - name: anonymous\n    headers: {A: b}\n", want: "implicit identity"},
		{name: "duplicate", yaml: "identities:\n  - name: a\n    headers: {A: b}\n  - name: a\n    headers: {A: c}\n", want: "declared twice"},
		{name: "no credentials", yaml: "identities:\n  - name: a\n", want: "no headers, cookies or login"},
		{name: "login without token", yaml: "identities:\n  - name: a\n    login: {path: /login}\n", want: "token.json or cookie"},
		{name: "login without path", yaml: "identities:\n  - name: a\n    login: {cookie: sid}\n", want: "path is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.yaml), vars)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Parse error = %v, want one containing %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Parse error %q spans lines, want one line", err)
			}
		})
	}
	_, err := Parse([]byte("headers:\n  A: ${NOPE}\n"), vars)
	if !errors.Is(err, ErrUnsetVariable) {
		t.Errorf("Parse error = %v, want ErrUnsetVariable", err)
	}
}

func TestLoad(t *testing.T) {
	p := filepath.Join(t.TempDir(), "merlon.yaml")
	if err := os.WriteFile(p, []byte("target: http://127.0.0.1:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := Load(p, env(nil))
	if err != nil || f.Target != "http://127.0.0.1:1" {
		t.Errorf("Load(%s) = %+v, %v", p, f, err)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml"), env(nil)); err == nil {
		t.Errorf("Load(missing) = nil error")
	}
}
