// Package inventory holds Merlon's checks for improper inventory
// management (OWASP API9:2023): APIs without versioning, older versions
// still live beside the current one, deprecated operations that still
// answer, endpoints that answer but are not in the spec, and files and
// consoles (.env, .git, docs, admin, debug) left exposed.
//
// Many servers answer every path with the same page (a "soft 404"), so a
// path answering 200 proves nothing by itself: these checks compare each
// answer with the answer to a random path, and exposed files are
// recognised only by what they contain.
package inventory
