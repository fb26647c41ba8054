package scan

import (
	"net/http"
	"net/url"
	"strings"
)

// Target is what a scan looks at: one API, reached at one base URL, with the
// operations Merlon knows of and the identities it may act as.
type Target struct {
	// BaseURL is the scope of the scan: no request leaves its scheme, host
	// and port. Operation paths are joined onto its path.
	BaseURL *url.URL
	// Operations is the inventory, from a spec or from discovery.
	Operations []*Operation
	// Spec describes where the operations came from; nil when discovered.
	Spec *SpecInfo
	// Identities are who Merlon may act as. The anonymous identity is
	// implicit and never listed.
	Identities []Identity
	// Header holds the global headers (-H and merlon.yaml's headers) the
	// engine sends on every request but anonymous ones. A user who passes
	// a token with -H instead of configuring an identity still expects the
	// checks that examine credentials (JWT forging, anonymous access) to
	// use it, so they read it here.
	Header http.Header
	// Active allows state-changing requests. Checks whose Meta says Active
	// run only when it is true; the engine refuses write methods otherwise.
	Active bool
	// Profile sets how much each check may send.
	Profile Profile
	// Stack is what fingerprinting learned of the server's framework and
	// datastore, for remediation that fits it.
	Stack Stack
	// Values holds parameter values harvested from responses, by parameter
	// name, so that later requests can fill path parameters with real IDs.
	Values *ValueBank
	// Notes collects what checks have to say about the scan itself (for
	// example, objects an active probe could not clean up).
	Notes *Notes
	// Callbacks is the listener out-of-band checks point the target at;
	// nil when the scan runs none (passive scans).
	Callbacks Callbacks
}

// SpecInfo records the spec a target's operations came from.
type SpecInfo struct {
	Source  string `json:"source"`  // file path or URL as given
	Version string `json:"version"` // "2.0", "3.0.3", "3.1.0", …
	Title   string `json:"title,omitempty"`
	// Servers are the spec's server URLs, as written.
	Servers []string `json:"servers,omitempty"`
}

// Identity is someone Merlon can act as: headers (and cookies, as a Cookie
// header) sent with each request made on its behalf.
type Identity struct {
	Name    string
	Role    string
	Headers http.Header
}

// Anonymous is the implicit identity that sends no credentials. As a
// Request.Identity it makes the engine strip every credential header,
// the user's global ones included.
const Anonymous = "anonymous"

// privilegedRoleWords mark a role label as privileged.
var privilegedRoleWords = []string{"admin", "root", "superuser", "staff", "owner"}

// RoleRank orders identities for privilege comparisons: 0 for anonymous,
// 1 for ordinary roles, 2 for privileged ones (labels containing "admin",
// "root", "superuser", "staff" or "owner"). A check compares ranks to
// decide whether one identity reaching another's operation is an
// escalation.
func RoleRank(role string) int {
	r := strings.ToLower(role)
	if r == Anonymous {
		return 0
	}
	for _, w := range privilegedRoleWords {
		if strings.Contains(r, w) {
			return 2
		}
	}
	return 1
}

// Profile sets how much a scan sends.
type Profile string

// Profiles, from lightest to heaviest.
const (
	Quick    Profile = "quick"
	Standard Profile = "standard"
	Deep     Profile = "deep"
)

// Stack is what Merlon learned of the server's technology.
type Stack struct {
	Framework string   `json:"framework,omitempty"` // "flask", "express", …
	Datastore string   `json:"datastore,omitempty"` // "dynamodb", "mongodb", "postgresql", …
	Server    string   `json:"server,omitempty"`    // the Server header as seen
	Signals   []string `json:"signals,omitempty"`   // what the guesses rest on
}

