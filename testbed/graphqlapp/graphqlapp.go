// Package graphqlapp is Merlon's GraphQL testbed: a tiny hand-written
// GraphQL server (a user directory with a createUser mutation, and
// administrative deleteUser, setRole and adminStats) in a vulnerable and a
// clean twin, for the graphql.* checks' tests.
//
// Callers sign in with "Authorization: Bearer <token>": AdminToken is
// alice (role admin), UserToken is bob (role user); anything else is
// anonymous.
//
// It parses just enough GraphQL for the checks and their tests: queries
// and mutations, aliases, arguments, inline fragments, variables, and
// introspection of __schema and __type. It is written by hand so that the
// testbed needs no GraphQL module and each weakness is one switch in
// Options.
package graphqlapp

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// Options switches the server's weaknesses and limits.
type Options struct {
	// Introspection answers __schema and __type queries.
	Introspection bool
	// Suggestions adds "Did you mean" hints to unknown-field errors.
	Suggestions bool
	// MaxBatch is the largest array batch answered; 0 refuses arrays.
	MaxBatch int
	// MaxAliases is the most aliased fields one document may have; 0 means
	// no limit.
	MaxAliases int
	// MaxDepth is the deepest selection accepted; 0 means no limit.
	MaxDepth int
	// FilterInput makes createUser ignore the role a client sends: every
	// new user gets "user".
	FilterInput bool
	// RoleChecks makes deleteUser, setRole and adminStats demand the admin
	// role. Without it deleteUser and setRole are open to every caller and
	// adminStats to every signed-in one: broken function level
	// authorization.
	RoleChecks bool
}

// Tokens of the two seeded users, sent as "Authorization: Bearer <token>".
const (
	AdminToken = "gql-admin-token-5d2f"
	UserToken  = "gql-user-token-81ac"
)

// Vulnerable has every weakness the graphql.* checks look for, role
// checks missing included.
func Vulnerable() Options {
	return Options{Introspection: true, Suggestions: true, MaxBatch: 1000}
}

// Clean has none: introspection and suggestions off, batches of at most
// 5 and 10 aliases, depth at most 10, role filtered from input, and
// administrative fields for admins only.
func Clean() Options {
	return Options{MaxBatch: 5, MaxAliases: 10, MaxDepth: 10, FilterInput: true, RoleChecks: true}
}

// Paths is where the server answers GraphQL.
var Paths = []string{"/graphql"}

type user struct {
	ID, Name, Email, Role string
	token                 string
}

// Server is one testbed instance with its own users.
type Server struct {
	opts  Options
	mu    sync.Mutex
	users []*user
	next  int
}

// New returns a server with two seeded users.
func New(opts Options) *Server {
	return &Server{opts: opts, next: 3, users: []*user{
		{ID: "1", Name: "alice", Email: "alice@example.test", Role: "admin", token: AdminToken},
		{ID: "2", Name: "bob", Email: "bob@example.test", Role: "user", token: UserToken},
	}}
}

// Role returns the role of the user with id, or "" when there is none,
// for tests of what a mutation changed.
func (s *Server) Role(id string) string {
	if u := s.find(id); u != nil {
		return u.Role
	}
	return ""
}

// Users returns how many users exist, for tests of cleanup.
func (s *Server) Users() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.users)
}

// Handler serves /graphql (GET for queries, POST for queries, mutations
// and batches), a small JSON index at / (so that a scan's identity
// preflight, which asks the target URL, gets a 2xx as from most real
// GraphQL services) and 404 for everything else.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/graphql", s.serveGraphQL)
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"service": "graphqlapp", "graphql": "/graphql"})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "not found"})
	})
	return mux
}

type request struct {
	Query     string         `json:"query"`
	Variables map[string]any `json:"variables"`
}

// caller returns the signed-in user of r, or nil for anonymous.
func (s *Server) caller(r *http.Request) *user {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || tok == "" {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u.token != "" && u.token == tok {
			c := *u
			return &c
		}
	}
	return nil
}

