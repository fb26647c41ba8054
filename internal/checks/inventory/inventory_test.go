package inventory

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/scan"
)

func TestTemplatesDocumented(t *testing.T) {
	base, err := url.Parse("http://127.0.0.1/api/")
	if err != nil {
		t.Fatal(err)
	}
	target := &scan.Target{BaseURL: base, Operations: []*scan.Operation{
		{Method: http.MethodGet, Path: "/users/{id}"},
		{Method: http.MethodDelete, Path: "/v2/users"},
		{Method: http.MethodGet, Path: "/users/me/settings"},
		{Method: http.MethodGet, Path: "/orgs/{org}/members/{id}"},
	}}
	ix := newTemplates(target)
	tests := []struct {
		name, path string
		want       bool
	}{
		{"param matches a segment", "/api/users/admin", true},
		{"too deep for the param", "/api/users/1/admin", false},
		{"case and trailing slash", "/API/V2/Users/", true},
		{"literal beats nothing", "/api/users/me/settings", true},
		{"param then literal", "/api/users/7/settings", false},
		{"two params", "/api/orgs/acme/members/9", true},
		{"empty segment is no param", "/api/orgs//members/9", false},
		{"unknown", "/api/orders", false},
		{"without the base path", "/users/admin", false},
		{"a prefix only", "/api/orgs/acme", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ix.documented(tt.path); got != tt.want {
				t.Errorf("documented(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}

func TestSignatures(t *testing.T) {
	find := func(p string) exposedFile {
		for _, ef := range exposedFiles {
			if ef.path == p {
				return ef
			}
		}
		t.Fatalf("no entry for %s", p)
		return exposedFile{}
	}
	tests := []struct {
		name, path, body string
		match            bool
	}{
		{"env file", "/.env", "A_KEY=1\nB_KEY=two\n", true},
		{"env soft-404 page", "/.env", "<!doctype html><html><body>A_KEY=1\nB=2</body></html>", false},
		{"env one line", "/.env", "HELLO=1\n", false},
		{"git config", "/.git/config", "[core]\n\trepositoryformatversion = 0\n", true},
		{"git config prose", "/.git/config", "see [core] docs", false},
		{"git head", "/.git/HEAD", "ref: refs/heads/main\n", true},
		{"git head html", "/.git/HEAD", "<html>ref: refs/heads/main</html>", false},
		{"admin title", "/admin", "<html><title>Site administration</title></html>", true},
		{"not found title", "/admin", "<html><title>Not found</title>admin</html>", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := find(tt.path).match([]byte(tt.body)) != ""
			if got != tt.match {
				t.Errorf("match(%s, %q) = %v, want %v", tt.path, tt.body, got, tt.match)
			}
		})
	}
}

// TestExposedFilesSoftNotFound: a server that answers 200 with the same
// page for every path is not reported, even when the page happens to
// look like a signature.
func TestExposedFilesSoftNotFound(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ref: refs/heads/main\n"))
	})
	fs := checktest.Run(t, ExposedFiles{}, h)
	if len(fs) != 0 {
		t.Errorf("ExposedFiles on a catch-all server = %d findings, want 0", len(fs))
	}
}

func TestExposedFilesReportsGit(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/.git/HEAD" {
			w.Write([]byte("ref: refs/heads/main\n"))
			return
		}
		http.NotFound(w, r)
	})
	fs := checktest.Run(t, ExposedFiles{}, h)
	if len(fs) != 1 || fs[0].Location != "/.git/HEAD" || fs[0].Severity != scan.High {
		t.Fatalf("ExposedFiles = %v, want one high finding at /.git/HEAD", fs)
	}
	if !strings.Contains(fs[0].Description, "Git") {
		t.Errorf("description %q does not name what was found", fs[0].Description)
	}
}
