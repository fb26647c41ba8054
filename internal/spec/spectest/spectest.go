// Package spectest generates OpenAPI documents of any size and serves the
// APIs they describe, for tests and benchmarks that need a realistic
// target without a hand-written fixture.
package spectest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// opsPerResource is how many operations each generated resource has:
// list, create, read, replace and delete.
const opsPerResource = 5

// Generate returns an OpenAPI 3.0 JSON document with n operations spread
// over ceil(n/5) resources /r{i}: GET and POST /r{i}, then GET, PUT and
// DELETE /r{i}/{id}, in that order until n operations exist. Schemas are
// $ref components and every operation needs a bearer token. The output is
// the same for the same n.
func Generate(n int) []byte {
	paths := map[string]any{}
	schemas := map[string]any{
		"Error": map[string]any{
			"type":       "object",
			"properties": map[string]any{"error": map[string]any{"type": "string"}},
		},
	}
	for op := 0; op < n; op++ {
		i := op / opsPerResource
		name := "R" + strconv.Itoa(i)
		coll, item := "/r"+strconv.Itoa(i), "/r"+strconv.Itoa(i)+"/{id}"
		ref := map[string]any{"$ref": "#/components/schemas/" + name}
		ok := func(desc string, schema any) map[string]any {
			return map[string]any{"description": desc, "content": map[string]any{
				"application/json": map[string]any{"schema": schema}}}
		}
		errResp := ok("error", map[string]any{"$ref": "#/components/schemas/Error"})
		idParam := []any{map[string]any{
			"name": "id", "in": "path", "required": true,
			"schema": map[string]any{"type": "integer", "format": "int64", "minimum": 1}, "example": 1,
		}}
		switch op % opsPerResource {
		case 0:
			schemas[name] = resourceSchema(i)
			paths[coll] = map[string]any{}
			paths[coll].(map[string]any)["get"] = map[string]any{
				"operationId": fmt.Sprintf("list%s", name), "tags": []any{name},
				"parameters": []any{
					map[string]any{"name": "limit", "in": "query", "schema": map[string]any{"type": "integer", "minimum": 1, "maximum": 100}, "example": 10},
					map[string]any{"name": "q", "in": "query", "schema": map[string]any{"type": "string"}, "example": "alpha"},
				},
				"responses": map[string]any{"200": ok("list", map[string]any{"type": "array", "items": ref}), "default": errResp},
			}
		case 1:
			paths[coll].(map[string]any)["post"] = map[string]any{
				"operationId": fmt.Sprintf("create%s", name), "tags": []any{name},
				"requestBody": map[string]any{"required": true, "content": map[string]any{
					"application/json": map[string]any{"schema": ref, "example": exampleObject(i, 1)}}},
				"responses": map[string]any{"201": ok("created", ref), "default": errResp},
			}
		case 2:
			paths[item] = map[string]any{"parameters": idParam}
			paths[item].(map[string]any)["get"] = map[string]any{
				"operationId": fmt.Sprintf("get%s", name), "tags": []any{name},
				"responses": map[string]any{"200": ok("one", ref), "404": errResp},
			}
		case 3:
			paths[item].(map[string]any)["put"] = map[string]any{
				"operationId": fmt.Sprintf("update%s", name), "tags": []any{name},
				"requestBody": map[string]any{"required": true, "content": map[string]any{
					"application/json": map[string]any{"schema": ref}}},
				"responses": map[string]any{"200": ok("updated", ref), "404": errResp},
			}
		case 4:
			paths[item].(map[string]any)["delete"] = map[string]any{
				"operationId": fmt.Sprintf("delete%s", name), "tags": []any{name},
				"responses": map[string]any{"204": map[string]any{"description": "deleted"}, "404": errResp},
			}
		}
	}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info":    map[string]any{"title": fmt.Sprintf("Generated API (%d operations)", n), "version": "1.0.0"},
		"servers": []any{map[string]any{"url": "/"}},
		"paths":   paths,
		"components": map[string]any{
			"schemas": schemas,
			"securitySchemes": map[string]any{
				"bearerAuth": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
			},
		},
		"security": []any{map[string]any{"bearerAuth": []any{}}},
	}
	// encoding/json sorts map keys, which makes the output deterministic;
	// marshalling plain maps of strings, numbers and slices cannot fail.
	b, _ := json.MarshalIndent(doc, "", "  ")
	return append(b, '\n')
}

func resourceSchema(i int) map[string]any {
	return map[string]any{
		"type":     "object",
		"required": []any{"name"},
		"properties": map[string]any{
			"id":     map[string]any{"type": "integer", "format": "int64", "readOnly": true},
			"name":   map[string]any{"type": "string", "maxLength": 64, "example": fmt.Sprintf("r%d-item", i)},
			"status": map[string]any{"type": "string", "enum": []any{"active", "archived"}},
			"owner":  map[string]any{"type": "string", "readOnly": true},
		},
	}
}

func exampleObject(i int, id int64) map[string]any {
	return map[string]any{"id": id, "name": fmt.Sprintf("r%d-%d", i, id), "status": "active", "owner": "alice"}
}

// Server returns a handler for the API Generate(n) describes. It serves
// the document at /openapi.json and answers every operation with JSON
// that matches its schema, after waiting latency (or until the request is
// cancelled). Unknown paths get a 404 JSON error, known paths with another
// method a 405.
func Server(n int, latency time.Duration) http.Handler {
	doc := Generate(n)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/openapi.json" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(doc)
			return
		}
		i, id, hasID, ok := route(r.URL.Path)
		first := i * opsPerResource
		if !ok || first >= n {
			writeJSON(w, http.StatusNotFound, map[string]any{"error": "not found"})
			return
		}
		// The operation's index within its resource, for this method.
		var k int
		switch {
		case !hasID && r.Method == http.MethodGet:
			k = 0
		case !hasID && r.Method == http.MethodPost:
			k = 1
		case hasID && r.Method == http.MethodGet:
			k = 2
		case hasID && r.Method == http.MethodPut:
			k = 3
		case hasID && r.Method == http.MethodDelete:
			k = 4
		default:
			k = -1
		}
		if hasID && first+2 >= n {
			writeJSON(w, http.StatusNotFound, map[string]any{"error": "not found"})
			return
		}
		if k < 0 || first+k >= n {
			writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": "method not allowed"})
			return
		}
		if !wait(r.Context(), latency) {
			return
		}
		switch k {
		case 0:
			writeJSON(w, http.StatusOK, []any{exampleObject(i, 1), exampleObject(i, 2)})
		case 1:
			writeJSON(w, http.StatusCreated, exampleObject(i, 3))
		case 2, 3:
			writeJSON(w, http.StatusOK, exampleObject(i, id))
		case 4:
			w.WriteHeader(http.StatusNoContent)
		}
	})
}

// route parses /r{i} and /r{i}/{id}.
func route(path string) (i int, id int64, hasID, ok bool) {
	rest, found := strings.CutPrefix(path, "/r")
	if !found {
		return 0, 0, false, false
	}
	num, idStr, hasID := strings.Cut(rest, "/")
	i, err := strconv.Atoi(num)
	if err != nil || i < 0 || strconv.Itoa(i) != num {
		return 0, 0, false, false
	}
	if !hasID {
		return i, 0, false, true
	}
	id, err = strconv.ParseInt(idStr, 10, 64)
	if err != nil || id < 1 {
		return 0, 0, false, false
	}
	return i, id, true, true
}

// wait sleeps d unless ctx ends first; it reports whether to answer.
func wait(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
