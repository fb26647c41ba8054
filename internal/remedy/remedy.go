// Package remedy holds Merlon's remediation advice: for each check, a
// generic text and, where the fix differs, texts for particular frameworks
// and datastores. A developer fixes a Flask app faster when told which
// Flask setting to change than when told "configure your server".
//
// Texts are Markdown files embedded from texts/<check-id>/, named
// <framework>-<datastore>.md, <framework>.md or generic.md.
package remedy

import (
	"embed"
	"path"
	"strings"

	"github.com/merlonsec/merlon/internal/scan"
)

//go:embed texts
var texts embed.FS

// For returns the remediation for checkID on a target with stack st: the
// text for its framework and datastore together, else for its framework,
// else the check's generic text, else "". Names are matched in lower case.
func For(checkID string, st scan.Stack) string {
	id := strings.ToLower(checkID)
	fw := strings.ToLower(st.Framework)
	ds := strings.ToLower(st.Datastore)
	var names []string
	if fw != "" && ds != "" {
		names = append(names, fw+"-"+ds)
	}
	if fw != "" {
		names = append(names, fw)
	}
	names = append(names, "generic")
	for _, n := range names {
		if !safe(id) || !safe(n) {
			continue
		}
		b, err := texts.ReadFile(path.Join("texts", id, n+".md"))
		if err == nil {
			return strings.TrimSpace(string(b))
		}
	}
	return ""
}

// safe reports whether s can name one file or directory of texts without
// reaching outside it.
func safe(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, `/\`)
}
