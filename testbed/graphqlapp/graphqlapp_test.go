package graphqlapp

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func post(t *testing.T, url, body string) string {
	t.Helper()
	resp, err := http.Post(url+"/graphql", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return b.String()
}

func get(t *testing.T, base, query string) string {
	t.Helper()
	resp, err := http.Get(base + "/graphql?query=" + url.QueryEscape(query))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return b.String()
}

func TestTwins(t *testing.T) {
	deep := "{users" + strings.Repeat("{friends", 14) + "{id}" + strings.Repeat("}", 15)
	aliases := "{"
	for i := range 50 {
		aliases += " a" + string(rune('0'+i%10)) + string(rune('a'+i/10)) + ":__typename"
	}
	aliases += "}"
	tests := []struct {
		name, method, body string
		vuln, clean        string // substrings of each twin's answer
	}{
		{"typename", "GET", "{__typename}", `"__typename":"Query"`, `"__typename":"Query"`},
		{"introspection", "GET", "{__schema{types{name}}}", `"name":"CreateUserInput"`, "introspection is not allowed"},
		{"suggestion", "GET", "{usr{id}}", `Did you mean \"user\" or \"users\"?`, `Cannot query field \"usr\" on type \"Query\"."}`},
		{"type suggestion", "GET", "{... on Quer{__typename}}", `Did you mean \"Query\"`, `Unknown type \"Quer\"."}`},
		{"depth", "GET", deep, `"friends":[{"id":"1"}]`, "exceeds the maximum of 10"},
		{"aliases", "GET", aliases, `"a9e":"Query"`, "at most 10 allowed"},
		{"batch", "POST", "[" + strings.Repeat(`{"query":"{__typename}"},`, 49) + `{"query":"{__typename}"}]`, `"__typename":"Query"`, "at most 5 allowed"},
		{"mutation over GET", "GET", `mutation{deleteUser(id:"2")}`, "POST request", "POST request"},
		{"create", "POST", `{"query":"mutation{createUser(input:{name:\"eve\", role:\"admin\"}){id role}}"}`, `"role":"admin"`, `"role":"user"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for twin, want := range map[string]string{"vulnerable": tt.vuln, "clean": tt.clean} {
				opts := Vulnerable()
				if twin == "clean" {
					opts = Clean()
				}
				srv := httptest.NewServer(New(opts).Handler())
				defer srv.Close()
				var got string
				if tt.method == "GET" {
					got = get(t, srv.URL, tt.body)
				} else {
					got = post(t, srv.URL, tt.body)
				}
				if !strings.Contains(got, want) {
					t.Errorf("%s twin: %s %s = %s, want it to contain %s", twin, tt.method, tt.body, got, want)
				}
				if !json.Valid([]byte(got)) {
					t.Errorf("%s twin: answer is not JSON: %s", twin, got)
				}
			}
		})
	}
}

// postAs sends a GraphQL query over POST with token as a bearer token
// ("" for none) and returns the answer.
func postAs(t *testing.T, base, token, query string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"query": query})
	req, err := http.NewRequest(http.MethodPost, base+"/graphql", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return b.String()
}

// TestRoleChecks: the administrative fields answer a plain user on the
// vulnerable twin and only an admin on the clean one.
func TestRoleChecks(t *testing.T) {
	tests := []struct {
		name, token, query string
		vuln, clean        string // substrings of each twin's answer
	}{
		{"stats as admin", AdminToken, "{adminStats{users admins}}", `"adminStats":{"admins":1,"users":2}`, `"adminStats":{"admins":1,"users":2}`},
		{"stats as user", UserToken, "{adminStats{users admins}}", `"adminStats":{"admins":1,"users":2}`, "forbidden: adminStats needs the admin role"},
		{"stats anonymous", "", "{adminStats{users admins}}", "unauthorized", "unauthorized"},
		{"me as user", UserToken, "{me{name}}", `"name":"bob"`, `"name":"bob"`},
		{"me as admin", AdminToken, "{me{name}}", `"name":"alice"`, `"name":"alice"`},
		{"set role as user", UserToken, `mutation{setRole(id:"2", role:"admin"){role}}`, `"role":"admin"`, "forbidden: setRole needs the admin role"},
		{"set role as admin", AdminToken, `mutation{setRole(id:"2", role:"staff"){role}}`, `"role":"staff"`, `"role":"staff"`},
		{"delete as user", UserToken, `mutation{deleteUser(id:"1")}`, `"deleteUser":true`, "forbidden: deleteUser needs the admin role"},
		{"delete anonymous", "", `mutation{deleteUser(id:"1")}`, `"deleteUser":true`, "unauthorized: deleteUser"},
		{"delete as admin", AdminToken, `mutation{deleteUser(id:"2")}`, `"deleteUser":true`, `"deleteUser":true`},
		{"wrong token is anonymous", "nope", "{adminStats{users}}", "unauthorized", "unauthorized"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for twin, want := range map[string]string{"vulnerable": tt.vuln, "clean": tt.clean} {
				opts := Vulnerable()
				if twin == "clean" {
					opts = Clean()
				}
				srv := httptest.NewServer(New(opts).Handler())
				defer srv.Close()
				if got := postAs(t, srv.URL, tt.token, tt.query); !strings.Contains(got, want) {
					t.Errorf("%s twin: POST %s as %q = %s, want it to contain %s", twin, tt.query, tt.token, got, want)
				}
			}
		})
	}
}
