// Package config reads merlon.yaml: the scan target and its identities,
// kept in a file so that credentials (from environment variables) and
// login flows need not be spelled out on every command line. The format
// is documented in docs/identities.md.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// File is merlon.yaml. Every field is optional; flags override it.
type File struct {
	Target     string            `yaml:"target"`
	Spec       string            `yaml:"spec"`
	Profile    string            `yaml:"profile"`
	Headers    map[string]string `yaml:"headers"`
	Identities []Identity        `yaml:"identities"`
}

// Identity is someone Merlon acts as: static headers and cookies, a login
// flow, or both (the login's token is added to the static headers).
type Identity struct {
	Name    string            `yaml:"name"`
	Role    string            `yaml:"role"`
	Headers map[string]string `yaml:"headers"`
	Cookies map[string]string `yaml:"cookies"`
	Login   *Login            `yaml:"login"`
	Check   *Check            `yaml:"check"`
}

// Login is a request whose response yields the identity's token.
type Login struct {
	Method  string            `yaml:"method"`
	Path    string            `yaml:"path"`
	Headers map[string]string `yaml:"headers"`
	// Body is sent as JSON when it is a mapping or a list, as is when it
	// is a string.
	Body any `yaml:"body"`
	// Form is sent as application/x-www-form-urlencoded.
	Form  map[string]string `yaml:"form"`
	Token *Token            `yaml:"token"`
	// Cookie names a cookie the response sets, used instead of Token.
	Cookie string `yaml:"cookie"`
}

// Token says where the token is in the login response and how to send it.
type Token struct {
	JSON   string `yaml:"json"`
	Header string `yaml:"header"`
	Prefix string `yaml:"prefix"`
}

// Check is the request the preflight sends to prove an identity works.
type Check struct {
	Method string `yaml:"method"`
	Path   string `yaml:"path"`
}

// ErrUnsetVariable marks a ${VAR} whose variable is not set.
var ErrUnsetVariable = errors.New("environment variable not set")

// Load reads and checks the file at path; getenv looks variables up
// (os.LookupEnv in the CLI).
func Load(path string, getenv func(string) (string, bool)) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	f, err := Parse(data, getenv)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return f, nil
}

// Parse decodes merlon.yaml, rejecting unknown keys (with their line),
// expands ${VAR} in every string value, and checks the identities.
func Parse(data []byte, getenv func(string) (string, bool)) (*File, error) {
	var f File
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		return nil, oneLine(err)
	}
	if err := f.expand(getenv); err != nil {
		return nil, err
	}
	if err := f.validate(); err != nil {
		return nil, err
	}
	return &f, nil
}

var (
	unknownField = regexp.MustCompile(`field (\S+) not found in type \S+`)
	lineBreaks   = strings.NewReplacer("\r", `\r`, "\n", `\n`)
	varRef       = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
)

// oneLine turns yaml.v3's multi-line errors into one line that names the
// unknown key plainly.
func oneLine(err error) error {
	var te *yaml.TypeError
	msgs := []string{strings.TrimPrefix(err.Error(), "yaml: ")}
	if errors.As(err, &te) {
		msgs = te.Errors
	}
	for i, m := range msgs {
		m = unknownField.ReplaceAllString(strings.TrimSpace(m), `unknown key "$1"`)
		// yaml.v3 quotes a multi-line scalar as is; escape its line
		// breaks so that the message stays one line.
		msgs[i] = lineBreaks.Replace(m)
	}
	return errors.New(strings.Join(msgs, "; "))
}

func (f *File) expand(getenv func(string) (string, bool)) error {
	var err error
	ex := func(where string, s *string) {
		if err != nil {
			return
		}
		*s, err = expandString(where, *s, getenv)
	}
	exMap := func(where string, m map[string]string) {
		for _, k := range sortedKeys(m) {
			v := m[k]
			ex(where+"."+k, &v)
			m[k] = v
		}
	}
	ex("target", &f.Target)
	ex("spec", &f.Spec)
	ex("profile", &f.Profile)
	exMap("headers", f.Headers)
	for i := range f.Identities {
		id := &f.Identities[i]
		at := fmt.Sprintf("identities[%d]", i)
		ex(at+".name", &id.Name)
		ex(at+".role", &id.Role)
		exMap(at+".headers", id.Headers)
		exMap(at+".cookies", id.Cookies)
		if l := id.Login; l != nil {
			ex(at+".login.path", &l.Path)
			exMap(at+".login.headers", l.Headers)
			exMap(at+".login.form", l.Form)
			if err == nil {
				l.Body, err = expandTree(at+".login.body", l.Body, getenv)
			}
		}
		if c := id.Check; c != nil {
			ex(at+".check.path", &c.Path)
		}
	}
	return err
}

func expandString(where, s string, getenv func(string) (string, bool)) (string, error) {
	var missing string
	out := varRef.ReplaceAllStringFunc(s, func(ref string) string {
		name := ref[2 : len(ref)-1]
		v, ok := getenv(name)
		if !ok && missing == "" {
			missing = name
		}
		return v
	})
	if missing != "" {
		return "", fmt.Errorf("%s: ${%s}: %w", where, missing, ErrUnsetVariable)
	}
	return out, nil
}

func expandTree(where string, v any, getenv func(string) (string, bool)) (any, error) {
	switch t := v.(type) {
	case string:
		return expandString(where, t, getenv)
	case map[string]any:
		for _, k := range sortedKeys(t) {
			e, err := expandTree(where+"."+k, t[k], getenv)
			if err != nil {
				return nil, err
			}
			t[k] = e
		}
	case []any:
		for i, e := range t {
			e, err := expandTree(fmt.Sprintf("%s[%d]", where, i), e, getenv)
			if err != nil {
				return nil, err
			}
			t[i] = e
		}
	}
	return v, nil
}

func (f *File) validate() error {
	seen := map[string]bool{}
	for i, id := range f.Identities {
		at := fmt.Sprintf("identities[%d]", i)
		switch {
		case id.Name == "":
			return fmt.Errorf("%s: name is required", at)
		case strings.EqualFold(id.Name, "anonymous"):
			return fmt.Errorf("%s: %q is the implicit identity without credentials and cannot be configured", at, id.Name)
		case seen[id.Name]:
			return fmt.Errorf("%s: identity %q is declared twice", at, id.Name)
		}
		seen[id.Name] = true
		if l := id.Login; l != nil {
			if l.Path == "" {
				return fmt.Errorf("%s.login: path is required", at)
			}
			hasToken := l.Token != nil && l.Token.JSON != ""
			if hasToken == (l.Cookie != "") {
				return fmt.Errorf("%s.login: set either token.json or cookie", at)
			}
			if l.Body != nil && l.Form != nil {
				return fmt.Errorf("%s.login: set body or form, not both", at)
			}
		} else if len(id.Headers) == 0 && len(id.Cookies) == 0 {
			return fmt.Errorf("%s: identity %q has no headers, cookies or login", at, id.Name)
		}
		if c := id.Check; c != nil && c.Path == "" {
			return fmt.Errorf("%s.check: path is required", at)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
