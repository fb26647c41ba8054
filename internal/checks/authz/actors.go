package authz

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// actor is someone a check can act as: a configured identity, or
// anonymous (rank 0).
type actor struct {
	name string
	role string
	rank int
}

var anonymous = actor{name: scan.Anonymous, role: scan.Anonymous, rank: 0}

// actors returns the target's configured identities, in their order.
func actors(t *scan.Target) []actor {
	var out []actor
	for _, id := range t.Identities {
		if id.Name == "" || id.Name == scan.Anonymous {
			continue
		}
		out = append(out, actor{name: id.Name, role: id.Role, rank: scan.RoleRank(id.Role)})
	}
	return out
}

// label names an actor in finding text: "bob (user)".
func (a actor) label() string {
	if a.name == scan.Anonymous || a.role == "" {
		return a.name
	}
	return a.name + " (" + a.role + ")"
}

// reader sends GETs and remembers their answers, so that one object read
// by one actor is requested once per run however many comparisons use it.
type reader struct {
	t     *scan.Target
	s     *probe.Sender
	cache map[string]*scan.Exchange
}

func newReader(t *scan.Target, s *probe.Sender) *reader {
	return &reader{t: t, s: s, cache: make(map[string]*scan.Exchange)}
}

// get reads urlPath as who; nil when the request got no answer.
func (r *reader) get(ctx context.Context, op *scan.Operation, urlPath string, who actor) *scan.Exchange {
	k := who.name + "\x00" + urlPath
	if ex, ok := r.cache[k]; ok {
		return ex
	}
	req := &scan.Request{Method: http.MethodGet, Path: urlPath, Identity: who.name, Operation: op}
	if op != nil {
		req.Query = probe.Query(r.t, op)
	}
	ex := r.s.Do(ctx, req)
	if ex != nil {
		r.cache[k] = ex
	}
	return ex
}

// forget drops cached reads of urlPath, after a write changed it.
func (r *reader) forget(urlPath string) {
	for k := range r.cache {
		if strings.HasSuffix(k, "\x00"+urlPath) {
			delete(r.cache, k)
		}
	}
}

func success(ex *scan.Exchange) bool {
	return ex != nil && ex.Response.Status >= 200 && ex.Response.Status <= 299
}

func gone(ex *scan.Exchange) bool {
	return ex != nil && (ex.Response.Status == http.StatusNotFound || ex.Response.Status == http.StatusGone)
}

// decode reads a JSON body, keeping numbers exact; nil when it is not JSON.
func decode(raw []byte) any {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if dec.Decode(&v) != nil {
		return nil
	}
	return v
}

// object returns a JSON object body, unwrapping {"data": {...}}.
func object(raw []byte) map[string]any {
	m, _ := decode(raw).(map[string]any)
	if inner, ok := m["data"].(map[string]any); ok && len(m) <= 2 {
		return inner
	}
	return m
}

// listObjects finds the objects of a list answer: a bare array, or the
// first array under a key, keys taken in sorted order.
func listObjects(doc any) []map[string]any {
	arr, isArr := doc.([]any)
	if m, isObj := doc.(map[string]any); isObj && !isArr {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if a, ok := m[k].([]any); ok {
				arr = a
				break
			}
		}
	}
	var out []map[string]any
	for _, e := range arr {
		if o, ok := e.(map[string]any); ok {
			out = append(out, o)
		}
	}
	return out
}

// scalar renders a JSON scalar as it would appear in a path.
func scalar(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, v != ""
	case json.Number:
		return v.String(), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	}
	return "", false
}

// keyOf returns an object's key: the member named like the path
// parameter, else id, uuid or _id.
func keyOf(obj map[string]any, param string) string {
	for _, n := range []string{param, "id", "uuid", "_id"} {
		if n == "" {
			continue
		}
		if v, ok := scalar(obj[n]); ok {
			return v
		}
	}
	return ""
}