func (s *Server) serveGraphQL(w http.ResponseWriter, r *http.Request) {
	who := s.caller(r)
	switch r.Method {
	case http.MethodGet:
		q := r.URL.Query().Get("query")
		if q == "" {
			writeJSON(w, http.StatusBadRequest, errorsOnly("Must provide query string."))
			return
		}
		var vars map[string]any
		if v := r.URL.Query().Get("variables"); v != "" {
			json.Unmarshal([]byte(v), &vars)
		}
		writeJSON(w, http.StatusOK, s.execute(request{Query: q, Variables: vars}, false, who))
	case http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil {
			writeJSON(w, http.StatusBadRequest, errorsOnly("unreadable body"))
			return
		}
		trimmed := strings.TrimSpace(string(body))
		if strings.HasPrefix(trimmed, "[") {
			var batch []request
			if err := json.Unmarshal(body, &batch); err != nil {
				writeJSON(w, http.StatusBadRequest, errorsOnly("POST body sent invalid JSON."))
				return
			}
			if len(batch) > s.opts.MaxBatch {
				writeJSON(w, http.StatusBadRequest, errorsOnly(fmt.Sprintf("Batch of %d operations refused: at most %d allowed.", len(batch), s.opts.MaxBatch)))
				return
			}
			out := make([]map[string]any, 0, len(batch))
			for _, req := range batch {
				out = append(out, s.execute(req, true, who))
			}
			writeJSON(w, http.StatusOK, out)
			return
		}
		var req request
		if err := json.Unmarshal(body, &req); err != nil || req.Query == "" {
			writeJSON(w, http.StatusBadRequest, errorsOnly("Must provide query string."))
			return
		}
		writeJSON(w, http.StatusOK, s.execute(req, true, who))
	default:
		w.Header().Set("Allow", "GET, POST")
		writeJSON(w, http.StatusMethodNotAllowed, errorsOnly("GraphQL only supports GET and POST requests."))
	}
}

