package graphqlapp

import (
	"fmt"
	"sort"
	"strings"
)

// The testbed's schema, written as data so that the executor and the
// introspection answers come from one description:
//
//	type Query    { user(id: ID!): User  users: [User!]!  me: User  adminStats: AdminStats }
//	type User     { id: ID!  name: String!  email: String  role: String!  friends: [User!]! }
//	type AdminStats { users: Int!  admins: Int! }
//	type Mutation { createUser(input: CreateUserInput!): User!  deleteUser(id: ID!): Boolean!
//	                setRole(id: ID!, role: String!): User }
//	input CreateUserInput { name: String!  email: String  role: String }

type fieldDef struct {
	name string
	typ  string // SDL form: "ID!", "[User!]!"
	args []fieldDef
}

type typeDef struct {
	name, kind string
	fields     []fieldDef // OBJECT
	inputs     []fieldDef // INPUT_OBJECT
}

var schemaTypes = []typeDef{
	{name: "Query", kind: "OBJECT", fields: []fieldDef{
		{name: "user", typ: "User", args: []fieldDef{{name: "id", typ: "ID!"}}},
		{name: "users", typ: "[User!]!"},
		{name: "me", typ: "User"},
		{name: "adminStats", typ: "AdminStats"},
	}},
	{name: "Mutation", kind: "OBJECT", fields: []fieldDef{
		{name: "createUser", typ: "User!", args: []fieldDef{{name: "input", typ: "CreateUserInput!"}}},
		{name: "deleteUser", typ: "Boolean!", args: []fieldDef{{name: "id", typ: "ID!"}}},
		{name: "setRole", typ: "User", args: []fieldDef{{name: "id", typ: "ID!"}, {name: "role", typ: "String!"}}},
	}},
	{name: "User", kind: "OBJECT", fields: []fieldDef{
		{name: "id", typ: "ID!"},
		{name: "name", typ: "String!"},
		{name: "email", typ: "String"},
		{name: "role", typ: "String!"},
		{name: "friends", typ: "[User!]!"},
	}},
	{name: "AdminStats", kind: "OBJECT", fields: []fieldDef{
		{name: "users", typ: "Int!"},
		{name: "admins", typ: "Int!"},
	}},
	{name: "CreateUserInput", kind: "INPUT_OBJECT", inputs: []fieldDef{
		{name: "name", typ: "String!"},
		{name: "email", typ: "String"},
		{name: "role", typ: "String"},
	}},
	{name: "ID", kind: "SCALAR"},
	{name: "String", kind: "SCALAR"},
	{name: "Boolean", kind: "SCALAR"},
	{name: "Int", kind: "SCALAR"},
}

func lookupType(name string) (typeDef, bool) {
	for _, t := range schemaTypes {
		if t.name == name {
			return t, true
		}
	}
	return typeDef{}, false
}

// object is a value of an object type: its fields resolve lazily, so
// cyclic graphs (users' friends, introspection's type references) cost
// only what a query selects.
type object struct {
	typ    string
	fields map[string]func(args map[string]any) (any, error)
}

func (o *object) names() []string {
	var n []string
	for k := range o.fields {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// introspection returns the __schema object.
func introspection() *object {
	return &object{typ: "__Schema", fields: map[string]func(map[string]any) (any, error){
		"queryType":        constant(namedType("Query")),
		"mutationType":     constant(namedType("Mutation")),
		"subscriptionType": constant(nil),
		"directives":       constant([]any{}),
		"types": func(map[string]any) (any, error) {
			var list []any
			for _, t := range schemaTypes {
				list = append(list, namedType(t.name))
			}
			return list, nil
		},
	}}
}

func constant(v any) func(map[string]any) (any, error) {
	return func(map[string]any) (any, error) { return v, nil }
}

// typeRef returns the __Type for an SDL type expression.
func typeRef(sdl string) *object {
	switch {
	case strings.HasSuffix(sdl, "!"):
		return wrapper("NON_NULL", strings.TrimSuffix(sdl, "!"))
	case strings.HasPrefix(sdl, "["):
		return wrapper("LIST", strings.TrimSuffix(strings.TrimPrefix(sdl, "["), "]"))
	}
	return namedType(sdl)
}

func wrapper(kind, inner string) *object {
	o := typeObject(kind, nil)
	o.fields["ofType"] = func(map[string]any) (any, error) { return typeRef(inner), nil }
	return o
}

func namedType(name string) *object {
	t, ok := lookupType(name)
	if !ok {
		return nil
	}
	o := typeObject(t.kind, name)
	if t.kind == "OBJECT" {
		o.fields["fields"] = func(map[string]any) (any, error) { return fieldList(t.fields), nil }
		o.fields["interfaces"] = constant([]any{})
	}
	if t.kind == "INPUT_OBJECT" {
		o.fields["inputFields"] = func(map[string]any) (any, error) { return inputList(t.inputs), nil }
	}
	return o
}

// typeObject is a __Type with every field at its empty value.
func typeObject(kind string, name any) *object {
	return &object{typ: "__Type", fields: map[string]func(map[string]any) (any, error){
		"kind":          constant(enumValue(kind)),
		"name":          constant(name),
		"description":   constant(nil),
		"fields":        constant(nil),
		"inputFields":   constant(nil),
		"interfaces":    constant(nil),
		"enumValues":    constant(nil),
		"possibleTypes": constant(nil),
		"ofType":        constant(nil),
	}}
}

func fieldList(defs []fieldDef) []any {
	var list []any
	for _, f := range defs {
		list = append(list, &object{typ: "__Field", fields: map[string]func(map[string]any) (any, error){
			"name":              constant(f.name),
			"description":       constant(nil),
			"args":              constant(inputList(f.args)),
			"type":              constant(typeRef(f.typ)),
			"isDeprecated":      constant(false),
			"deprecationReason": constant(nil),
		}})
	}
	return list
}

func inputList(defs []fieldDef) []any {
	list := []any{}
	for _, f := range defs {
		list = append(list, &object{typ: "__InputValue", fields: map[string]func(map[string]any) (any, error){
			"name":         constant(f.name),
			"description":  constant(nil),
			"type":         constant(typeRef(f.typ)),
			"defaultValue": constant(nil),
		}})
	}
	return list
}

// suggest returns the names within edit distance of name, the way GraphQL
// servers phrase "Did you mean" hints.
func suggest(name string, names []string) string {
	limit := len(name)*4/10 + 1
	var close []string
	for _, n := range names {
		if strings.HasPrefix(n, "__") {
			continue
		}
		if d := distance(strings.ToLower(name), strings.ToLower(n)); d <= limit {
			close = append(close, fmt.Sprintf("%q", n))
		}
	}
	if len(close) == 0 {
		return ""
	}
	return " Did you mean " + strings.Join(close, " or ") + "?"
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