// locationKey returns the last segment of a Location header.
func locationKey(h http.Header) string {
	loc := h.Get("Location")
	if loc == "" {
		return ""
	}
	u, err := url.Parse(loc)
	if err != nil {
		return ""
	}
	last := path.Base(strings.TrimRight(u.Path, "/"))
	if last == "." || last == "/" || last == "" {
		return ""
	}
	v, err := url.PathUnescape(last)
	if err != nil {
		return ""
	}
	return v
}

// meaningful reports whether a 2xx answer carries data: not empty, not
// an empty JSON container, not a JSON object holding only error words.
func meaningful(ex *scan.Exchange) bool {
	if !success(ex) || len(bytes.TrimSpace(ex.Response.Raw)) == 0 {
		return false
	}
	switch v := decode(ex.Response.Raw).(type) {
	case map[string]any:
		if len(v) == 0 {
			return false
		}
		for k := range v {
			switch strings.ToLower(k) {
			case "error", "errors", "message", "detail", "status", "code", "success", "ok":
			default:
				return true
			}
		}
		return false
	case []any:
		return len(v) > 0
	}
	return true
}

// sameContent reports whether two answers show the same thing: equal
// bodies, or JSON objects with the same key and at least half of their
// members equal (so a timestamp of the moment does not hide a match).
func sameContent(a, b *scan.Exchange) bool {
	if a == nil || b == nil {
		return false
	}
	if bytes.Equal(bytes.TrimSpace(a.Response.Raw), bytes.TrimSpace(b.Response.Raw)) {
		return true
	}
	oa, ob := object(a.Response.Raw), object(b.Response.Raw)
	if len(oa) == 0 || len(ob) == 0 {
		return false
	}
	if ka, kb := keyOf(oa, ""), keyOf(ob, ""); ka != kb {
		return false
	}
	equal := 0
	for k, va := range oa {
		if vb, ok := ob[k]; ok && canonical(va) == canonical(vb) {
			equal++
		}
	}
	return equal*2 >= max(len(oa), len(ob))
}

// sameShape reports whether two answers have the same JSON shape: the
// same top-level member names, or both arrays. Lists may differ in their
// items and still be the same function's answer.
func sameShape(a, b *scan.Exchange) bool {
	if sameContent(a, b) {
		return true
	}
	da, db := decode(a.Response.Raw), decode(b.Response.Raw)
	switch va := da.(type) {
	case []any:
		_, ok := db.([]any)
		return ok
	case map[string]any:
		vb, ok := db.(map[string]any)
		if !ok || len(va) != len(vb) {
			return false
		}
		for k := range va {
			if _, ok := vb[k]; !ok {
				return false
			}
		}
		return true
	}
	return false
}

func canonical(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(b)
}

// selfOp returns the inventory's "who am I" operation: a GET without path
// parameters whose last segment is me, self, whoami, account or similar.
func selfOp(t *scan.Target) *scan.Operation {
	for _, op := range t.Operations {
		if op == nil || op.Method != http.MethodGet || len(scan.PathParams(op.Path)) > 0 {
			continue
		}
		if probe.SelfPath(op.Path) {
			return op
		}
	}
	return nil
}

// userCollections are path segments whose items are accounts, so that a
// caller's own ID (from the self operation) is an object it owns.
var userCollections = map[string]bool{"users": true, "user": true, "accounts": true, "account": true, "members": true,
	"customers": true, "profiles": true, "people": true, "employees": true}

// itemParam splits an item path at its last path parameter: the
// collection before it, the parameter's name, and the segment naming the
// collection ("orders" for /orders/{id}).
func itemParam(p string) (coll, param, noun string, ok bool) {
	names := scan.PathParams(p)
	if len(names) == 0 {
		return "", "", "", false
	}
	param = names[len(names)-1]
	i := strings.LastIndex(p, "{"+param+"}")
	coll = strings.TrimRight(p[:i], "/")
	noun = strings.ToLower(path.Base(coll))
	return coll, param, noun, coll != ""
}

// opAt returns the inventory operation with method and path, or nil.
func opAt(t *scan.Target, method, p string) *scan.Operation {
	for _, op := range t.Operations {
		if op != nil && strings.EqualFold(op.Method, method) && strings.TrimRight(op.Path, "/") == strings.TrimRight(p, "/") {
			return op
		}
	}
	return nil
}
