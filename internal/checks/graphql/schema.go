package graphql

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// typeRefQuery reads a type reference three wrappers deep ([User!]!).
const typeRefQuery = "kind name ofType{kind name ofType{kind name ofType{kind name}}}"

// schemaQuery is the introspection the mutation and depth checks need.
const schemaQuery = "{__schema{queryType{name} mutationType{name} types{name kind " +
	"fields{name args{name type{" + typeRefQuery + "}} type{" + typeRefQuery + "}} " +
	"inputFields{name type{" + typeRefQuery + "}} enumValues{name}}}}"

// TypeRef is an introspected type reference.
type TypeRef struct {
	Kind   string   `json:"kind"`
	Name   string   `json:"name"`
	OfType *TypeRef `json:"ofType"`
}

// Named returns the named type under the wrappers.
func (r *TypeRef) Named() *TypeRef {
	for r != nil && r.OfType != nil && (r.Kind == "NON_NULL" || r.Kind == "LIST") {
		r = r.OfType
	}
	return r
}

// Required reports a NON_NULL reference.
func (r *TypeRef) Required() bool { return r != nil && r.Kind == "NON_NULL" }

// List reports whether a list sits under any NON_NULL wrapper.
func (r *TypeRef) List() bool {
	for r != nil && r.Kind == "NON_NULL" {
		r = r.OfType
	}
	return r != nil && r.Kind == "LIST"
}

// Field is an introspected field, argument or input field.
type Field struct {
	Name string   `json:"name"`
	Args []Field  `json:"args"`
	Type *TypeRef `json:"type"`
}

// Type is an introspected named type.
type Type struct {
	Name        string  `json:"name"`
	Kind        string  `json:"kind"`
	Fields      []Field `json:"fields"`
	InputFields []Field `json:"inputFields"`
	EnumValues  []struct {
		Name string `json:"name"`
	} `json:"enumValues"`
}

// Schema is what introspection told of the server.
type Schema struct {
	Query, Mutation string
	Types           map[string]*Type
}

// fetchSchema introspects ep; nil when introspection is refused.
func fetchSchema(ctx context.Context, s *probe.Sender, ep Endpoint) (*Schema, *scan.Exchange) {
	return fetchSchemaAs(ctx, s, ep, "")
}

// fetchSchemaAs introspects ep acting as the identity named who, for
// servers that show their schema to some callers only.
func fetchSchemaAs(ctx context.Context, s *probe.Sender, ep Endpoint, who string) (*Schema, *scan.Exchange) {
	ex, r := queryAs(ctx, s, ep, schemaQuery, who)
	if r == nil || r.Data == nil {
		return nil, ex
	}
	raw, _ := json.Marshal(r.Data["__schema"])
	var doc struct {
		QueryType    *struct{ Name string } `json:"queryType"`
		MutationType *struct{ Name string } `json:"mutationType"`
		Types        []*Type                `json:"types"`
	}
	if json.Unmarshal(raw, &doc) != nil || doc.QueryType == nil || len(doc.Types) == 0 {
		return nil, ex
	}
	sch := &Schema{Query: doc.QueryType.Name, Types: map[string]*Type{}}
	if doc.MutationType != nil {
		sch.Mutation = doc.MutationType.Name
	}
	for _, t := range doc.Types {
		if t != nil {
			sch.Types[t.Name] = t
		}
	}
	return sch, ex
}

// object returns the object type named by r, or nil.
func (s *Schema) object(r *TypeRef) *Type {
	n := r.Named()
	if n == nil {
		return nil
	}
	t := s.Types[n.Name]
	if t == nil || t.Kind != "OBJECT" {
		return nil
	}
	return t
}

// callable reports a field that needs no argument.
func callable(f Field) bool {
	for _, a := range f.Args {
		if a.Type.Required() {
			return false
		}
	}
	return true
}

// recursiveQuery builds a query depth levels deep along a relation that
// leads from a type back to itself (T.f: T, or T.f: U, U.g: T), reached
// from a root field that needs no argument; "" when the schema has none.
func (s *Schema) recursiveQuery(depth int) string {
	root := s.Types[s.Query]
	if root == nil {
		return ""
	}
	for _, rf := range root.Fields {
		t := s.object(rf.Type)
		if t == nil || !callable(rf) || strings.HasPrefix(rf.Name, "__") {
			continue
		}
		cycle := s.cycleFrom(t)
		if cycle == nil {
			continue
		}
		// depth counts the root field and a scalar leaf.
		var open []string
		open = append(open, rf.Name)
		for i := 0; len(open) < depth-1; i++ {
			open = append(open, cycle[i%len(cycle)])
		}
		return "{" + strings.Join(open, "{") + "{__typename" + strings.Repeat("}", len(open)) + "}"
	}
	return ""
}

// cycleFrom returns the field names of a path from t back to t of one or
// two steps, or nil.
func (s *Schema) cycleFrom(t *Type) []string {
	for _, f := range t.Fields {
		u := s.object(f.Type)
		if u == nil || !callable(f) {
			continue
		}
		if u.Name == t.Name {
			return []string{f.Name}
		}
		for _, g := range u.Fields {
			if v := s.object(g.Type); v != nil && v.Name == t.Name && callable(g) {
				return []string{f.Name, g.Name}
			}
		}
	}
	return nil
}

// literal writes v as a GraphQL value; enum values are written bare.
func literal(v any) string {
	switch v := v.(type) {
	case enum:
		return string(v)
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		var parts []string
		for _, k := range keys {
			parts = append(parts, k+":"+literal(v[k]))
		}
		return "{" + strings.Join(parts, ", ") + "}"
	case []any:
		var parts []string
		for _, x := range v {
			parts = append(parts, literal(x))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	case nil:
		return "null"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%q", fmt.Sprint(v))
	}
	return string(b)
}

// enum is an enum value, written without quotes.
type enum string
