package inventory

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// exposedFile is a path worth asking for and how to recognise its content.
type exposedFile struct {
	path     string
	what     string
	severity scan.Severity
	// match returns the text that proves the content, or "".
	match func(body []byte) string
}

var (
	envLine      = regexp.MustCompile(`(?m)^(?:export\s+)?[A-Z][A-Z0-9_]{1,63}=\S*\s*$`)
	gitConfig    = regexp.MustCompile(`(?m)^\[core\]\s*$`)
	gitHead      = regexp.MustCompile(`^ref: refs/[\w./-]+\s*$|^[0-9a-f]{40}\s*$`)
	sqlDump      = regexp.MustCompile(`(?i)^(?:--|/\*).*\n(?:.*\n){0,40}?\s*(?:CREATE TABLE|INSERT INTO)\b|\bCREATE TABLE [\x60"]?\w+[\x60"]? \(`)
	htmlTitle    = regexp.MustCompile(`(?is)<title>([^<]{0,200})</title>`)
	htpasswdLine = regexp.MustCompile(`(?m)^[\w.-]+:(?:\$apr1\$|\$2[aby]\$|\{SHA\})\S+$`)
)

// notHTML reports whether body does not look like an HTML page, which a
// soft-404 or an SPA shell returns for every path.
func notHTML(body []byte) bool {
	head := bytes.ToLower(bytes.TrimSpace(body[:min(len(body), 512)]))
	return !bytes.HasPrefix(head, []byte("<!doctype")) && !bytes.HasPrefix(head, []byte("<html")) && !bytes.Contains(head, []byte("<body"))
}

func titleHas(body []byte, words ...string) string {
	m := htmlTitle.FindSubmatch(body)
	if m == nil {
		return ""
	}
	title := strings.ToLower(string(m[1]))
	for _, w := range words {
		if strings.Contains(title, w) {
			return "<title>" + strings.TrimSpace(string(m[1])) + "</title>"
		}
	}
	return ""
}

func contains(subs ...string) func([]byte) string {
	return func(body []byte) string {
		for _, s := range subs {
			if !bytes.Contains(body, []byte(s)) {
				return ""
			}
		}
		return subs[0]
	}
}

// exposedFiles is what ExposedFiles asks for, most severe first.
// Framework debug and management endpoints (Spring actuator, Go pprof and
// expvar, phpinfo) are not here: exposure.debug-pages owns them, so that
// a full scan reports each such path once.
var exposedFiles = []exposedFile{
	{"/.env", "environment file", scan.High, func(b []byte) string {
		if !notHTML(b) {
			return ""
		}
		if lines := envLine.FindAll(b, 3); len(lines) >= 2 {
			key, _, _ := strings.Cut(strings.TrimSpace(string(lines[0])), "=")
			return key + "=…" // the value may be a secret
		}
		return ""
	}},
	{"/.git/config", "Git repository configuration", scan.High, func(b []byte) string {
		if gitConfig.Match(b) && bytes.Contains(b, []byte("repositoryformatversion")) {
			return "[core]"
		}
		return ""
	}},
	{"/.git/HEAD", "Git repository HEAD", scan.High, func(b []byte) string {
		if s := bytes.TrimSpace(b); gitHead.Match(s) {
			return string(s)
		}
		return ""
	}},
	{"/.htpasswd", "password file", scan.High, func(b []byte) string {
		if m := htpasswdLine.Find(b); m != nil {
			user, _, _ := strings.Cut(string(m), ":")
			return user + ":…"
		}
		return ""
	}},
	{"/backup.sql", "database dump", scan.High, sqlMatch},
	{"/dump.sql", "database dump", scan.High, sqlMatch},
	{"/db.sql", "database dump", scan.High, sqlMatch},
	{"/backup.zip", "backup archive", scan.High, func(b []byte) string {
		if bytes.HasPrefix(b, []byte("PK\x03\x04")) {
			return "PK\\x03\\x04 (ZIP header)"
		}
		return ""
	}},
	{"/debug", "debug console", scan.Medium, func(b []byte) string { return titleHas(b, "debug", "werkzeug", "console") }},
	{"/server-status", "Apache server status", scan.Medium, contains("Apache Server Status")},
	{"/admin", "administration console", scan.Medium, func(b []byte) string { return titleHas(b, "admin", "administration", "dashboard") }},
	{"/swagger-ui", "API documentation console", scan.Medium, docsMatch},
	{"/swagger-ui.html", "API documentation console", scan.Medium, docsMatch},
	{"/docs", "API documentation console", scan.Medium, docsMatch},
	{"/.DS_Store", "macOS directory listing", scan.Low, func(b []byte) string {
		if bytes.HasPrefix(b, []byte("\x00\x00\x00\x01Bud1")) {
			return "Bud1 (.DS_Store header)"
		}
		return ""
	}},
}

