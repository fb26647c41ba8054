package flaskdynamo_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/testbed/flaskdynamo"
	"github.com/merlonsec/merlon/testbed/internal/proc"
)

// call sends method path with body as JSON (none when nil) and the given
// header name/value pairs, and returns the status and the decoded JSON
// object (nil for an empty body).
func call(t *testing.T, app *flaskdynamo.App, method, path string, body any, header ...string) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("encode %v: %v", body, err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, app.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
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
	if len(bytes.TrimSpace(raw)) == 0 {
		return resp.StatusCode, nil
	}
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s %s = %d, body %q is not a JSON object: %v", method, path, resp.StatusCode, raw, err)
	}
	return resp.StatusCode, out
}

// mustCall is call that fails t unless the status is want.
func mustCall(t *testing.T, app *flaskdynamo.App, want int, method, path string, body any, header ...string) map[string]any {
	t.Helper()
	got, out := call(t, app, method, path, body, header...)
	if got != want {
		t.Fatalf("%s %s %v = %d %v, want %d", method, path, body, got, out, want)
	}
	return out
}

// field walks a path of object keys through v.
func field(v map[string]any, path ...string) any {
	var cur any = v
	for _, k := range path {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		cur = m[k]
	}
	return cur
}

func wantField(t *testing.T, user map[string]any, want any, path ...string) {
	t.Helper()
	if got := field(user, path...); got != want {
		t.Errorf("stored %s = %v (%T), want %v (%T)", strings.Join(path, "."), got, got, want, want)
	}
}

func adminStatus(t *testing.T, app *flaskdynamo.App, user string) int {
	t.Helper()
	status, _ := call(t, app, http.MethodGet, "/admin/stats", nil, "X-User", user)
	return status
}

func newUser(name string) map[string]any {
	return map[string]any{"username": name, "email": name + "@example.com", "display_name": strings.ToUpper(name)}
}