func errorsOnly(msg string) map[string]any {
	return map[string]any{"errors": []any{map[string]any{"message": msg}}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// execute runs one operation for who (nil: anonymous). Mutations need
// POST, as GraphQL over HTTP says, so that a link cannot change state.
func (s *Server) execute(req request, post bool, who *user) map[string]any {
	doc, err := parse(req.Query, req.Variables)
	if err != nil {
		return errorsOnly(err.Error())
	}
	if doc.mutation && !post {
		return errorsOnly("Can only perform a mutation operation from a POST request.")
	}
	if s.opts.MaxDepth > 0 {
		if d := depthOf(doc.sels); d > s.opts.MaxDepth {
			return errorsOnly(fmt.Sprintf("Query depth %d exceeds the maximum of %d.", d, s.opts.MaxDepth))
		}
	}
	if s.opts.MaxAliases > 0 {
		if n := aliasesOf(doc.sels); n > s.opts.MaxAliases {
			return errorsOnly(fmt.Sprintf("Query has %d aliases; at most %d allowed.", n, s.opts.MaxAliases))
		}
	}
	root := s.queryRoot(who)
	if doc.mutation {
		root = s.mutationRoot(who)
	}
	ex := &executor{opts: s.opts}
	data := ex.selectOn(root, doc.sels)
	out := map[string]any{"data": data}
	if len(ex.errs) > 0 {
		out["errors"] = ex.errs
		if data == nil || len(ex.fatal) > 0 {
			out["data"] = nil
		}
	}
	return out
}

type executor struct {
	opts  Options
	errs  []any
	fatal []string
}

func (ex *executor) fail(msg string) {
	ex.errs = append(ex.errs, map[string]any{"message": msg})
	ex.fatal = append(ex.fatal, msg)
}

// selectOn resolves sels on o into a JSON object.
func (ex *executor) selectOn(o *object, sels []selection) map[string]any {
	out := map[string]any{}
	for _, sel := range sels {
		if sel.field == nil {
			if _, ok := lookupType(sel.onType); !ok && !strings.HasPrefix(sel.onType, "__") {
				msg := fmt.Sprintf("Unknown type %q.", sel.onType)
				if ex.opts.Suggestions {
					var names []string
					for _, t := range schemaTypes {
						names = append(names, t.name)
					}
					msg += suggest(sel.onType, names)
				}
				ex.fail(msg)
				continue
			}
			if sel.onType == o.typ {
				for k, v := range ex.selectOn(o, sel.inline) {
					out[k] = v
				}
			}
			continue
		}
		f := sel.field
		key := f.name
		if f.alias != "" {
			key = f.alias
		}
		if f.name == "__typename" {
			out[key] = o.typ
			continue
		}
		if (f.name == "__schema" || f.name == "__type") && o.typ == "Query" && !ex.opts.Introspection {
			ex.fail("GraphQL introspection is not allowed, but the query contained __schema or __type.")
			continue
		}
		resolve, ok := o.fields[f.name]
		if !ok {
			msg := fmt.Sprintf("Cannot query field %q on type %q.", f.name, o.typ)
			if ex.opts.Suggestions {
				msg += suggest(f.name, o.names())
			}
			ex.fail(msg)
			continue
		}
		v, err := resolve(f.args)
		if err != nil {
			ex.errs = append(ex.errs, map[string]any{"message": err.Error(), "path": []any{key}})
			out[key] = nil
			continue
		}
		out[key] = ex.complete(v, f)
	}
	return out
}

func (ex *executor) complete(v any, f *field) any {
	switch v := v.(type) {
	case *object:
		if v == nil {
			return nil
		}
		if !f.hasSels {
			ex.fail(fmt.Sprintf("Field %q of type %q must have a selection of subfields.", f.name, v.typ))
			return nil
		}
		return ex.selectOn(v, f.sels)
	case []any:
		out := make([]any, 0, len(v))
		for _, item := range v {
			out = append(out, ex.complete(item, f))
		}
		return out
	}
	return v
}

// allowed says whether who may use an administrative field: anyone
// signed in, or with RoleChecks only admins.
func (s *Server) allowed(who *user, field string) error {
	switch {
	case who == nil:
		return fmt.Errorf("unauthorized: %s needs a signed-in caller", field)
	case s.opts.RoleChecks && who.Role != "admin":
		return fmt.Errorf("forbidden: %s needs the admin role", field)
	}
	return nil
}

func (s *Server) queryRoot(who *user) *object {
	return &object{typ: "Query", fields: map[string]func(map[string]any) (any, error){
		"user": func(args map[string]any) (any, error) {
			return s.userObject(s.find(fmt.Sprint(args["id"]))), nil
		},
		"users": func(map[string]any) (any, error) { return s.allUsers(), nil },
		"me": func(map[string]any) (any, error) {
			if who == nil {
				return s.userObject(s.find("2")), nil
			}
			return s.userObject(s.find(who.ID)), nil
		},
		"adminStats": func(map[string]any) (any, error) {
			if err := s.allowed(who, "adminStats"); err != nil {
				return nil, err
			}
			return s.stats(), nil
		},
		"__schema": func(map[string]any) (any, error) {
			return introspection(), nil
		},
		"__type": func(args map[string]any) (any, error) {
			name, _ := args["name"].(string)
			return namedType(name), nil
		},
	}}
}

// mutationRoot resolves mutations for who. Without RoleChecks the
// administrative ones are open to anyone, anonymous included.
func (s *Server) mutationRoot(who *user) *object {
	return &object{typ: "Mutation", fields: map[string]func(map[string]any) (any, error){
		"createUser": func(args map[string]any) (any, error) {
			in, _ := args["input"].(map[string]any)
			name, _ := in["name"].(string)
			if name == "" {
				return nil, fmt.Errorf("input.name is required")
			}
			email, _ := in["email"].(string)
			role := "user"
			if r, ok := in["role"].(string); ok && r != "" && !s.opts.FilterInput {
				role = r
			}
			s.mu.Lock()
			u := &user{ID: strconv.Itoa(s.next), Name: name, Email: email, Role: role}
			s.next++
			s.users = append(s.users, u)
			s.mu.Unlock()
			return s.userObject(u), nil
		},
		"setRole": func(args map[string]any) (any, error) {
			if s.opts.RoleChecks {
				if err := s.allowed(who, "setRole"); err != nil {
					return nil, err
				}
			}
			id := fmt.Sprint(args["id"])
			role, _ := args["role"].(string)
			if role == "" {
				return nil, fmt.Errorf("role is required")
			}
			s.mu.Lock()
			defer s.mu.Unlock()
			for _, u := range s.users {
				if u.ID == id {
					u.Role = role
					c := *u
					return s.userObject(&c), nil
				}
			}
			return nil, nil
		},
		"deleteUser": func(args map[string]any) (any, error) {
			if s.opts.RoleChecks {
				if err := s.allowed(who, "deleteUser"); err != nil {
					return nil, err
				}
			}
			id := fmt.Sprint(args["id"])
			s.mu.Lock()
			defer s.mu.Unlock()
			for i, u := range s.users {
				if u.ID == id {
					s.users = append(s.users[:i], s.users[i+1:]...)
					return true, nil
				}
			}
			return false, nil
		},
	}}
}

// stats answers adminStats: how many users and admins exist.
func (s *Server) stats() *object {
	s.mu.Lock()
	users, admins := len(s.users), 0
	for _, u := range s.users {
		if u.Role == "admin" {
			admins++
		}
	}
	s.mu.Unlock()
	return &object{typ: "AdminStats", fields: map[string]func(map[string]any) (any, error){
		"users":  constant(users),
		"admins": constant(admins),
	}}
}

func (s *Server) find(id string) *user {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range s.users {
		if u.ID == id {
			c := *u
			return &c
		}
	}
	return nil
}

func (s *Server) allUsers() []any {
	s.mu.Lock()
	us := make([]user, 0, len(s.users))
	for _, u := range s.users {
		us = append(us, *u)
	}
	s.mu.Unlock()
	list := []any{}
	for i := range us {
		list = append(list, s.userObject(&us[i]))
	}
	return list
}

func (s *Server) userObject(u *user) *object {
	if u == nil {
		return nil
	}
	return &object{typ: "User", fields: map[string]func(map[string]any) (any, error){
		"id":    constant(u.ID),
		"name":  constant(u.Name),
		"email": constant(nilIfEmpty(u.Email)),
		"role":  constant(u.Role),
		// Each user has one friend (alice's is bob, everyone else's is
		// alice): a recursive relation, as real social graphs have, for
		// depth tests, that grows a response linearly with depth.
		"friends": func(map[string]any) (any, error) {
			friend := "1"
			if u.ID == "1" {
				friend = "2"
			}
			return []any{s.userObject(s.find(friend))}, nil
		},
	}}
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
