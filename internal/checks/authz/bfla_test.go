package authz_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/authz"
	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/scan"
)

// adminAPI has one admin function missing from the spec, GET
// /admin/config, and an account list; mode picks how they behave.
//
//   - "vulnerable": /admin/config and /accounts answer anybody;
//   - "fixed": anonymous 401, users 403, admins 200;
//   - "soft404": every unknown path, /admin/config too, answers 200 with
//     the same JSON page, and /accounts is fixed;
//   - "login page": /admin/config answers an HTML login form to anybody.
func adminAPI(mode string) http.Handler {
	mux := http.NewServeMux()
	guard := func(w http.ResponseWriter, r *http.Request) bool {
		if mode == "vulnerable" {
			return true
		}
		switch u := r.Header.Get("X-User"); {
		case u == "":
			reply(w, 401, map[string]string{"error": "login"})
		case roles[u] != "admin":
			reply(w, 403, map[string]string{"error": "admins only"})
		default:
			return true
		}
		return false
	}
	mux.HandleFunc("GET /admin/config", func(w http.ResponseWriter, r *http.Request) {
		if mode == "soft404" {
			reply(w, 200, map[string]any{"page": "home", "links": []string{"/"}})
			return
		}
		if mode == "login page" {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, `<html><form action="/admin/login"><input name="password"></form></html>`)
			return
		}
		if guard(w, r) {
			reply(w, 200, map[string]any{"debug": true, "signup_open": false, "smtp_host": "mail.internal"})
		}
	})
	mux.HandleFunc("GET /accounts", func(w http.ResponseWriter, r *http.Request) {
		if guard(w, r) {
			reply(w, 200, []any{map[string]any{"id": 1, "name": "alice", "role": "user"}, map[string]any{"id": 3, "name": "root", "role": "admin"}})
		}
	})
	// A staff directory whose "role" is a job title: open to everybody
	// in every mode, and no privilege.
	mux.HandleFunc("GET /team", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, []any{map[string]any{"id": 1, "name": "Ann", "role": "Engineer"}})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if mode == "soft404" {
			reply(w, 200, map[string]any{"page": "home", "links": []string{"/"}})
			return
		}
		reply(w, 404, map[string]string{"error": "not found"})
	})
	return mux
}

// adminOps is adminAPI's spec: /admin/config is left out on purpose.
func adminOps() []*scan.Operation {
	accounts := checktest.Op("GET", "/accounts")
	accounts.Responses = map[string]*scan.Response{"200": {ContentType: "application/json", Schema: &scan.Schema{Type: "array",
		Items: &scan.Schema{Type: "object", Properties: map[string]*scan.Schema{
			"id": {Type: "integer"}, "name": str(), "role": {Type: "string", Enum: []any{"user", "admin"}}}}}}}
	team := checktest.Op("GET", "/team")
	team.Responses = map[string]*scan.Response{"200": {ContentType: "application/json", Schema: &scan.Schema{Type: "array",
		Items: &scan.Schema{Type: "object", Properties: map[string]*scan.Schema{"name": str(), "role": str()}}}}}
	return []*scan.Operation{accounts, team}
}

func TestBFLAAdminGuessesAndRoleLists(t *testing.T) {
	tests := []struct {
		name  string
		mode  string
		ids   []scan.Identity
		want  map[string]scan.Confidence // operation -> confidence
		title map[string]string          // operation -> who it is open to
	}{
		{name: "vulnerable, with identities", mode: "vulnerable", ids: []scan.Identity{ident("root"), ident("alice")},
			want:  map[string]scan.Confidence{"GET /admin/config": scan.Likely, "GET /accounts": scan.Likely},
			title: map[string]string{"GET /admin/config": "alice", "GET /accounts": "alice"}},
		{name: "vulnerable, anonymous only", mode: "vulnerable",
			want:  map[string]scan.Confidence{"GET /admin/config": scan.Possible, "GET /accounts": scan.Possible},
			title: map[string]string{"GET /admin/config": "anonymous", "GET /accounts": "anonymous"}},
		{name: "fixed", mode: "fixed", ids: []scan.Identity{ident("root"), ident("alice")}},
		{name: "fixed, anonymous only", mode: "fixed"},
		{name: "soft 404", mode: "soft404", ids: []scan.Identity{ident("root"), ident("alice")}},
		{name: "login page", mode: "login page", ids: []scan.Identity{ident("root"), ident("alice")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var sent []string
			fs := checktest.Run(t, authz.BFLA{}, adminAPI(tt.mode), checktest.WithOperations(adminOps()...),
				checktest.WithIdentities(tt.ids...),
				checktest.WithObserver(func(ex *scan.Exchange) { sent = append(sent, ex.Request.Method) }))
			got := byOp(fs)
			if len(got) != len(tt.want) {
				var have []string
				for op, f := range got {
					have = append(have, op+": "+f.Title)
				}
				t.Fatalf("BFLA findings = %q, want on %d operations", have, len(tt.want))
			}
			for op, conf := range tt.want {
				f, ok := got[op]
				if !ok {
					t.Errorf("no finding on %s", op)
					continue
				}
				if f.Confidence != conf || !strings.HasSuffix(f.Title, "open to "+tt.title[op]) {
					t.Errorf("%s: %s, want %v, open to %s", op, checktest.Describe(f), conf, tt.title[op])
				}
			}
			for _, m := range sent {
				if m != http.MethodGet {
					t.Errorf("passive BFLA sent %s", m)
				}
			}
		})
	}
}

// The guesses cost a bounded number of requests, and none for paths the
// inventory already has.
func TestBFLAAdminGuessBudget(t *testing.T) {
	var paths []string
	checktest.Run(t, authz.BFLA{}, adminAPI("fixed"), checktest.WithIdentities(ident("root"), ident("alice"), ident("bob")),
		checktest.WithOperations(checktest.Op("GET", "/admin/users")),
		checktest.WithObserver(func(ex *scan.Exchange) { paths = append(paths, ex.Request.URL) }))
	guesses := 0
	for _, p := range paths {
		if strings.Contains(p, "/admin/users") && !strings.Contains(p, "merlon-probe") {
			guesses++
		}
	}
	// /admin/users is in the inventory: the privileged read asks root,
	// who gets a 404 here, and stops; it is never asked as a guess on top.
	if guesses != 1 {
		t.Errorf("requests to /admin/users = %d, want 1 (root's privileged read only)", guesses)
	}
	if len(paths) > 30 {
		t.Errorf("requests = %d, want at most 30", len(paths))
	}
}
