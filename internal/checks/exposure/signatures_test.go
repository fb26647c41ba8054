package exposure

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDisclosureSamples(t *testing.T) {
	tests := []struct {
		file, want string
		matched    string // a substring the excerpt must hold
	}{
		{"werkzeug-debugger.html", "Werkzeug interactive debugger", "Werkzeug Debugger"},
		{"django-debug-404.html", "Django debug page", "DEBUG = True"},
		{"spring-trace.json", "Java stack trace", "(NumberFormatException.java:67)"},
		{"express-dev.html", "Node.js stack trace", "/app/server.js:14:27"},
		{"aspnet-ysod.html", "ASP.NET error page", "Server Error in '/' Application"},
		{"aspnetcore-dev.txt", ".NET stack trace", "ItemsController.cs:line 27"},
		{"php-fatal.html", "PHP error", "/var/www/html/api/items.php(12)"},
		{"php-warning.html", "PHP error", "on line <b>7"},
		{"go-panic.txt", "Go panic", "goroutine 34 [running]:"},
		{"rails-dev.json", "Ruby backtrace", "items_controller.rb:5:in `show'"},
		{"fastapi-debug.txt", "Python traceback", "Traceback (most recent call last):"},
	}
	for _, tt := range tests {
		b, err := os.ReadFile(filepath.Join("testdata", tt.file))
		if err != nil {
			t.Fatal(err)
		}
		name, matched := Disclosure(string(b))
		if name != tt.want {
			t.Errorf("Disclosure(%s) = %q, want %q", tt.file, name, tt.want)
		}
		if !strings.Contains(matched, tt.matched) {
			t.Errorf("Disclosure(%s) matched %q, want it to hold %q", tt.file, matched, tt.matched)
		}
		if len(matched) > maxMatched+200 {
			t.Errorf("Disclosure(%s) matched %d bytes, want an excerpt", tt.file, len(matched))
		}
	}
}

// TestDisclosureClean: ordinary error bodies, which say "error" and
// "exception" and name frameworks, must not match.
func TestDisclosureClean(t *testing.T) {
	for _, body := range []string{
		`{"error":"invalid id"}`,
		`{"error":"Internal Server Error","exception":"NullPointerException"}`,
		`{"detail":"Not Found"}`,
		`{"detail":[{"type":"int_parsing","loc":["path","item_id"],"msg":"Input should be a valid integer","input":"abc"}]}`,
		`{"timestamp":"2024-05-01T10:00:00.000+00:00","status":400,"error":"Bad Request","path":"/items/abc"}`,
		`{"type":"about:blank","title":"Bad Request","status":400,"detail":"Failed to convert 'id' with value: 'abc'","instance":"/items/abc"}`,
		`{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"One or more validation errors occurred.","status":400,"traceId":"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"}`,
		"<!doctype html>\n<html lang=en>\n<title>500 Internal Server Error</title>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to complete your request. Either the server is overloaded or there is an error in the application.</p>\n",
		"<html><body><h1>Whitelabel Error Page</h1><p>This application has no explicit mapping for /error, so you are seeing this as a fallback.</p><div>There was an unexpected error (type=Internal Server Error, status=500).</div></body></html>",
		"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Error</title>\n</head>\n<body>\n<pre>Internal Server Error</pre>\n</body>\n</html>\n",
		"<pre>Cannot GET /merlon-probe-no-such-path</pre>",
		"404 page not found\n",
		`{"message":"Exception at step 3: the value at index 2 is not a number"}`,
		`{"error":"ValidationException","message":"id must be an integer"}`,
		`{"errors":[{"message":"Unexpected error. Please try again later.","code":"E500"}]}`,
	} {
		if name, matched := Disclosure(body); name != "" {
			t.Errorf("Disclosure(%.60q) = %q (%q), want nothing", body, name, matched)
		}
	}
}