// with returns a copy of base with extra merged in.
func with(base map[string]any, extra map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func TestVulnerableCreateStoresAdmin(t *testing.T) {
	t.Parallel()
	app := flaskdynamo.Start(t, "vulnerable")

	mustCall(t, app, http.StatusCreated, "POST", "/users", newUser("alice"))
	out := mustCall(t, app, http.StatusCreated, "POST", "/users", with(newUser("mallory"), map[string]any{"is_admin": true}))
	if out["status"] != "created" || out["username"] != "mallory" {
		t.Errorf("POST /users = %v, want status created and username mallory", out)
	}

	mallory := app.GetUser(t, "mallory")
	wantField(t, mallory, true, "is_admin")
	wantField(t, mallory, "user", "role")
	wantField(t, app.GetUser(t, "alice"), false, "is_admin")

	stats := mustCall(t, app, http.StatusOK, "GET", "/admin/stats", nil, "X-User", "mallory")
	if stats["users"] != float64(2) || stats["secret"] == "" || stats["secret"] == nil {
		t.Errorf("GET /admin/stats as mallory = %v, want 2 users and a secret", stats)
	}
	for _, user := range []string{"alice", "", "nobody"} {
		if got := adminStatus(t, app, user); got != http.StatusForbidden {
			t.Errorf("GET /admin/stats as %q = %d, want 403", user, got)
		}
	}
}

func TestVulnerableUpdateForwardsEveryField(t *testing.T) {
	t.Parallel()
	app := flaskdynamo.Start(t, "vulnerable")
	mustCall(t, app, http.StatusCreated, "POST", "/users", newUser("bob"))

	mustCall(t, app, http.StatusOK, "PATCH", "/users/bob", map[string]any{"role": "admin", "credits": 500})
	bob := app.GetUser(t, "bob")
	wantField(t, bob, "admin", "role")
	wantField(t, bob, float64(500), "credits")
	if got := adminStatus(t, app, "bob"); got != http.StatusOK {
		t.Errorf("GET /admin/stats as bob after role=admin = %d, want 200", got)
	}

	// DynamoDB refuses to update a key attribute, whatever the app forwards.
	mustCall(t, app, http.StatusBadRequest, "PATCH", "/users/bob", map[string]any{"username": "robert"})
	if app.GetUser(t, "bob") == nil || app.GetUser(t, "robert") != nil {
		t.Errorf("after PATCH username=robert, bob must remain and robert must not exist")
	}
	mustCall(t, app, http.StatusNotFound, "PATCH", "/users/nobody", map[string]any{"email": "x@example.com"})
}

func TestFixedDropsServerOwnedAttributes(t *testing.T) {
	t.Parallel()
	app := flaskdynamo.Start(t, "fixed")

	attack := map[string]any{
		"is_admin": true, "role": "admin", "credits": 1000, "owner": "root",
		"verified": true, "created_at": "1970-01-01T00:00:00+00:00",
		"profile":  map[string]any{"settings": map[string]any{"role": "admin"}},
		"nickname": "x",
	}
	mustCall(t, app, http.StatusCreated, "POST", "/users", with(newUser("carol"), attack))
	carol := app.GetUser(t, "carol")
	for _, tc := range []struct {
		path []string
		want any
	}{
		{[]string{"username"}, "carol"},
		{[]string{"email"}, "carol@example.com"},
		{[]string{"display_name"}, "CAROL"},
		{[]string{"is_admin"}, false},
		{[]string{"role"}, "user"},
		{[]string{"credits"}, float64(0)},
		{[]string{"owner"}, "carol"},
		{[]string{"verified"}, false},
		{[]string{"profile", "settings", "role"}, "user"},
		{[]string{"nickname"}, nil},
	} {
		wantField(t, carol, tc.want, tc.path...)
	}
	if created, _ := carol["created_at"].(string); strings.HasPrefix(created, "1970") || created == "" {
		t.Errorf("stored created_at = %q, want the server's time", created)
	}

	out := mustCall(t, app, http.StatusOK, "PATCH", "/users/carol", with(map[string]any{"display_name": "Carol C."}, attack))
	if got := field(out, "updated", "is_admin"); got != nil {
		t.Errorf("PATCH response updated.is_admin = %v, want absent", got)
	}
	carol = app.GetUser(t, "carol")
	wantField(t, carol, "Carol C.", "display_name")
	wantField(t, carol, false, "is_admin")
	wantField(t, carol, "user", "role")
	if got := adminStatus(t, app, "carol"); got != http.StatusForbidden {
		t.Errorf("GET /admin/stats as carol = %d, want 403", got)
	}
}

func TestFixedValidates(t *testing.T) {
	t.Parallel()
	app := flaskdynamo.Start(t, "fixed")
	mustCall(t, app, http.StatusCreated, "POST", "/users", newUser("dave"))

	long := func(n int) string { return strings.Repeat("a", n) }
	tests := []struct {
		name   string
		method string
		path   string
		body   any
	}{
		{"create email not a string", "POST", "/users", map[string]any{"username": "e1", "email": 42}},
		{"create username not a string", "POST", "/users", map[string]any{"username": true, "email": "e@example.com"}},
		{"create username too long", "POST", "/users", map[string]any{"username": long(65), "email": "e@example.com"}},
		{"create username with slash", "POST", "/users", map[string]any{"username": "a/b", "email": "e@example.com"}},
		{"create display_name too long", "POST", "/users", map[string]any{"username": "e2", "email": "e@example.com", "display_name": long(101)}},
		{"create email malformed", "POST", "/users", map[string]any{"username": "e3", "email": "not-an-email"}},
		{"create email too long", "POST", "/users", map[string]any{"username": "e4", "email": long(250) + "@x.io"}},
		{"create missing email", "POST", "/users", map[string]any{"username": "e5"}},
		{"create body is an array", "POST", "/users", []any{"username", "e6"}},
		{"update display_name not a string", "PATCH", "/users/dave", map[string]any{"display_name": false}},
		{"update display_name empty", "PATCH", "/users/dave", map[string]any{"display_name": ""}},
		{"update email too long", "PATCH", "/users/dave", map[string]any{"email": long(250) + "@x.io"}},
		{"update only unknown fields", "PATCH", "/users/dave", map[string]any{"is_admin": true}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, out := call(t, app, tc.method, tc.path, tc.body)
			if got != http.StatusBadRequest {
				t.Errorf("%s %s %v = %d %v, want 400", tc.method, tc.path, tc.body, got, out)
			}
			if msg, _ := out["error"].(string); msg == "" {
				t.Errorf("%s %s %v: body %v, want an error message", tc.method, tc.path, tc.body, out)
			}
		})
	}
	dave := app.GetUser(t, "dave")
	wantField(t, dave, "DAVE", "display_name")
	wantField(t, dave, "dave@example.com", "email")
	if got, _ := call(t, app, "GET", "/users/e1", nil); got != http.StatusNotFound {
		t.Errorf("GET /users/e1 after rejected create = %d, want 404", got)
	}
}

