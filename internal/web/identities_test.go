package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A merlon.yaml with a credential in every place one can sit: a global
// header, an identity header, a cookie and a login form.
const secretYAML = `headers:
  X-Tenant-Key: tenant-secret-1
identities:
  - name: alice
    role: user
    headers: {Authorization: "Bearer alice-secret-2"}
  - name: root
    role: admin
    cookies: {session: root-secret-3}
  - name: carol
    role: user
    login:
      method: POST
      path: /login
      form: {user: carol, password: carol-secret-4}
      token: {json: token}
`

var secrets = []string{"tenant-secret-1", "alice-secret-2", "root-secret-3", "carol-secret-4"}

// noSecret fails when body holds any credential of secretYAML.
func noSecret(t *testing.T, what, body string) {
	t.Helper()
	for _, s := range secrets {
		if strings.Contains(body, s) {
			t.Errorf("%s shows the credential %q", what, s)
		}
	}
}

// storedYAML returns the identities text the store holds for a target.
func storedYAML(t *testing.T, e *env, id int64) string {
	t.Helper()
	tg, err := e.st.GetTarget(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	var s string
	if len(tg.Identities) > 0 {
		if err := json.Unmarshal(tg.Identities, &s); err != nil {
			t.Fatalf("stored identities %s: %v", tg.Identities, err)
		}
	}
	return s
}

// TestIdentitiesAreWriteOnly checks that a target's credentials, once
// stored, come back from no API answer and no page, that both show which
// identities exist, and that edits keep the credentials unless replaced or
// removed.
func TestIdentitiesAreWriteOnly(t *testing.T) {
	e := newEnv(t, true)
	body, _ := json.Marshal(map[string]string{"name": "orders", "url": "http://127.0.0.1:9", "identities": secretYAML})
	rec := e.api("POST", "/api/targets", string(body))
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST /api/targets = %d %s", rec.Code, rec.Body.String())
	}
	noSecret(t, "POST /api/targets", rec.Body.String())
	var created targetJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil {
		t.Fatal(err)
	}
	want := identitiesInfo{Configured: true, Headers: []string{"X-Tenant-Key"}, Identities: []identityInfo{
		{Name: "alice", Role: "user"}, {Name: "root", Role: "admin"}, {Name: "carol", Role: "user", Login: true},
	}}
	if got, _ := json.Marshal(created.Identities); string(got) != mustJSON(t, want) {
		t.Errorf("POST /api/targets identities = %s, want %s", got, mustJSON(t, want))
	}
	id := itoa(created.ID)

	for _, path := range []string{"/api/targets/" + id, "/api/targets"} {
		rec := e.api("GET", path, "")
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s = %d", path, rec.Code)
		}
		noSecret(t, "GET "+path, rec.Body.String())
	}
	for _, path := range []string{"/targets/" + id, "/scans/new?target=" + id, "/targets"} {
		rec := e.page(path)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s = %d", path, rec.Code)
		}
		noSecret(t, "page "+path, rec.Body.String())
		if path != "/targets" {
			for _, w := range []string{"Credentials are set", "<td>alice</td><td>user</td>", "<td>root</td><td>admin</td>", "<code>X-Tenant-Key</code>"} {
				if !strings.Contains(rec.Body.String(), w) {
					t.Errorf("page %s lacks %q", path, w)
				}
			}
		}
	}

	// Edits that leave identities out keep them.
	rec = e.api("PUT", "/api/targets/"+id, `{"name":"orders v2"}`)
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"configured": true`) {
		t.Errorf("PUT without identities = %d %s, want 200 still configured", rec.Code, rec.Body.String())
	}
	noSecret(t, "PUT /api/targets", rec.Body.String())
	if got := storedYAML(t, e, created.ID); got != secretYAML {
		t.Errorf("after PUT without identities the store holds %q, want the original YAML", got)
	}
	if rec := e.post("/targets/"+id+"/settings", url.Values{"name": {"orders"}, "identities": {""}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("settings form = %d %s", rec.Code, rec.Body.String())
	}
	if got := storedYAML(t, e, created.ID); got != secretYAML {
		t.Errorf("after the settings form with empty identities the store holds %q, want the original YAML", got)
	}

	// New text replaces them; clearing removes them; both at once is refused.
	replaced := "identities:\n  - name: dave\n    role: user\n    headers: {Authorization: Bearer dave-secret-5}\n"
	if rec := e.post("/targets/"+id+"/settings", url.Values{"identities": {replaced}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("settings form with identities = %d %s", rec.Code, rec.Body.String())
	}
	if got := storedYAML(t, e, created.ID); got != replaced {
		t.Errorf("after replacing, the store holds %q, want %q", got, replaced)
	}
	if body := e.page("/targets/" + id).Body.String(); strings.Contains(body, "dave-secret-5") || !strings.Contains(body, "<td>dave</td>") {
		t.Errorf("target page after replacing: want dave listed without his credential")
	}
	both, _ := json.Marshal(map[string]any{"identities": replaced, "clearIdentities": true})
	if rec := e.api("PUT", "/api/targets/"+id, string(both)); rec.Code != http.StatusBadRequest {
		t.Errorf("PUT with identities and clearIdentities = %d, want 400", rec.Code)
	}
	if rec := e.post("/targets/"+id+"/settings", url.Values{"clear_identities": {"on"}}); rec.Code != http.StatusSeeOther {
		t.Fatalf("settings form clearing identities = %d %s", rec.Code, rec.Body.String())
	}
	if got := storedYAML(t, e, created.ID); got != "" {
		t.Errorf("after clearing, the store holds %q, want nothing", got)
	}
	rec = e.api("GET", "/api/targets/"+id, "")
	if !strings.Contains(rec.Body.String(), `"configured": false`) {
		t.Errorf("GET after clearing = %s, want configured false", rec.Body.String())
	}
	if rec := e.api("PUT", "/api/targets/"+id, `{"clearIdentities":true,"identities":""}`); rec.Code != http.StatusOK {
		t.Errorf("PUT clearIdentities on a target without any = %d %s, want 200", rec.Code, rec.Body.String())
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestStartScanFormKeepsTargetSettings starts scans from the generic form
// with the URL of a known target: blank fields must keep its spec and
// identities, filled ones replace them.
func TestStartScanFormKeepsTargetSettings(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	const base = "http://127.0.0.1:9"
	body, _ := json.Marshal(map[string]string{"url": base, "spec": base + "/openapi.json", "identities": secretYAML})
	if rec := e.api("POST", "/api/targets", string(body)); rec.Code != http.StatusCreated {
		t.Fatalf("POST /api/targets = %d %s", rec.Code, rec.Body.String())
	}
	tests := []struct {
		name       string
		form       url.Values
		spec, yaml string
	}{
		{"blank fields keep", url.Values{"url": {base}, "spec": {""}, "identities": {""}}, base + "/openapi.json", secretYAML},
		{"URL spelled differently", url.Values{"url": {"HTTP://127.0.0.1:9/"}, "spec": {""}, "identities": {""}}, base + "/openapi.json", secretYAML},
		{"known target by id", url.Values{"target_id": {"1"}, "spec": {""}, "identities": {""}}, base + "/openapi.json", secretYAML},
		{"a new spec replaces", url.Values{"url": {base}, "spec": {base + "/v2.json"}}, base + "/v2.json", secretYAML},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := e.post("/scans", tt.form)
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("POST /scans = %d %s, want 303", rec.Code, rec.Body.String())
			}
			tg, err := e.st.GetTargetByURL(ctx, base)
			if err != nil {
				t.Fatal(err)
			}
			if tg.Spec != tt.spec {
				t.Errorf("spec after POST /scans = %q, want %q", tg.Spec, tt.spec)
			}
			if got := storedYAML(t, e, tg.ID); got != tt.yaml {
				t.Errorf("identities after POST /scans = %q, want %q", got, tt.yaml)
			}
			rec = e.api("GET", "/api/targets/"+itoa(tg.ID), "")
			if !strings.Contains(rec.Body.String(), `"spec": "`+tt.spec+`"`) {
				t.Errorf("GET /api/targets/%d = %s, want spec %q", tg.ID, rec.Body.String(), tt.spec)
			}
			if ts, err := e.st.ListTargets(ctx); err != nil || len(ts) != 1 {
				t.Errorf("targets after POST /scans = %d (%v), want the one", len(ts), err)
			}
		})
	}
}
