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