func TestFixedCreateIsConditional(t *testing.T) {
	t.Parallel()
	app := flaskdynamo.Start(t, "fixed")
	mustCall(t, app, http.StatusCreated, "POST", "/users", newUser("erin"))
	mustCall(t, app, http.StatusConflict, "POST", "/users",
		map[string]any{"username": "erin", "email": "takeover@example.com"})
	wantField(t, app.GetUser(t, "erin"), "erin@example.com", "email")
	mustCall(t, app, http.StatusNotFound, "PATCH", "/users/nobody", map[string]any{"email": "x@example.com"})
	if app.GetUser(t, "nobody") != nil {
		t.Error("PATCH of a missing user created it, want 404 and no item")
	}
}

// TestUpdatePlaceholders checks that updates name every attribute through
// ExpressionAttributeNames, kept apart from ExpressionAttributeValues, so
// that reserved words work as attribute names.
func TestUpdatePlaceholders(t *testing.T) {
	t.Parallel()
	proc.Require(t, flaskdynamo.Available())
	script := `import json, fixed_routes
expr, names, values = fixed_routes.update_expression({"name": "n", "status": "s", "email": "e@example.com"})
print(json.dumps({"expr": expr, "names": names, "values": values}))`
	cmd := exec.Command(flaskdynamo.Python, "-c", script)
	cmd.Dir = flaskdynamo.Dir()
	cmd.Env = append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1")
	raw, err := cmd.Output()
	if err != nil {
		t.Fatalf("run update_expression: %v", err)
	}
	var got struct {
		Expr   string
		Names  map[string]string
		Values map[string]string
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	wantNames := map[string]string{"#f0": "email", "#f1": "name", "#f2": "status"}
	wantValues := map[string]string{":v0": "e@example.com", ":v1": "n", ":v2": "s"}
	if !mapsEqual(got.Names, wantNames) {
		t.Errorf("update_expression names = %v, want %v", got.Names, wantNames)
	}
	if !mapsEqual(got.Values, wantValues) {
		t.Errorf("update_expression values = %v, want %v", got.Values, wantValues)
	}
	if want := "SET #f0 = :v0, #f1 = :v1, #f2 = :v2"; got.Expr != want {
		t.Errorf("update_expression expression = %q, want %q", got.Expr, want)
	}

	fixed := flaskdynamo.Start(t, "fixed")
	mustCall(t, fixed, http.StatusCreated, "POST", "/users", newUser("frank"))
	mustCall(t, fixed, http.StatusOK, "PATCH", "/users/frank", map[string]any{"display_name": "Frank", "email": "f@example.com"})
	frank := fixed.GetUser(t, "frank")
	wantField(t, frank, "Frank", "display_name")
	wantField(t, frank, "f@example.com", "email")

	// The vulnerable variant forwards any name through the same builder, so
	// reserved words reach DynamoDB and must be accepted there.
	vuln := flaskdynamo.Start(t, "vulnerable")
	mustCall(t, vuln, http.StatusCreated, "POST", "/users", newUser("grace"))
	mustCall(t, vuln, http.StatusOK, "PATCH", "/users/grace", map[string]any{"name": "G", "status": "active", "display_name": "Grace"})
	grace := vuln.GetUser(t, "grace")
	wantField(t, grace, "G", "name")
	wantField(t, grace, "active", "status")
	wantField(t, grace, "Grace", "display_name")
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func TestNestedProfileRoleIsWritable(t *testing.T) {
	t.Parallel()
	app := flaskdynamo.Start(t, "nested")

	// Top level is filtered as in the fixed variant...
	mustCall(t, app, http.StatusCreated, "POST", "/users", with(newUser("heidi"), map[string]any{
		"is_admin": true,
		"profile":  map[string]any{"bio": "hi", "settings": map[string]any{"role": "admin"}},
	}))
	heidi := app.GetUser(t, "heidi")
	wantField(t, heidi, false, "is_admin")
	// ...but the profile is merged in whole.
	wantField(t, heidi, "hi", "profile", "bio")
	wantField(t, heidi, "admin", "profile", "settings", "role")
	wantField(t, heidi, "light", "profile", "settings", "theme")
	if got := adminStatus(t, app, "heidi"); got != http.StatusOK {
		t.Errorf("GET /admin/stats as heidi = %d, want 200", got)
	}

	mustCall(t, app, http.StatusCreated, "POST", "/users", newUser("ivan"))
	if got := adminStatus(t, app, "ivan"); got != http.StatusForbidden {
		t.Errorf("GET /admin/stats as ivan before update = %d, want 403", got)
	}
	mustCall(t, app, http.StatusOK, "PATCH", "/users/ivan", map[string]any{
		"role":    "admin",
		"profile": map[string]any{"settings": map[string]any{"role": "admin"}},
	})
	ivan := app.GetUser(t, "ivan")
	wantField(t, ivan, "user", "role")
	wantField(t, ivan, "admin", "profile", "settings", "role")
	wantField(t, ivan, "light", "profile", "settings", "theme")
	if got := adminStatus(t, app, "ivan"); got != http.StatusOK {
		t.Errorf("GET /admin/stats as ivan after update = %d, want 200", got)
	}
}

func TestKeychangeRenamesUser(t *testing.T) {
	t.Parallel()
	app := flaskdynamo.Start(t, "keychange")
	mustCall(t, app, http.StatusCreated, "POST", "/users", newUser("judy"))
	mustCall(t, app, http.StatusCreated, "POST", "/users", newUser("kim"))

	out := mustCall(t, app, http.StatusOK, "PATCH", "/users/judy",
		map[string]any{"username": "eve", "owner": "eve", "is_admin": true})
	if out["username"] != "eve" {
		t.Errorf("PATCH /users/judy username=eve answered username %v, want eve", out["username"])
	}
	if app.GetUser(t, "judy") != nil {
		t.Error("GET /users/judy after rename found the old item, want 404")
	}
	eve := app.GetUser(t, "eve")
	wantField(t, eve, "eve", "username")
	wantField(t, eve, "judy@example.com", "email")
	wantField(t, eve, "eve", "owner")
	wantField(t, eve, false, "is_admin")

	// Renaming onto an existing key overwrites it.
	mustCall(t, app, http.StatusOK, "PATCH", "/users/eve", map[string]any{"username": "kim"})
	wantField(t, app.GetUser(t, "kim"), "judy@example.com", "email")
}

func TestEchoEchoesButDoesNotStore(t *testing.T) {
	t.Parallel()
	app := flaskdynamo.Start(t, "echo")

	out := mustCall(t, app, http.StatusCreated, "POST", "/users",
		with(newUser("leo"), map[string]any{"is_admin": true, "credits": 99}))
	if out["is_admin"] != true || out["credits"] != float64(99) || out["status"] != "created" {
		t.Errorf("POST /users response = %v, want the request echoed (is_admin true, credits 99)", out)
	}
	leo := app.GetUser(t, "leo")
	wantField(t, leo, false, "is_admin")
	wantField(t, leo, float64(0), "credits")

	out = mustCall(t, app, http.StatusOK, "PATCH", "/users/leo",
		map[string]any{"display_name": "Leo", "role": "admin"})
	if out["role"] != "admin" || out["display_name"] != "Leo" {
		t.Errorf("PATCH /users/leo response = %v, want role admin echoed", out)
	}
	leo = app.GetUser(t, "leo")
	wantField(t, leo, "user", "role")
	wantField(t, leo, "Leo", "display_name")
	if got := adminStatus(t, app, "leo"); got != http.StatusForbidden {
		t.Errorf("GET /admin/stats as leo = %d, want 403", got)
	}
}

func TestStoreallStoresUnknownAttributes(t *testing.T) {
	t.Parallel()
	app := flaskdynamo.Start(t, "storeall")

	mustCall(t, app, http.StatusCreated, "POST", "/users", with(newUser("mia"), map[string]any{"nickname": "mimi"}))
	mia := app.GetUser(t, "mia")
	wantField(t, mia, "mimi", "nickname")
	wantField(t, mia, "", "bio")
	for _, owned := range []string{"is_admin", "role", "credits", "owner", "verified", "created_at", "profile"} {
		if v, ok := mia[owned]; ok {
			t.Errorf("stored %s = %v, want no such attribute in storeall", owned, v)
		}
	}
	mustCall(t, app, http.StatusOK, "PATCH", "/users/mia", map[string]any{"favourite": "tea"})
	wantField(t, app.GetUser(t, "mia"), "tea", "favourite")
	if got := adminStatus(t, app, "mia"); got != http.StatusNotFound {
		t.Errorf("GET /admin/stats on storeall = %d, want 404 (no admin route)", got)
	}
}

func TestCommonRoutes(t *testing.T) {
	t.Parallel()
	app := flaskdynamo.Start(t, "fixed")
	for _, name := range []string{"nina", "oscar"} {
		mustCall(t, app, http.StatusCreated, "POST", "/users", newUser(name))
	}
	list := mustCall(t, app, http.StatusOK, "GET", "/users", nil)
	users, _ := list["users"].([]any)
	var names []string
	for _, u := range users {
		m, _ := u.(map[string]any)
		n, _ := m["username"].(string)
		names = append(names, n)
	}
	if want := []string{"nina", "oscar"}; !slices.Equal(names, want) {
		t.Errorf("GET /users usernames = %v, want %v", names, want)
	}
	mustCall(t, app, http.StatusNoContent, "DELETE", "/users/nina", nil)
	mustCall(t, app, http.StatusNotFound, "DELETE", "/users/nina", nil)
	if app.GetUser(t, "nina") != nil {
		t.Error("GET /users/nina after DELETE found it, want 404")
	}
}

func TestOpenAPIDescribesVariant(t *testing.T) {
	t.Parallel()
	tests := []struct {
		variant    string
		strict     bool // additionalProperties false on the request bodies
		adminRoute bool
	}{
		{"vulnerable", false, true},
		{"fixed", true, true},
		{"nested", true, true},
		{"keychange", false, true},
		{"echo", true, true},
		{"storeall", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.variant, func(t *testing.T) {
			t.Parallel()
			app := flaskdynamo.Start(t, tc.variant)
			doc := mustCall(t, app, http.StatusOK, "GET", "/openapi.json", nil)
			if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.0") {
				t.Errorf("openapi = %q, want 3.0.x", v)
			}
			for _, name := range []string{"UserCreate", "UserUpdate"} {
				schema, _ := field(doc, "components", "schemas", name).(map[string]any)
				ap, set := schema["additionalProperties"]
				if tc.strict && ap != false {
					t.Errorf("%s.additionalProperties = %v, want false", name, ap)
				}
				if !tc.strict && set {
					t.Errorf("%s.additionalProperties = %v, want unset", name, ap)
				}
			}
			for _, prop := range []string{"username", "email", "display_name"} {
				if field(doc, "components", "schemas", "UserCreate", "properties", prop) == nil {
					t.Errorf("UserCreate lacks property %s", prop)
				}
			}
			for _, path := range []string{"/users", "/users/{username}"} {
				if field(doc, "paths", path) == nil {
					t.Errorf("paths lacks %s", path)
				}
			}
			if got := field(doc, "paths", "/admin/stats") != nil; got != tc.adminRoute {
				t.Errorf("paths has /admin/stats = %v, want %v", got, tc.adminRoute)
			}
		})
	}
}

// TestFixedRoutesIsTheRemediation pins the shapes Merlon's remediation text
// quotes from fixed_routes.py, which the seed's sample got wrong.
func TestFixedRoutesIsTheRemediation(t *testing.T) {
	src, err := os.ReadFile(flaskdynamo.FixedRoutesPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`@users.route("/users/<username>", methods=["PATCH"])`,
		`def update_user(username):`,
		`ConditionExpression="attribute_not_exists(username)"`,
		`ExpressionAttributeNames=names,`,
		`ExpressionAttributeValues=values,`,
		`UPDATE_FIELDS = {"email", "display_name"}`,
	} {
		if !bytes.Contains(src, []byte(want)) {
			t.Errorf("fixed_routes.py lacks %q", want)
		}
	}
	if bytes.Contains(src, []byte(`"/users/",`)) {
		t.Error(`fixed_routes.py routes "/users/" without <username>`)
	}
}

// TestStartCleansUp checks that both processes are gone once the test that
// started them ends.
func TestStartCleansUp(t *testing.T) {
	t.Parallel()
	proc.Require(t, flaskdynamo.Available())
	var app *flaskdynamo.App
	t.Run("start", func(t *testing.T) {
		app = flaskdynamo.Start(t, "fixed")
		mustCall(t, app, http.StatusOK, "GET", "/openapi.json", nil)
	})
	if app == nil {
		t.Fatal("subtest did not start the app")
	}
	for _, raw := range []string{app.URL, app.DynamoEndpoint} {
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatal(err)
		}
		if c, err := net.DialTimeout("tcp", u.Host, time.Second); err == nil {
			c.Close()
			t.Errorf("dial %s after the test ended succeeded, want the process gone", u.Host)
		}
	}
}

