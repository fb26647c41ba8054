// Package remedy holds Merlon's remediation advice: for each check, a
// generic text and, where the fix differs, texts for particular frameworks
// and datastores. A developer fixes a Flask app faster when told which
// Flask setting to change than when told "configure your server".
//
// Texts are Markdown files embedded from texts/<check-id>/, named
// <framework>-<datastore>.md, <framework>.md, <datastore>.md or
// generic.md. Framework and datastore names never coincide (they are
// internal/fingerprint's constants), so one directory holds both.
package remedy

import (
	"embed"
	"path"
	"regexp"
	"strings"

	"github.com/merlonsec/merlon/internal/scan"
)

// The Flask + DynamoDB mass-assignment text quotes the testbed's fixed
// routes, the very code the fixed variant runs. The copy under texts is
// refreshed by go generate, and TestFixedRoutesCopy fails when it drifts.
//go:generate cp ../../testbed/flask-dynamodb/fixed_routes.py texts/property.mass-assignment/fixed_routes.py

//go:embed texts
var texts embed.FS

// includeRe matches a line "{{include <check-id>/<file>}}", which For
// replaces with that embedded file, so that a text can quote code kept in
// one place.
var includeRe = regexp.MustCompile(`(?m)^\{\{include ([A-Za-z0-9._-]+)/([A-Za-z0-9._-]+)\}\}$`)

// For returns the remediation for checkID on a target with stack st: the
// text for its framework and datastore together, else for its framework,
// else for its datastore, else the check's generic text, else "". The
// framework goes before the datastore because a framework's text names
// its own data layer (the ORM, the driver it ships with), while a
// datastore's text can only list drivers. Names are matched in lower case.
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
	if ds != "" {
		names = append(names, ds)
	}
	names = append(names, "generic")
	for _, n := range names {
		if !safe(id) || !safe(n) {
			continue
		}
		b, err := texts.ReadFile(path.Join("texts", id, n+".md"))
		if err == nil {
			return strings.TrimSpace(expand(string(b)))
		}
	}
	return ""
}

// expand replaces include lines with the files they name, leaving a line
// that names no embedded file as it is.
func expand(text string) string {
	return includeRe.ReplaceAllStringFunc(text, func(line string) string {
		m := includeRe.FindStringSubmatch(line)
		if !safe(m[1]) || !safe(m[2]) {
			return line
		}
		b, err := texts.ReadFile(path.Join("texts", m[1], m[2]))
		if err != nil {
			return line
		}
		return strings.TrimRight(string(b), "\n")
	})
}

// safe reports whether s can name one file or directory of texts without
// reaching outside it.
func safe(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, `/\`)
}
