package flaskinject

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func get(t *testing.T, u string) (int, string) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestTwins checks that the vulnerable app pastes input into SQL and the
// fixed one does not, on both databases.
func TestTwins(t *testing.T) {
	vuln := Start(t, "vulnerable", Options{Postgres: true})
	fixed := Start(t, "fixed", Options{Postgres: true})
	for _, prefix := range []string{"/sqlite", "/pg"} {
		path := prefix + "/items/by-name/" + url.PathEscape("apple'")
		if code, body := get(t, vuln.URL+path); code != 500 || !strings.Contains(body, "Error") {
			t.Errorf("vulnerable GET %s = %d %s, want 500 with a database error", path, code, body)
		}
		if code, body := get(t, fixed.URL+path); code != 404 {
			t.Errorf("fixed GET %s = %d %s, want 404", path, code, body)
		}
		path = prefix + "/items/" + url.PathEscape("1 AND 1=2")
		if code, _ := get(t, vuln.URL+path); code != 404 {
			t.Errorf("vulnerable GET %s = %d, want 404 (false condition)", path, code)
		}
		if code, _ := get(t, fixed.URL+path); code != 400 {
			t.Errorf("fixed GET %s = %d, want 400 (not an integer)", path, code)
		}
		// The blind lookup hides the error, and still tells true from false.
		path = prefix + "/blind/items?fruit=" + url.QueryEscape("apple'")
		if code, body := get(t, vuln.URL+path); code != 500 || strings.Contains(body, "Error") {
			t.Errorf("vulnerable GET %s = %d %s, want 500 without the database error", path, code, body)
		}
		path = prefix + "/blind/items?fruit=" + url.QueryEscape("apple' AND '1'='2")
		if code, _ := get(t, vuln.URL+path); code != 404 {
			t.Errorf("vulnerable GET %s = %d, want 404 (false condition)", path, code)
		}
	}
}

// TestOtherPoints checks that a header, a cookie and an array element
// reach the SQL text raw on the vulnerable app.
func TestOtherPoints(t *testing.T) {
	app := Start(t, "vulnerable", Options{})
	do := func(method, path, body string, header http.Header) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, app.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header = header
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	tests := []struct {
		name, method, path, body string
		header                   http.Header
	}{
		{"header", "GET", "/sqlite/items/current", "", http.Header{"X-Item-Name": {"apple'"}}},
		{"cookie", "GET", "/sqlite/items/saved", "", http.Header{"Cookie": {"item=apple'"}}},
		{"nested object", "POST", "/sqlite/items/query", `{"filter":{"name":"apple'"}}`, http.Header{"Content-Type": {"application/json"}}},
		{"array element", "POST", "/sqlite/items/batch", `{"items":[{"name":"apple'"}]}`, http.Header{"Content-Type": {"application/json"}}},
	}
	for _, tt := range tests {
		if code, body := do(tt.method, tt.path, tt.body, tt.header); code != 500 || !strings.Contains(body, "unrecognized token") {
			t.Errorf("%s: %s %s = %d %s, want 500 with SQLite's syntax error", tt.name, tt.method, tt.path, code, body)
		}
	}
}