// TestNoSpec runs the app as an API without a published spec: no
// /openapi.json, and a root that links to its collections.
func TestNoSpec(t *testing.T) {
	tests := []struct {
		variant   string
		wantLinks map[string]any
	}{
		{"vulnerable", map[string]any{"users": "/users", "admin": "/admin/stats"}},
		{"storeall", map[string]any{"users": "/users"}},
	}
	for _, tt := range tests {
		t.Run(tt.variant, func(t *testing.T) {
			t.Parallel()
			app := flaskdynamo.StartWith(t, tt.variant, flaskdynamo.Options{NoSpec: true})
			if status, _ := call(t, app, http.MethodGet, "/openapi.json", nil); status != http.StatusNotFound {
				t.Errorf("GET /openapi.json = %d, want 404 with NoSpec", status)
			}
			status, links := call(t, app, http.MethodGet, "/", nil)
			if status != http.StatusOK || !reflect.DeepEqual(links, tt.wantLinks) {
				t.Errorf("GET / = %d %v, want 200 %v", status, links, tt.wantLinks)
			}
		})
	}
	// Start, without options, still serves the spec.
	app := flaskdynamo.Start(t, "fixed")
	if status, _ := call(t, app, http.MethodGet, "/openapi.json", nil); status != http.StatusOK {
		t.Errorf("Start: GET /openapi.json = %d, want 200", status)
	}
}
