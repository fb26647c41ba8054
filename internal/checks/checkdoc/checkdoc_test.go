package checkdoc

import (
	"bytes"
	"context"
	"flag"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/merlonsec/merlon/internal/checks"
	"github.com/merlonsec/merlon/internal/scan"
)

var update = flag.Bool("update", false, "rewrite docs/checks.md from the registry")

// docPath is docs/checks.md seen from this package's directory.
var docPath = filepath.Join("..", "..", "..", "docs", "checks.md")

// TestChecksDocCurrent fails when docs/checks.md is not what Render makes
// of the registry today; -update rewrites it.
func TestChecksDocCurrent(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, checks.All()); err != nil {
		t.Fatalf("Render(checks.All()) = %v", err)
	}
	if *update {
		if err := os.WriteFile(docPath, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, buf.Bytes()) {
		t.Errorf("docs/checks.md is stale (first difference at line %d); run: go test ./internal/checks/checkdoc -update",
			firstDiffLine(got, buf.Bytes()))
	}
}

func firstDiffLine(a, b []byte) int {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range min(len(al), len(bl)) {
		if al[i] != bl[i] {
			return i + 1
		}
	}
	return min(len(al), len(bl)) + 1
}

// TestMetaComplete holds every registered check to what the page prints.
func TestMetaComplete(t *testing.T) {
	for _, c := range checks.All() {
		m := c.Meta()
		if strings.TrimSpace(m.Description) == "" {
			t.Errorf("%s: Meta.Description is empty; it is what docs/checks.md says the check sends", m.ID)
		}
		if strings.TrimSpace(m.Title) == "" {
			t.Errorf("%s: Meta.Title is empty", m.ID)
		}
		if m.CWE <= 0 {
			t.Errorf("%s: Meta.CWE = %d, want a CWE number", m.ID, m.CWE)
		}
		if !m.Category.Valid() {
			t.Errorf("%s: Meta.Category = %q, want an OWASP API 2023 category", m.ID, m.Category)
		}
		if m.MinSeverity > m.Severity {
			t.Errorf("%s: MinSeverity %s above Severity %s", m.ID, m.MinSeverity, m.Severity)
		}
	}
}

// TestProseBelongsToChecks catches a prose file whose check or family was
// renamed or removed, which Render would silently never print, and a
// family without the file that gives it a title.
func TestProseBelongsToChecks(t *testing.T) {
	ids := make(map[string]bool)
	families := make(map[string]bool)
	for _, c := range checks.All() {
		ids[c.Meta().ID] = true
		families[c.Meta().Family] = true
	}
	files, err := fs.Glob(prose, "docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".md")
		if name != "intro" && !ids[name] {
			t.Errorf("%s matches no registered check", f)
		}
	}
	fams, err := fs.Glob(prose, "docs/_family/*.md")
	if err != nil {
		t.Fatal(err)
	}
	have := make(map[string]bool)
	for _, f := range fams {
		name := strings.TrimSuffix(filepath.Base(f), ".md")
		have[name] = true
		if !families[name] {
			t.Errorf("%s matches no registered family", f)
		}
	}
	for fam := range families {
		if !have[fam] {
			t.Errorf("family %s has no docs/_family/%s.md", fam, fam)
		}
	}
	// Check and family prose sit under headings Render writes, so a
	// heading of their own would break the page's outline.
	for _, f := range append(files, fams...) {
		b, err := fs.ReadFile(prose, f)
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(b), "\n")
		if strings.Contains(f, "_family/") || filepath.Base(f) == "intro.md" {
			lines = lines[1:] // the title line
		}
		for _, l := range lines {
			if strings.HasPrefix(l, "#") {
				t.Errorf("%s: heading %q in prose; use a bold lead-in instead", f, l)
			}
		}
	}
}

// fake is a check that is only its Meta.
type fake scan.Meta

func (f fake) Meta() scan.Meta { return scan.Meta(f) }
func (fake) Run(context.Context, *scan.Target, scan.Requester) ([]scan.Finding, error) {
	return nil, nil
}

func testFS() fstest.MapFS {
	return fstest.MapFS{
		"docs/intro.md":          {Data: []byte("# Checks\n\nIntro text.\n\n")},
		"docs/_family/alpha.md":  {Data: []byte("# Alpha things\n\nShared alpha prose.\n")},
		"docs/_family/beta.md":   {Data: []byte("# Beta\n")},
		"docs/alpha.one.md":      {Data: []byte("\nMore about one.\n\n")},
		"docs/_family/broken.md": {Data: []byte("Broken has no title line\n")},
	}
}

