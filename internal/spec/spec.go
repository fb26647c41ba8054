package spec

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/pb33f/go-yaml"
	"github.com/pb33f/libopenapi"
	"github.com/pb33f/libopenapi/datamodel"
)

// Spec is what Merlon takes from an API description.
type Spec struct {
	Info scan.SpecInfo
	// Operations are ordered by path, then by method in the order GET,
	// HEAD, OPTIONS, POST, PUT, PATCH, DELETE, TRACE. Their schemas may be
	// shared between operations and must be treated as read-only.
	Operations []*scan.Operation
	// SecuritySchemes are the document's schemes by name.
	SecuritySchemes map[string]SecurityScheme
	// Warnings are the problems that did not stop the parse, each naming
	// the JSON pointer where it is: an operation that is not an object, a
	// parameter without a name or with an unknown location, a schema type
	// JSON Schema does not have. What they name was skipped or ignored, so
	// a user must see them.
	Warnings []string
}

// SecurityScheme is one way the API authenticates callers. Type is
// "apiKey", "http", "oauth2", "openIdConnect" or "mutualTLS"; Swagger 2.0
// "basic" becomes Type "http" with Scheme "basic". Scheme is lower case.
type SecurityScheme struct {
	Type, Scheme, In, Name, BearerFormat string
}

// Options tune Parse.
type Options struct {
	// Source names the document in messages and in SpecInfo.Source.
	Source string
	// BaseDir is where relative file $refs are read from; "" leaves them
	// unresolved (their schemas keep only the referenced name).
	BaseDir string

	// splitFrom overrides the size from which JSON documents are split
	// (see split.go): 0 means splitFrom, a negative value never. Tests
	// set it to run both ways on the same documents.
	splitFrom int
}

// methods lists the operation keys of a path item in Merlon's order.
var methods = []string{"get", "head", "options", "post", "put", "patch", "delete", "trace"}

// parser holds the state of one Parse.
type parser struct {
	opts  Options
	v2    bool
	v31   bool
	root  *source
	files map[string]*source
	cache map[string]*scan.Schema
	keys  map[*yaml.Node]map[string]*yaml.Node // see member
	// lazy holds the bytes of path items not yet parsed (see split.go);
	// lazyErr is the first that would not parse.
	lazy    map[*yaml.Node][]byte
	lazyErr error
	budget  int // for value conversion
	steps   int // schema conversions so far
	depth   int // current schema nesting
	err     error
	// warnings and dropped collect what warn reports.
	warnings []string
	dropped  int
	warned   map[string]bool
}

// maxWarnings bounds the warnings one document yields: a spec that is
// wrong throughout needs a few examples, not thousands of lines.
const maxWarnings = 20

// warn records a problem at the JSON pointer at that did not stop the
// parse.
func (p *parser) warn(at, format string, args ...any) {
	// A $ref'd part is read once per operation that uses it; its
	// problem is one problem.
	msg := fmt.Sprintf("spec #%s: ", at) + fmt.Sprintf(format, args...)
	if p.warned[msg] {
		return
	}
	if p.warned == nil {
		p.warned = make(map[string]bool)
	}
	p.warned[msg] = true
	if len(p.warnings) >= maxWarnings {
		p.dropped++
		return
	}
	p.warnings = append(p.warnings, msg)
}

// fail records the first error; later ones are usually its consequences.
func (p *parser) fail(err error) {
	if p.err == nil {
		p.err = err
	}
}

// Parse reads an OpenAPI 3.0/3.1 or Swagger 2.0 document, JSON or YAML.
// Errors are one line and name the problem and where it is. Parse never
// panics: a panic inside is returned as an error.
func Parse(data []byte, opts Options) (s *Spec, err error) {
	name := opts.Source
	if name == "" {
		name = "document"
	}
	defer func() {
		if r := recover(); r != nil {
			s, err = nil, fmt.Errorf("parse spec %s: internal error: %v", name, r)
		}
	}()
	s, err = parse(data, opts)
	if err != nil {
		return nil, fmt.Errorf("parse spec %s: %w", name, err)
	}
	return s, nil
}

func parse(data []byte, opts Options) (*Spec, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty document")
	}
	from := opts.splitFrom
	if from == 0 {
		from = splitFrom
	}
	if from > 0 && len(data) >= from {
		if lp, err := split(data); err == nil {
			// Any trouble with the split document, even an error in the
			// spec itself, is judged again on the whole document, so that
			// messages are the same either way.
			if s, err := parseDoc(lp.skeleton, opts, lp); err == nil {
				return s, nil
			}
		}
	}
	return parseDoc(data, opts, nil)
}

