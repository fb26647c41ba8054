package property

import (
	"sort"
	"strings"

	"github.com/merlonsec/merlon/internal/scan"
)

// maxDepth bounds how deep candidates are looked for in nested objects:
// "profile.settings.role" is three levels.
const maxDepth = 3

// Candidate is a property a client should not be able to write.
type Candidate struct {
	// Path is the property's dotted path in the object: "is_admin",
	// "profile.settings.role".
	Path  string
	Class Class
	// Schema is the property's schema in the read response, when known.
	Schema *scan.Schema
	// Seen is the value a read returned, when one did.
	Seen any
}

// Candidates returns r's read-only candidates: properties that reads
// return (by the read's response schema, or in seen, an object a read
// returned) and that either look server-owned by name, are marked
// readOnly, or, for a spec'd resource, are declared by no create or
// update body. The key the item is addressed by and plain "id"s are left
// out; changing the key is tested on its own. Harmful classes come first,
// then paths in order.
func Candidates(r *Resource, seen map[string]any) []Candidate {
	declared := make(map[string]bool)
	spec := !r.Discovered()
	haveWrite := false
	for _, op := range []*scan.Operation{r.Create, r.Update} {
		if s := writeSchema(op); s != nil && len(s.Properties) > 0 {
			haveWrite = true
			schemaLeaves(s, "", 0, func(p string, _ *scan.Schema) { declared[p] = true })
		}
	}
	byPath := make(map[string]*Candidate)
	var order []string
	consider := func(p string, s *scan.Schema, v any) {
		if skipPath(r, p) {
			return
		}
		class, ok := Classify(p)
		if !ok && s != nil && s.ReadOnly {
			class, ok = ReadOnly, true
		}
		if !ok && spec && haveWrite && !declaredUnder(declared, p) {
			class, ok = ReadOnly, true
		}
		if !ok {
			return
		}
		c := byPath[p]
		if c == nil {
			c = &Candidate{Path: p, Class: class}
			byPath[p] = c
			order = append(order, p)
		}
		if s != nil && c.Schema == nil {
			c.Schema = s
		}
		if v != nil && c.Seen == nil {
			c.Seen = v
		}
	}
	schemaLeaves(readSchema(r), "", 0, func(p string, s *scan.Schema) { consider(p, s, nil) })
	valueLeaves(seen, "", 0, func(p string, v any) { consider(p, nil, v) })

	out := make([]Candidate, 0, len(order))
	for _, p := range order {
		out = append(out, *byPath[p])
	}
	sort.SliceStable(out, func(i, j int) bool {
		hi, hj := harmful(out[i].Class), harmful(out[j].Class)
		if hi != hj {
			return hi
		}
		return out[i].Path < out[j].Path
	})
	return out
}

// skipPath leaves out the item's key and plain identifiers, which every
// object has and no API lets a client choose on update.
func skipPath(r *Resource, p string) bool {
	if p == r.Param {
		return true
	}
	switch strings.ToLower(p) {
	case "id", "uuid", "_id":
		return true
	}
	return false
}

// declaredUnder reports whether p, or an object above it, is declared by a
// write body: a client may send "profile.bio" when the body declares an
// open "profile".
func declaredUnder(declared map[string]bool, p string) bool {
	for {
		if declared[p] {
			return true
		}
		i := strings.LastIndexByte(p, '.')
		if i < 0 {
			return false
		}
		p = p[:i]
	}
}

// schemaLeaves calls fn for each property of s, to maxDepth, by dotted
// path: objects with properties are descended into (and not reported
// themselves), everything else is a leaf. Properties come in name order.
func schemaLeaves(s *scan.Schema, prefix string, depth int, fn func(path string, s *scan.Schema)) {
	if s == nil || s.Circular || depth >= maxDepth {
		return
	}
	names := make([]string, 0, len(s.Properties))
	for n := range s.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ps := s.Properties[n]
		if ps == nil {
			continue
		}
		p := prefix + n
		if len(ps.Properties) > 0 && depth+1 < maxDepth {
			schemaLeaves(ps, p+".", depth+1, fn)
			continue
		}
		fn(p, ps)
	}
}

// valueLeaves is schemaLeaves for a decoded JSON object.
func valueLeaves(obj map[string]any, prefix string, depth int, fn func(path string, v any)) {
	if obj == nil || depth >= maxDepth {
		return
	}
	names := make([]string, 0, len(obj))
	for n := range obj {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		v := obj[n]
		p := prefix + n
		if m, ok := v.(map[string]any); ok && len(m) > 0 && depth+1 < maxDepth {
			valueLeaves(m, p+".", depth+1, fn)
			continue
		}
		fn(p, v)
	}
}

// lookup returns the value at dotted path p in obj.
func lookup(obj map[string]any, p string) (any, bool) {
	cur := any(obj)
	for _, seg := range strings.Split(p, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		cur, ok = m[seg]
		if !ok {
			return nil, false
		}
	}
	return cur, true
}

// set puts v at dotted path p in obj, creating objects on the way and
// keeping what is already there.
func set(obj map[string]any, p string, v any) {
	segs := strings.Split(p, ".")
	cur := obj
	for _, seg := range segs[:len(segs)-1] {
		next, ok := cur[seg].(map[string]any)
		if !ok {
			next = make(map[string]any)
			cur[seg] = next
		}
		cur = next
	}
	cur[segs[len(segs)-1]] = v
}
