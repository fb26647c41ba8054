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
	}
}
