// Package discover learns what an API offers when the user gives Merlon no
// spec: it looks for a published OpenAPI or Swagger document, and failing
// that, crawls the API's JSON to infer its operations.
//
// Everything goes through the engine's Requester, so scope, the method
// policy and the request budget hold for discovery as for checks.
package discover

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/merlonsec/merlon/internal/scan"
)

// ErrNoSpec is returned by FindSpec when no well-known path serves an
// OpenAPI or Swagger document.
var ErrNoSpec = errors.New("no OpenAPI or Swagger document found")

// WellKnownPaths lists where frameworks and gateways commonly publish an
// API's OpenAPI or Swagger document, most common first.
func WellKnownPaths() []string {
	return []string{
		"/openapi.json",
		"/openapi.yaml",
		"/openapi.yml",
		"/swagger.json",
		"/swagger.yaml",
		"/v3/api-docs",
		"/v2/api-docs",
		"/swagger/v1/swagger.json",
		"/api-docs",
		"/api/openapi.json",
		"/api/swagger.json",
		"/docs/openapi.json",
		"/.well-known/openapi.json",
		"/api/v1/openapi.json",
	}
}

// FindSpec asks for each well-known path, relative to the target's base URL
// and, when the base URL has a path of its own, relative to the origin's
// root too. It returns the URL and body of the first 2xx response that is an
// OpenAPI or Swagger document. It returns ErrNoSpec when none is, and an
// error wrapping the cause when ctx ends, the budget runs out, or every
// request failed to reach the target.
func FindSpec(ctx context.Context, h scan.Requester) (string, []byte, error) {
	var (
		root      *url.URL // the origin, once a response has told it
		basePath  bool     // whether the base URL has a path below the root
		reached   bool
		transport error
	)
	try := func(path string) (string, []byte, bool, error) {
		ex, err := h.Do(ctx, &scan.Request{Method: "GET", Path: path})
		if err != nil {
			if ctx.Err() != nil {
				return "", nil, false, fmt.Errorf("find spec: %w", ctx.Err())
			}
			if errors.Is(err, scan.ErrBudgetExhausted) {
				return "", nil, false, fmt.Errorf("find spec: %w", err)
			}
			if !errors.Is(err, scan.ErrOutOfScope) && transport == nil {
				transport = err
			}
			return "", nil, false, nil
		}
		reached = true
		if root == nil {
			if u, err := url.Parse(ex.Request.URL); err == nil && u.Host != "" {
				root = &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/"}
				basePath = strings.Trim(strings.TrimSuffix(u.Path, path), "/") != ""
			}
		}
		status := ex.Response.Status
		if status < 200 || status > 299 || !sniff(ex.Response.Raw) {
			return "", nil, false, nil
		}
		where := ex.Request.URL
		if where == "" {
			where = path
		}
		return where, ex.Response.Raw, true, nil
	}

	for _, p := range WellKnownPaths() {
		where, data, ok, err := try(p)
		if err != nil || ok {
			return where, data, err
		}
	}
	if root != nil && basePath {
		for _, p := range WellKnownPaths() {
			where, data, ok, err := try(root.JoinPath(p).String())
			if err != nil || ok {
				return where, data, err
			}
		}
	}
	if !reached && transport != nil {
		return "", nil, fmt.Errorf("find spec: %w", transport)
	}
	return "", nil, ErrNoSpec
}

// sniff reports whether body looks like an OpenAPI or Swagger document: a
// JSON object with a string "openapi" or "swagger" member, or YAML with
// such a key at the top level. It parses no further; the spec loader does
// that, and says what is wrong with a document that only looks right.
func sniff(body []byte) bool {
	body = bytes.TrimPrefix(body, []byte("\xef\xbb\xbf"))
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return false
	}
	if trimmed[0] == '{' {
		var top map[string]json.RawMessage
		if json.Unmarshal(trimmed, &top) == nil {
			for _, k := range []string{"openapi", "swagger"} {
				var v string
				if raw, ok := top[k]; ok && json.Unmarshal(raw, &v) == nil && v != "" {
					return true
				}
			}
			return false
		}
		// Not JSON: it may still be YAML in flow style, which is too rare
		// to be worth a guess.
		return false
	}
	if trimmed[0] == '<' {
		return false // HTML, such as a documentation page
	}
	for line := range bytes.Lines(body) {
		line = bytes.TrimRight(line, "\r\n")
		for _, k := range []string{"openapi", "swagger"} {
			for _, q := range []string{"", `"`, "'"} {
				key := q + k + q + ":"
				if bytes.HasPrefix(line, []byte(key)) && len(bytes.TrimSpace(line[len(key):])) > 0 {
					return true
				}
			}
		}
	}
	return false
}
