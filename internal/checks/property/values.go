package property

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/merlonsec/merlon/internal/fill"
	"github.com/merlonsec/merlon/internal/scan"
)

// nonce is a short random string that makes each probe's values unique,
// so that a value read back can only have come from this probe.
func nonce() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// cleanBody builds a body for a write that a careful client would send:
// the write schema's properties (fill.Body), less those that look
// server-owned or read-only and, for a discovered operation whose body is
// only what reads returned, less identifiers. Strings that name or
// address the object get unique values: the key and names become
// "merlon-<tag>", emails "merlon+<tag>@example.com".
func cleanBody(r *Resource, op *scan.Operation, tag string, withKey bool) map[string]any {
	body, _ := clone(fill.Body(writeSchema(op))).(map[string]any)
	if body == nil {
		body = make(map[string]any)
	}
	discovered := op != nil && op.Source == "discovered"
	var drop []string
	valueLeaves(body, "", 0, func(p string, v any) {
		_, owned := Classify(p)
		if owned || (discovered && p != r.Param && fill.IsIDLike(p[strings.LastIndexByte(p, '.')+1:])) {
			drop = append(drop, p)
		}
	})
	for _, p := range drop {
		remove(body, p)
	}
	for k, v := range body {
		if s, ok := v.(string); ok {
			body[k] = unique(k, s, tag)
		}
	}
	if withKey && r.Param != "" {
		if _, ok := body[r.Param]; ok || discovered {
			body[r.Param] = "merlon-" + tag
		}
	} else {
		delete(body, r.Param)
	}
	return body
}

// unique makes a string property's value unique to the probe when the
// property is one an API keeps unique or shows as a name.
func unique(name, value, tag string) string {
	n := strings.ToLower(name)
	switch {
	case strings.Contains(n, "email") || strings.Contains(value, "@"):
		return "merlon+" + tag + "@example.com"
	case n == "username" || n == "login" || n == "handle" || n == "slug" || n == "name" ||
		strings.HasSuffix(n, "_name") || strings.HasSuffix(n, "name"):
		return "merlon-" + tag
	}
	return value
}

// remove deletes dotted path p from obj.
func remove(obj map[string]any, p string) {
	segs := strings.Split(p, ".")
	cur := obj
	for _, seg := range segs[:len(segs)-1] {
		next, ok := cur[seg].(map[string]any)
		if !ok {
			return
		}
		cur = next
	}
	delete(cur, segs[len(segs)-1])
}

// clone deep-copies a decoded JSON value.
func clone(v any) any {
	switch v := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = clone(e)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = clone(e)
		}
		return out
	}
	return v
}

// escalated returns the two values injected into candidate c: the first
// is what an attacker wants (is_admin true, role "admin", credits
// 999999), the second a different value that proves the first was no
// coincidence. Both differ from what the read showed, where they can.
func escalated(c Candidate, tag string) (v1, v2 any) {
	kind := kindOf(c)
	leaf := normalise(c.Path[strings.LastIndexByte(c.Path, '.')+1:])
	switch kind {
	case "boolean":
		v1 = true
		if b, ok := c.Seen.(bool); ok && b {
			v1 = false
		}
		return v1, !v1.(bool)
	case "integer", "number":
		return 999999, 888888
	case "array":
		if c.Class == Privilege {
			return []any{"admin"}, []any{"merlon-" + tag + "-2"}
		}
		return []any{"merlon-" + tag + "-1"}, []any{"merlon-" + tag + "-2"}
	}
	if c.Schema != nil {
		switch c.Schema.Format {
		case "date-time":
			return "2001-01-01T00:00:00Z", "2002-02-02T00:00:00Z"
		case "date":
			return "2001-01-01", "2002-02-02"
		case "email":
			return "merlon+" + tag + "-1@example.com", "merlon+" + tag + "-2@example.com"
		}
	}
	switch {
	case c.Class == Privilege:
		v1 = "admin"
	case c.Class == Ownership:
		v1 = "merlon-other-" + tag
	case c.Class == Billing && (leaf == "plan" || leaf == "tier"):
		v1 = "enterprise"
	case c.Class == Workflow:
		v1 = "approved"
	default:
		v1 = "merlon-" + tag + "-1"
	}
	if v1 == "admin" && c.Seen == "admin" {
		v1 = "merlon-" + tag + "-1"
	}
	return v1, "merlon-" + tag + "-2"
}

// kindOf is the JSON type of a candidate: from its schema, else from the
// value a read showed, else "string".
func kindOf(c Candidate) string {
	if c.Schema != nil && c.Schema.Type != "" {
		return c.Schema.Type
	}
	switch c.Seen.(type) {
	case bool:
		return "boolean"
	case json.Number, float64, int:
		return "number"
	case []any:
		return "array"
	}
	if c.Seen == nil && c.Schema == nil {
		switch c.Class {
		case Verification:
			return "boolean"
		case Billing:
			if leaf := normalise(c.Path[strings.LastIndexByte(c.Path, '.')+1:]); leaf != "plan" && leaf != "tier" {
				return "number"
			}
		}
		if leaf := normalise(c.Path[strings.LastIndexByte(c.Path, '.')+1:]); strings.HasPrefix(leaf, "is_") || leaf == "admin" {
			return "boolean"
		}
	}
	return "string"
}

// same reports whether two JSON values are equal, comparing numbers by
// value whatever their Go type.
func same(a, b any) bool {
	return canonical(a) == canonical(b)
}

func canonical(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	// Re-decode with UseNumber so 999999 and 999999.0 compare equal.
	var out any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if dec.Decode(&out) != nil {
		return string(b)
	}
	return normalNumbers(out)
}

func normalNumbers(v any) string {
	switch v := v.(type) {
	case json.Number:
		if f, err := v.Float64(); err == nil {
			return fmt.Sprintf("n:%g", f)
		}
		return "n:" + v.String()
	case map[string]any:
		var b strings.Builder
		b.WriteString("{")
		for _, k := range sortedKeys(v) {
			b.WriteString(fmt.Sprintf("%q:%s,", k, normalNumbers(v[k])))
		}
		b.WriteString("}")
		return b.String()
	case []any:
		var b strings.Builder
		b.WriteString("[")
		for _, e := range v {
			b.WriteString(normalNumbers(e) + ",")
		}
		b.WriteString("]")
		return b.String()
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// decodeObject reads a JSON object body, with numbers kept exact.
func decodeObject(raw []byte) map[string]any {
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&m) != nil {
		return nil
	}
	return m
}

// show renders a value for a finding's Matched field: `"is_admin": true`.
func show(p string, v any) string {
	b, _ := json.Marshal(v)
	return fmt.Sprintf("%q: %s", p, b)
}

// jsonUnmarshalNumber decodes raw into v, keeping numbers exact.
func jsonUnmarshalNumber(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}