func sqlMatch(b []byte) string {
	if !notHTML(b) {
		return ""
	}
	if m := sqlDump.Find(b); m != nil {
		if bytes.Contains(m, []byte("INSERT INTO")) {
			return "INSERT INTO"
		}
		return "CREATE TABLE"
	}
	return ""
}

func docsMatch(b []byte) string {
	for _, sig := range []string{"swagger-ui", "SwaggerUIBundle", "<redoc", "Redoc.init", "rapi-doc"} {
		if bytes.Contains(b, []byte(sig)) {
			return sig
		}
	}
	return ""
}

// ExposedFiles reports files and consoles served that should not be: a
// .env or .git directory, database dumps, debug and admin consoles, API
// documentation consoles.
type ExposedFiles struct{}

var _ scan.Check = ExposedFiles{}

// Meta describes the check.
func (ExposedFiles) Meta() scan.Meta {
	return scan.Meta{
		ID:          "inventory.exposed-files",
		Family:      "inventory",
		Title:       "Sensitive file or console exposed",
		Category:    scan.API9Inventory,
		CWE:         538,
		Severity:    scan.High,
		MinSeverity: scan.Low,
		Description: fmt.Sprintf("Sends one GET to a random path as the not-found baseline, then one GET to each "+
			"of %d well-known paths (/.env, /.git/config, /.git/HEAD, /.htpasswd, SQL dumps, /backup.zip, "+
			"/debug, /server-status, /admin, /swagger-ui, /docs, /.DS_Store) from the origin's root, and from the API base path when "+
			"it has one. A path is reported only when its body carries the file's signature ([core] in "+
			".git/config, KEY=VALUE lines in .env, …) and differs from the baseline; a status alone never counts.",
			len(exposedFiles)),
	}
}

// Run asks for each path.
func (c ExposedFiles) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	roots := []string{""}
	if b := strings.TrimSuffix(t.BaseURL.Path, "/"); b != "" {
		roots = append(roots, b)
	}
	m := c.Meta()
	s := probe.NewSender(h)
	var out []scan.Finding
	for _, root := range roots {
		nf := fetchNotFound(ctx, s, t, root+"/")
		for _, ef := range exposedFiles {
			p := root + ef.path
			ex := s.Do(ctx, &scan.Request{Method: http.MethodGet, Path: absolute(t, p), NoRedirect: true})
			if s.Done() {
				return out, s.Err()
			}
			if ex == nil || ex.Response.Status != http.StatusOK || nf.Same(ex) {
				continue
			}
			matched := ef.match(ex.Response.Raw)
			if matched == "" {
				continue
			}
			f := probe.Finding(m, t, "", p)
			f.Severity = ef.severity
			f.Confidence = scan.Confirmed
			f.Description = fmt.Sprintf("GET %s serves a %s (recognised by %q). Files and consoles like this "+
				"hand an attacker credentials, source code or control of the application.", p, ef.what, matched)
			f.Evidence = []scan.Evidence{probe.Evidence(ex, ef.what+" served", matched)}
			if nf.ex != nil {
				f.Evidence = append(f.Evidence, probe.Evidence(nf.ex, "baseline: a random path", ""))
			}
			out = append(out, f)
		}
	}
	return out, s.Err()
}
