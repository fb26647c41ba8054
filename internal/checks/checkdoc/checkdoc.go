// Package checkdoc writes docs/checks.md from the check registry and the
// prose kept beside this file, so that the page cannot drift from what the
// checks declare about themselves: the table, each check's category, CWE,
// severity range, mode and "what it sends" come from its Meta, and only the
// longer explanations are hand-written.
//
// The prose lives in docs/ (embedded):
//
//	docs/intro.md            the page's opening, up to the summary table
//	docs/<check-id>.md       optional detail printed after a check's description
//	docs/_family/<family>.md "# Title" on the first line, then optional prose
//	                         shared by the family's checks
//
// TestChecksDocCurrent fails when docs/checks.md differs from Render's
// output; `go test ./internal/checks/checkdoc -update` rewrites it.
package checkdoc

import (
	"bufio"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
	"unicode"

	"github.com/merlonsec/merlon/internal/scan"
)

//go:embed docs/*.md docs/_family/*.md
var prose embed.FS

// generatedNotice heads the page, so that whoever opens docs/checks.md to
// add a section is sent to the files that survive regeneration.
const generatedNotice = "<!-- Generated from the check registry and internal/checks/checkdoc/docs: edit those, " +
	"then run go test ./internal/checks/checkdoc -update. -->\n\n"

// Render writes the checks page for checks, in their order, using the
// embedded prose. It fails when a check's Meta is incomplete (no ID, no
// description, a MinSeverity above its Severity), when an ID repeats, or
// when a family has no docs/_family file to give it a title.
func Render(w io.Writer, checks []scan.Check) error {
	return render(w, checks, prose)
}

// render is Render over any prose tree laid out as docs/…, so that tests
// can exercise the layout rules without the real texts.
func render(w io.Writer, checks []scan.Check, fsys fs.FS) error {
	metas, err := collect(checks)
	if err != nil {
		return err
	}
	intro, err := fs.ReadFile(fsys, "docs/intro.md")
	if err != nil {
		return fmt.Errorf("read intro: %w", err)
	}
	var families []string
	byFamily := make(map[string][]scan.Meta)
	for _, m := range metas {
		if _, ok := byFamily[m.Family]; !ok {
			families = append(families, m.Family)
		}
		byFamily[m.Family] = append(byFamily[m.Family], m)
	}

	bw := bufio.NewWriter(w)
	bw.WriteString(generatedNotice)
	bw.WriteString(strings.TrimSpace(string(intro)))
	bw.WriteString("\n\n## Summary\n\n")
	bw.WriteString("| Check | Title | OWASP category | CWE | Severity | Mode |\n")
	bw.WriteString("|---|---|---|---|---|---|\n")
	for _, fam := range families {
		for _, m := range byFamily[fam] {
			fmt.Fprintf(bw, "| [`%s`](#%s) | %s | %s | CWE-%d | %s | %s |\n",
				m.ID, anchor(heading(m)), cell(m.Title), cell(category(m.Category)),
				m.CWE, SeverityRange(m), mode(m))
		}
	}
	for _, fam := range families {
		title, text, err := family(fsys, fam)
		if err != nil {
			return err
		}
		fmt.Fprintf(bw, "\n## %s\n", title)
		if text != "" {
			fmt.Fprintf(bw, "\n%s\n", text)
		}
		for _, m := range byFamily[fam] {
			fmt.Fprintf(bw, "\n### %s\n\n", heading(m))
			fmt.Fprintf(bw, "%s · [CWE-%d](https://cwe.mitre.org/data/definitions/%d.html) · %s · %s\n\n",
				category(m.Category), m.CWE, m.CWE, SeverityRange(m), mode(m))
			bw.WriteString(strings.TrimSpace(m.Description))
			bw.WriteString("\n")
			extra, err := fs.ReadFile(fsys, path.Join("docs", m.ID+".md"))
			switch {
			case errors.Is(err, fs.ErrNotExist):
			case err != nil:
				return fmt.Errorf("read prose for %s: %w", m.ID, err)
			default:
				fmt.Fprintf(bw, "\n%s\n", strings.TrimSpace(string(extra)))
			}
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write checks doc: %w", err)
	}
	return nil
}

// collect reads every check's Meta once and rejects what would make a
// wrong or ambiguous page.
func collect(checks []scan.Check) ([]scan.Meta, error) {
	metas := make([]scan.Meta, 0, len(checks))
	seen := make(map[string]bool)
	for _, c := range checks {
		m := c.Meta()
		switch {
		case m.ID == "":
			return nil, fmt.Errorf("check %q has no ID", m.Title)
		case seen[m.ID]:
			return nil, fmt.Errorf("check %s is listed twice", m.ID)
		case m.Family == "":
			return nil, fmt.Errorf("check %s has no family", m.ID)
		case strings.TrimSpace(m.Description) == "":
			return nil, fmt.Errorf("check %s has no description", m.ID)
		case m.MinSeverity > m.Severity:
			return nil, fmt.Errorf("check %s: min severity %s is above severity %s", m.ID, m.MinSeverity, m.Severity)
		}
		seen[m.ID] = true
		metas = append(metas, m)
	}
	return metas, nil
}

// family returns a family's title (the first line of its file, "# Title")
// and the prose after it, which may be empty.
func family(fsys fs.FS, fam string) (title, text string, err error) {
	b, err := fs.ReadFile(fsys, path.Join("docs", "_family", fam+".md"))
	if err != nil {
		return "", "", fmt.Errorf("family %s needs docs/_family/%s.md: %w", fam, fam, err)
	}
	first, rest, _ := strings.Cut(string(b), "\n")
	title, ok := strings.CutPrefix(first, "# ")
	if !ok || strings.TrimSpace(title) == "" {
		return "", "", fmt.Errorf("docs/_family/%s.md must start with a \"# Title\" line", fam)
	}
	return strings.TrimSpace(title), strings.TrimSpace(rest), nil
}

// SeverityRange prints the severities a check can report: "low–high", or
// just "high" when it reports only one.
func SeverityRange(m scan.Meta) string {
	if m.MinSeverity >= m.Severity {
		return m.Severity.String()
	}
	return m.MinSeverity.String() + "–" + m.Severity.String()
}

// anchor is the fragment GitHub gives a heading: lower case, spaces turned
// into hyphens, and every other character that is not a letter, a digit, a
// hyphen or an underscore dropped.
func anchor(heading string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteByte('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

func heading(m scan.Meta) string { return m.ID + " — " + m.Title }

func category(c scan.Category) string {
	if n := c.Name(); n != "" {
		return string(c) + " " + n
	}
	return string(c)
}

func mode(m scan.Meta) string {
	if m.Active {
		return "active"
	}
	return "passive"
}

// cell keeps a table cell on one line and its pipes from splitting it.
func cell(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\n", " "), "|", `\|`)
}
