package exposure

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// DebugPages asks for the paths where frameworks mount their debugging and
// management endpoints and reports those that answer with the endpoint's
// own content. A status code alone never counts: many APIs answer every
// path with 200 and a generic page, so each path has a signature that only
// the real endpoint produces.
//
// It complements exposure.error-disclosure, which provokes stack traces
// and debug error pages (Django's DEBUG page, Express stacks) from the
// API's own routes; this check looks for endpoints that exist only in
// debug or management setups.
type DebugPages struct{}

var _ scan.Check = DebugPages{}

// Meta describes the check.
func (DebugPages) Meta() scan.Meta {
	return scan.Meta{
		ID:          "exposure.debug-pages",
		Family:      "exposure",
		Title:       "Debug or management endpoint exposed",
		Category:    scan.API8Misconfiguration,
		CWE:         489,
		Severity:    scan.High,
		MinSeverity: scan.Low,
		Description: "Sends one GET to each of /console (Werkzeug debugger), /actuator, /actuator/env, " +
			"/debug/pprof/, /debug/vars, /phpinfo.php and /info.php, one HEAD to /actuator/heapdump, and one GET " +
			"to an unknown path (Spring's Whitelabel page), all under the base URL, and the same but the unknown path " +
			"again from the origin's root when the base URL has a path: at most 9 requests, or 17. " +
			"An endpoint is reported only when its body (or, for the heap dump, its headers) carries the " +
			"endpoint's own signature.",
	}
}

// debugEndpoint is one path and what proves the real endpoint answered.
type debugEndpoint struct {
	path     string
	method   string
	name     string
	severity scan.Severity
	// match returns the matched text, or "" when the response is not the
	// endpoint's.
	match func(ex *scan.Exchange) string
	why   string
}

func bodyRe(re *regexp.Regexp) func(*scan.Exchange) string {
	return func(ex *scan.Exchange) string {
		if ex.Response.Status < 200 || ex.Response.Status >= 300 {
			return ""
		}
		loc := re.FindStringIndex(ex.Response.Body)
		if loc == nil {
			return ""
		}
		return excerpt(ex.Response.Body, loc[0], loc[1])
	}
}

var debugEndpoints = []debugEndpoint{
	{"/console", http.MethodGet, "Werkzeug debugger console", scan.High,
		bodyRe(regexp.MustCompile(`<title>[^<]*Console // Werkzeug Debugger</title>|Werkzeug powered traceback interpreter|EVALEX = true`)),
		"The Werkzeug console runs Python on the server; even PIN-protected, the PIN can be derived from information the server leaks."},
	{"/actuator/env", http.MethodGet, "Spring Boot actuator environment", scan.High,
		bodyRe(regexp.MustCompile(`"activeProfiles"\s*:\s*\[[\s\S]*"propertySources"\s*:`)),
		"The env endpoint lists configuration properties, often including database URLs and credentials."},
	{"/actuator/heapdump", http.MethodHead, "Spring Boot actuator heap dump", scan.High,
		func(ex *scan.Exchange) string {
			h := ex.Response.Header
			if ex.Response.Status != 200 {
				return ""
			}
			cd := strings.ToLower(h.Get("Content-Disposition"))
			ct := probe.MediaType(h)
			if ct == "application/octet-stream" && (strings.Contains(cd, "heapdump") || strings.Contains(cd, ".hprof")) {
				return "Content-Type: " + h.Get("Content-Type") + "; Content-Disposition: " + h.Get("Content-Disposition")
			}
			return ""
		},
		"A heap dump is the process memory: session tokens, passwords and keys in clear."},
	{"/actuator", http.MethodGet, "Spring Boot actuator index", scan.Medium,
		bodyRe(regexp.MustCompile(`"_links"\s*:\s*\{[\s\S]{0,1000}?"self"\s*:\s*\{\s*"href"\s*:\s*"[^"]*/actuator"`)),
		"The index lists every management endpoint the application exposes."},
	{"/debug/pprof/", http.MethodGet, "Go pprof profiler", scan.Medium,
		bodyRe(regexp.MustCompile(`Types of profiles available:`)),
		"pprof exposes goroutine stacks, command line and memory profiles, and lets anyone trigger CPU-heavy profiling."},
	{"/debug/vars", http.MethodGet, "Go expvar variables", scan.Medium,
		bodyRe(regexp.MustCompile(`"cmdline"\s*:\s*\[[^\]]*\][\s\S]*"memstats"\s*:`)),
		"expvar shows the process command line (sometimes with secrets) and runtime internals."},
	{"/phpinfo.php", http.MethodGet, "phpinfo() page", scan.Medium,
		bodyRe(regexp.MustCompile(`<title>PHP [0-9.]+ - phpinfo\(\)</title>|<h1 class="p">PHP Version [0-9.]+</h1>`)),
		"phpinfo() shows the PHP build, modules, paths and environment variables."},
	{"/info.php", http.MethodGet, "phpinfo() page", scan.Medium,
		bodyRe(regexp.MustCompile(`<title>PHP [0-9.]+ - phpinfo\(\)</title>|<h1 class="p">PHP Version [0-9.]+</h1>`)),
		"phpinfo() shows the PHP build, modules, paths and environment variables."},
	{UnknownPath, http.MethodGet, "Spring Boot Whitelabel error page", scan.Low,
		func(ex *scan.Exchange) string {
			re := regexp.MustCompile(`<h1>Whitelabel Error Page</h1>`)
			if loc := re.FindStringIndex(ex.Response.Body); loc != nil {
				return excerpt(ex.Response.Body, loc[0], loc[1])
			}
			return ""
		},
		"The default error page names the framework and shows that error handling was left at its defaults."},
}

// Run probes each endpoint once under the base URL and, when the base has
// a path (an API served under /api/v1, say), once more from the origin's
// root, where frameworks mount management endpoints whatever the API's
// prefix. Locations are then paths from the origin, so the two differ.
func (c DebugPages) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	m := c.Meta()
	var out []scan.Finding
	s := probe.NewSender(h)
	base := strings.TrimSuffix(t.BaseURL.Path, "/")
	roots := []string{""}
	if base != "" {
		roots = append(roots, "/")
	}
	for _, root := range roots {
		for _, e := range debugEndpoints {
			if root != "" && e.path == UnknownPath {
				continue // the Whitelabel page is the application's, asked once
			}
			path, loc := e.path, e.path
			switch {
			case root != "":
				u := url.URL{Scheme: t.BaseURL.Scheme, Host: t.BaseURL.Host, Path: e.path}
				path = u.String()
			case base != "":
				loc = base + e.path
			}
			ex := s.Do(ctx, &scan.Request{Method: e.method, Path: path, NoRedirect: true})
			if s.Done() {
				return out, s.Err()
			}
			if ex == nil {
				continue
			}
			matched := e.match(ex)
			if matched == "" {
				continue
			}
			f := probe.Finding(m, t, "", loc)
			f.Title = e.name + " exposed"
			f.Severity = e.severity
			f.Confidence = scan.Confirmed
			f.Description = fmt.Sprintf("%s %s answered with the %s. %s", e.method, loc, e.name, e.why)
			f.Evidence = []scan.Evidence{probe.Evidence(ex, e.name+" signature in the response", matched)}
			out = append(out, f)
		}
	}
	return out, s.Err()
}