// Operation is one method on one path template, with what Merlon knows of
// its inputs and outputs.
type Operation struct {
	ID      string   `json:"id"`     // operationId, or "METHOD /path"
	Method  string   `json:"method"` // upper case
	Path    string   `json:"path"`   // template relative to the base URL: /users/{id}
	Summary string   `json:"summary,omitempty"`
	Tags    []string `json:"tags,omitempty"`
	// Parameters merges path-item and operation parameters; the operation's
	// win on a name+location clash.
	Parameters  []Parameter          `json:"parameters,omitempty"`
	RequestBody *RequestBody         `json:"requestBody,omitempty"`
	Responses   map[string]*Response `json:"responses,omitempty"` // by status code or "default"
	// Security lists alternative requirements; each maps scheme name to scopes.
	// Nil means the spec said nothing; an empty, non-nil slice means the
	// operation is explicitly public.
	Security   []map[string][]string `json:"security,omitempty"`
	Deprecated bool                  `json:"deprecated,omitempty"`
	// Source is "spec" or "discovered".
	Source string `json:"source"`
	// Pointer is the JSON pointer of the operation in its spec, for
	// reports that locate findings in the spec file.
	Pointer string `json:"pointer,omitempty"`
}

// Parameter is a path, query, header or cookie parameter.
type Parameter struct {
	Name     string  `json:"name"`
	In       string  `json:"in"` // path, query, header, cookie
	Required bool    `json:"required,omitempty"`
	Schema   *Schema `json:"schema,omitempty"`
	Example  any     `json:"example,omitempty"`
}

// RequestBody is an operation's accepted body.
type RequestBody struct {
	Required    bool    `json:"required,omitempty"`
	ContentType string  `json:"contentType"` // the preferred media type, JSON when offered
	Schema      *Schema `json:"schema,omitempty"`
	Example     any     `json:"example,omitempty"`
}

// Response is one declared response.
type Response struct {
	ContentType string  `json:"contentType,omitempty"`
	Schema      *Schema `json:"schema,omitempty"`
}

// Schema is the part of a JSON Schema that Merlon reasons about. allOf is
// merged into Properties; oneOf/anyOf alternatives are kept in OneOf.
// Circular references are cut: a schema met again on its own path has
// Circular set and no children.
type Schema struct {
	Ref        string             `json:"ref,omitempty"` // component name when it came from a $ref
	Type       string             `json:"type,omitempty"`
	Format     string             `json:"format,omitempty"`
	Properties map[string]*Schema `json:"properties,omitempty"`
	Required   []string           `json:"required,omitempty"`
	Items      *Schema            `json:"items,omitempty"`
	OneOf      []*Schema          `json:"oneOf,omitempty"`
	Enum       []any              `json:"enum,omitempty"`
	Example    any                `json:"example,omitempty"`
	Default    any                `json:"default,omitempty"`
	ReadOnly   bool               `json:"readOnly,omitempty"`
	WriteOnly  bool               `json:"writeOnly,omitempty"`
	Nullable   bool               `json:"nullable,omitempty"`
	MinLength  *int64             `json:"minLength,omitempty"`
	MaxLength  *int64             `json:"maxLength,omitempty"`
	Minimum    *float64           `json:"minimum,omitempty"`
	Maximum    *float64           `json:"maximum,omitempty"`
	Pattern    string             `json:"pattern,omitempty"`
	Circular   bool               `json:"circular,omitempty"`
	// AdditionalProperties is nil when the spec leaves it unset, which
	// JSON Schema reads as "allowed".
	AdditionalProperties *bool `json:"additionalProperties,omitempty"`
}

// IsWrite reports whether the method changes state on a well-behaved server.
func IsWrite(method string) bool {
	switch strings.ToUpper(method) {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// PathParams returns the names of the {placeholders} in a path template, in order.
func PathParams(template string) []string {
	var names []string
	for {
		i := strings.IndexByte(template, '{')
		if i < 0 {
			return names
		}
		j := strings.IndexByte(template[i:], '}')
		if j < 0 {
			return names
		}
		names = append(names, template[i+1:i+j])
		template = template[i+j+1:]
	}
}

// String describes the stack in one line, "flask, dynamodb, server
// Werkzeug/2.2.2", or "" when nothing is known.
func (s Stack) String() string {
	var parts []string
	for _, v := range []string{s.Framework, s.Datastore} {
		if v != "" {
			parts = append(parts, v)
		}
	}
	if s.Server != "" {
		parts = append(parts, "server "+s.Server)
	}
	return strings.Join(parts, ", ")
}