func TestRender(t *testing.T) {
	one := fake{ID: "alpha.one", Family: "alpha", Title: "One | first", Category: scan.API8Misconfiguration,
		CWE: 942, MinSeverity: scan.Low, Severity: scan.High, Description: "Sends one GET."}
	two := fake{ID: "beta.two", Family: "beta", Title: "Two", Category: scan.API4ResourceConsumption,
		CWE: 770, MinSeverity: scan.Medium, Severity: scan.Medium, Active: true, Description: "Sends a burst."}
	three := fake{ID: "alpha.three", Family: "alpha", Title: "Three", Category: scan.API3PropertyAuthorization,
		CWE: 915, Severity: scan.Low, Description: "Reads."}

	var buf bytes.Buffer
	if err := render(&buf, []scan.Check{one, two, three}, testFS()); err != nil {
		t.Fatalf("render = %v", err)
	}
	want := generatedNotice + "# Checks\n\nIntro text.\n\n## Summary\n\n" +
		"| Check | Title | OWASP category | CWE | Severity | Mode |\n" +
		"|---|---|---|---|---|---|\n" +
		"| [`alpha.one`](#alphaone--one--first) | One \\| first | API8:2023 Security Misconfiguration | CWE-942 | low–high | passive |\n" +
		"| [`alpha.three`](#alphathree--three) | Three | API3:2023 Broken Object Property Level Authorization | CWE-915 | info–low | passive |\n" +
		"| [`beta.two`](#betatwo--two) | Two | API4:2023 Unrestricted Resource Consumption | CWE-770 | medium | active |\n" +
		"\n## Alpha things\n\nShared alpha prose.\n" +
		"\n### alpha.one — One | first\n\n" +
		"API8:2023 Security Misconfiguration · [CWE-942](https://cwe.mitre.org/data/definitions/942.html) · low–high · passive\n\n" +
		"Sends one GET.\n\nMore about one.\n" +
		"\n### alpha.three — Three\n\n" +
		"API3:2023 Broken Object Property Level Authorization · [CWE-915](https://cwe.mitre.org/data/definitions/915.html) · info–low · passive\n\n" +
		"Reads.\n" +
		"\n## Beta\n" +
		"\n### beta.two — Two\n\n" +
		"API4:2023 Unrestricted Resource Consumption · [CWE-770](https://cwe.mitre.org/data/definitions/770.html) · medium · active\n\n" +
		"Sends a burst.\n"
	if got := buf.String(); got != want {
		t.Errorf("render =\n%s\nwant\n%s", got, want)
	}
}

func TestRenderRejects(t *testing.T) {
	ok := fake{ID: "alpha.one", Family: "alpha", Title: "One", Category: scan.API8Misconfiguration,
		CWE: 1, Severity: scan.High, Description: "Sends."}
	with := func(edit func(*fake)) fake { f := ok; edit(&f); return f }
	tests := []struct {
		name   string
		checks []scan.Check
		want   string
	}{
		{"no ID", []scan.Check{with(func(f *fake) { f.ID = "" })}, "no ID"},
		{"twice", []scan.Check{ok, ok}, "listed twice"},
		{"no family", []scan.Check{with(func(f *fake) { f.Family = "" })}, "no family"},
		{"no description", []scan.Check{with(func(f *fake) { f.Description = " " })}, "no description"},
		{"range upside down", []scan.Check{with(func(f *fake) { f.MinSeverity = scan.Critical })}, "min severity critical is above severity high"},
		{"family without file", []scan.Check{with(func(f *fake) { f.Family = "gamma" })}, "family gamma needs docs/_family/gamma.md"},
		{"family without title", []scan.Check{with(func(f *fake) { f.Family = "broken" })}, "must start with a \"# Title\" line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := render(&buf, tt.checks, testFS())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("render(%s) = %v, want an error containing %q", tt.name, err, tt.want)
			}
		})
	}
}

func TestSeverityRange(t *testing.T) {
	tests := []struct {
		name     string
		min, max scan.Severity
		want     string
	}{
		{"zero min means from info", scan.Info, scan.Medium, "info–medium"},
		{"range", scan.Low, scan.High, "low–high"},
		{"single", scan.High, scan.High, "high"},
		{"info only", scan.Info, scan.Info, "info"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := scan.Meta{MinSeverity: tt.min, Severity: tt.max}
			if got := SeverityRange(m); got != tt.want {
				t.Errorf("SeverityRange(%s..%s) = %q, want %q", tt.min, tt.max, got, tt.want)
			}
		})
	}
}

func TestAnchor(t *testing.T) {
	tests := []struct{ in, want string }{
		{"misconfig.cors — Permissive CORS policy", "misconfigcors--permissive-cors-policy"},
		{"llm.markdown-exfiltration — LLM writes data-carrying markdown images", "llmmarkdown-exfiltration--llm-writes-data-carrying-markdown-images"},
		{"authn.jwt-alg-none — JWT accepted with alg \"none\"", "authnjwt-alg-none--jwt-accepted-with-alg-none"},
	}
	for _, tt := range tests {
		if got := anchor(tt.in); got != tt.want {
			t.Errorf("anchor(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
