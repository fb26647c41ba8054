package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/mdtext"
	"github.com/merlonsec/merlon/internal/store"
)

//go:embed templates/*.html
var templateFiles embed.FS

// view is what every page template gets: the page's own data in Page, and
// what the layout needs around it.
type view struct {
	Title   string
	User    *store.User
	CSRF    string
	Version string
	// Refresh, when positive, reloads the page after so many seconds: the
	// progress of a running scan, with no script at all.
	Refresh int
	Page    any
}

// parseTemplates parses layout.html with each page once. Handlers clone
// the parsed set per request, so a page can never change what another sees.
func (s *Server) parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"asset": s.static.url,
		"when":  func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
		"whenp": func(t *time.Time) string {
			if t == nil {
				return ""
			}
			return t.UTC().Format("2006-01-02 15:04 UTC")
		},
		"lower":     strings.ToLower,
		"gradeCSS":  gradeClass,
		"sevCSS":    func(s fmt.Stringer) string { return "sev-" + strings.ToLower(s.String()) },
		"chart":     scoreChart,
		"spark":     sparkline,
		"stateName": stateName,
		"div60":     func(n int64) int64 { return n / 60 },
		"dict":      dict,
		"markdown":  mdtext.Parse,
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", "templates/partials.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(path.Base(n), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		t, err := template.Must(base.Clone()).ParseFS(templateFiles, n)
		if err != nil {
			return nil, fmt.Errorf("parse %s: %w", n, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// render writes page name with status 200.
func (s *Server) render(w http.ResponseWriter, r *http.Request, name, title string, data any) {
	s.renderView(w, r, http.StatusOK, name, view{Title: title, Page: data})
}

// renderStatus writes page name with another status (errors).
func (s *Server) renderStatus(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	s.renderView(w, r, status, name, view{Title: http.StatusText(status), Page: data})
}

func (s *Server) renderView(w http.ResponseWriter, r *http.Request, status int, name string, v view) {
	parsed, ok := s.pages[name]
	if !ok {
		s.serverError(w, r, fmt.Errorf("no template %q", name))
		return
	}
	t, err := parsed.Clone()
	if err != nil {
		s.serverError(w, r, err)
		return
	}
	v.User = currentUser(r.Context())
	v.Version = s.version
	if tok := sessionToken(r.Context()); tok != "" {
		v.CSRF = csrfFor(tok)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		s.serverError(w, r, fmt.Errorf("render %s: %w", name, err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

func gradeClass(g string) string {
	if g == "" {
		return "grade-none"
	}
	return "grade-" + strings.ToLower(g)
}

func stateName(s store.FindingState) string {
	switch s {
	case store.StateAccepted:
		return "accepted risk"
	case store.StateFalsePositive:
		return "false positive"
	case store.StateFixed:
		return "fixed"
	}
	return "open"
}

// dict builds a map from key, value pairs, to hand a partial several values.
func dict(kv ...any) (map[string]any, error) {
	if len(kv)%2 != 0 {
		return nil, fmt.Errorf("dict: odd number of arguments")
	}
	m := make(map[string]any, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		k, ok := kv[i].(string)
		if !ok {
			return nil, fmt.Errorf("dict: key %v is not a string", kv[i])
		}
		m[k] = kv[i+1]
	}
	return m, nil
}