// parseDoc parses data, which is the skeleton of a split document when lp
// is not nil.
func parseDoc(data []byte, opts Options, lp *lazyPaths) (*Spec, error) {
	cfg := datamodel.NewDocumentConfiguration()
	cfg.Logger = slog.New(slog.DiscardHandler) // library code never prints
	doc, err := libopenapi.NewDocumentWithConfiguration(data, cfg)
	if err != nil {
		return nil, explain(data, err)
	}
	info := doc.GetSpecInfo()
	root := deref(info.RootNode)
	if root == nil || root.Kind != yaml.MappingNode {
		return nil, errors.New("not an OpenAPI or Swagger document (not a mapping)")
	}
	p := &parser{
		opts:   opts,
		files:  make(map[string]*source),
		cache:  make(map[string]*scan.Schema),
		budget: valueBudget,
	}
	key := "root"
	if opts.BaseDir != "" {
		if abs, err := filepath.Abs(opts.BaseDir); err == nil {
			p.opts.BaseDir = abs
		}
		key = filepath.Join(p.opts.BaseDir, filepath.Base(opts.Source))
	}
	if lp != nil && !p.attach(root, lp) {
		return nil, errNoSplit
	}
	p.root = &source{key: key, dir: p.opts.BaseDir, root: root}
	p.files[key] = p.root

	version := info.Version
	switch {
	case has(root, "swagger"):
		if version != "2.0" {
			return nil, fmt.Errorf("unsupported Swagger version %q (want 2.0)", version)
		}
		p.v2 = true
	case strings.HasPrefix(version, "3.0.") || version == "3.0":
	case strings.HasPrefix(version, "3.1") || strings.HasPrefix(version, "3.2"):
		p.v31 = true
	default:
		return nil, fmt.Errorf("unsupported OpenAPI version %q (want 3.0, 3.1 or Swagger 2.0)", version)
	}
	out := &Spec{
		Info: scan.SpecInfo{
			Source:  opts.Source,
			Version: version,
			Title:   str(get(get(root, "info"), "title")),
		},
		SecuritySchemes: make(map[string]SecurityScheme),
	}
	if p.v2 {
		p.swagger(root, out)
	} else {
		p.openapi(root, out)
	}
	if p.lazyErr != nil {
		return nil, errNoSplit
	}
	if p.err != nil {
		return nil, p.err
	}
	out.Warnings = p.warnings
	if p.dropped > 0 {
		out.Warnings = append(out.Warnings, fmt.Sprintf("spec: %d more problems like these", p.dropped))
	}
	return out, nil
}

// explain turns libopenapi's refusal into Merlon's message, re-reading the
// document to name a syntax error's line or the missing version key.
func explain(data []byte, err error) error {
	var n yaml.Node
	if yerr := yaml.Unmarshal(data, &n); yerr != nil {
		kind := "YAML"
		if t := bytes.TrimSpace(data); len(t) > 0 && (t[0] == '{' || t[0] == '[') {
			kind = "JSON"
			var syn *json.SyntaxError
			if jerr := json.Unmarshal(data, new(any)); errors.As(jerr, &syn) {
				line := bytes.Count(data[:min(int(syn.Offset), len(data))], []byte{'\n'}) + 1
				return fmt.Errorf("malformed JSON: line %d: %v", line, syn)
			}
		}
		msg := yamlPos.ReplaceAllString(oneLine(yerr.Error()), "line $1, column $2")
		return fmt.Errorf("malformed %s: %s", kind, msg)
	}
	root := deref(&n)
	if root == nil || root.Kind != yaml.MappingNode || (!has(root, "openapi") && !has(root, "swagger")) {
		return errors.New(`not an OpenAPI or Swagger document (no "openapi" or "swagger" key)`)
	}
	if v := get(root, "openapi"); v != nil {
		return fmt.Errorf("unsupported OpenAPI version %q (want 3.0, 3.1 or Swagger 2.0)", str(v))
	}
	if v := get(root, "swagger"); v != nil {
		return fmt.Errorf("unsupported Swagger version %q (want 2.0)", str(v))
	}
	return errors.New(oneLine(err.Error()))
}

// yamlPos matches the parser's "L4.C11" positions, rewritten for people.
var yamlPos = regexp.MustCompile(`\bL(\d+)\.C(\d+)\b`)

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// LoadFile reads and parses the document at path, following file $refs
// relative to its directory.
func LoadFile(path string) (*Spec, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load spec: %w", err)
	}
	return Parse(data, Options{Source: path, BaseDir: filepath.Dir(path)})
}

// Load reads a document from a file path or, for an http(s) URL, through
// fetch. File $refs are not followed in documents fetched by URL.
func Load(ctx context.Context, src string, fetch func(ctx context.Context, url string) ([]byte, error)) (*Spec, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("load spec: %w", err)
	}
	lower := strings.ToLower(src)
	if !strings.HasPrefix(lower, "http://") && !strings.HasPrefix(lower, "https://") {
		return LoadFile(src)
	}
	if fetch == nil {
		return nil, fmt.Errorf("load spec %s: no fetcher for URLs", src)
	}
	data, err := fetch(ctx, src)
	if err != nil {
		return nil, fmt.Errorf("load spec %s: %w", src, err)
	}
	return Parse(data, Options{Source: src})
}

// sniffLimit bounds how much of a YAML document Sniff reads.
const sniffLimit = 64 << 10

// Sniff reports, cheaply, whether data looks like an OpenAPI or Swagger
// document: a JSON object or YAML mapping with a top-level "openapi" or
// "swagger" key. It does not validate the rest.
func Sniff(data []byte) bool {
	data = bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(data) == 0 {
		return false
	}
	if data[0] == '{' {
		dec := json.NewDecoder(bytes.NewReader(data))
		if t, err := dec.Token(); err != nil || t != json.Delim('{') {
			return false
		}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				return false
			}
			var v json.RawMessage
			if err := dec.Decode(&v); err != nil {
				return false
			}
			if k == "openapi" || k == "swagger" {
				return true
			}
		}
		return false
	}
	if len(data) > sniffLimit {
		data = data[:sniffLimit]
	}
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		for _, key := range []string{"openapi", "swagger"} {
			for _, q := range []string{"", `"`, "'"} {
				if bytes.HasPrefix(line, []byte(q+key+q+":")) {
					return true
				}
			}
		}
	}
	return false
}
