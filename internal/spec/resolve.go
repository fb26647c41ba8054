package spec

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/pb33f/go-yaml"
)

// source is one document that $refs can point into: the spec itself or a
// file it references.
type source struct {
	// name is how messages refer to the document: "" for the spec itself,
	// the file's path relative to the spec's directory otherwise.
	name string
	// key identifies the document in schema-cache keys.
	key string
	// dir is where relative file references are resolved from; "" means
	// file references are not followed.
	dir  string
	root *yaml.Node
}

// loc formats a location for messages: a JSON pointer in the spec, or
// file#pointer in a referenced file.
func (s *source) loc(at string) string {
	if s.name == "" {
		if at == "" {
			return "/"
		}
		return at
	}
	return s.name + "#" + at
}

// target is where a $ref led.
type target struct {
	node *yaml.Node
	src  *source
	at   string // JSON pointer of node in src
	name string // the component name: last pointer token, or file base name
	key  string // src.key + "#" + at, unique per schema
}

// maxHops bounds chains of references to references.
const maxHops = 32

// follow resolves n while it is a {$ref: ...} object, returning the
// object finally reached. ok is false when the reference could not be
// followed; an error is recorded if it should have been.
func (p *parser) follow(n *yaml.Node, src *source, at string) (*yaml.Node, *source, string, bool) {
	for hop := 0; hop < maxHops; hop++ {
		ref := get(n, "$ref")
		if ref == nil {
			return n, src, at, true
		}
		t, ok := p.resolve(str(ref), src, at)
		if !ok {
			return nil, nil, "", false
		}
		n, src, at = t.node, t.src, t.at
	}
	p.fail(fmt.Errorf("$ref chain longer than %d at %s", maxHops, src.loc(at)))
	return nil, nil, "", false
}

// resolve finds what ref, written in src at pointer at, points to. It
// records an error for references that should resolve and do not: local
// pointers that lead nowhere and files that cannot be read. References
// Merlon does not follow (remote URLs, files when Options.BaseDir is
// empty) return ok false with only the name filled in.
func (p *parser) resolve(ref string, src *source, at string) (target, bool) {
	file, frag, _ := strings.Cut(ref, "#")
	t := target{name: refName(file, frag)}
	doc := src
	if file != "" {
		if strings.Contains(file, "://") || src.dir == "" {
			return t, false
		}
		var ok bool
		if doc, ok = p.load(file, src, ref, at); !ok {
			return t, false
		}
	}
	if frag != "" && !strings.HasPrefix(frag, "/") {
		p.fail(fmt.Errorf("unresolved $ref %q at %s: only JSON pointer fragments are supported", ref, src.loc(at)))
		return t, false
	}
	n := p.lookup(doc.root, frag)
	if n == nil {
		p.fail(fmt.Errorf("unresolved $ref %q at %s", ref, src.loc(at)))
		return t, false
	}
	t.node, t.src, t.at = n, doc, frag
	t.key = doc.key + "#" + frag
	return t, true
}

// load reads and parses a referenced file once per Parse.
func (p *parser) load(file string, from *source, ref, at string) (*source, bool) {
	if u, err := url.PathUnescape(file); err == nil {
		file = u
	}
	path := filepath.Clean(filepath.Join(from.dir, filepath.FromSlash(file)))
	if filepath.IsAbs(filepath.FromSlash(file)) {
		path = filepath.Clean(filepath.FromSlash(file))
	}
	if s, ok := p.files[path]; ok {
		return s, s != nil
	}
	p.files[path] = nil
	data, err := os.ReadFile(path)
	if err != nil {
		p.fail(fmt.Errorf("unresolved $ref %q at %s: %w", ref, from.loc(at), err))
		return nil, false
	}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		p.fail(fmt.Errorf("unresolved $ref %q at %s: parse %s: %w", ref, from.loc(at), file, err))
		return nil, false
	}
	name := path
	if rel, err := filepath.Rel(p.opts.BaseDir, path); err == nil {
		name = filepath.ToSlash(rel)
	}
	s := &source{name: name, key: path, dir: filepath.Dir(path), root: &root}
	p.files[path] = s
	return s, true
}

// lookup walks a JSON pointer fragment ("" or "/a/b") from root.
func (p *parser) lookup(root *yaml.Node, frag string) *yaml.Node {
	n := deref(root)
	if frag == "" {
		return n
	}
	if strings.Contains(frag, "%") {
		if u, err := url.PathUnescape(frag); err == nil {
			frag = u
		}
	}
	for _, tok := range strings.Split(frag[1:], "/") {
		tok = unescape(tok)
		if n != nil {
			p.materialize(n)
		}
		switch {
		case n == nil:
			return nil
		case n.Kind == yaml.MappingNode:
			v, ok := p.member(n, tok)
			if !ok {
				return nil
			}
			n = v
		case n.Kind == yaml.SequenceNode:
			i, err := strconv.Atoi(tok)
			if err != nil || i < 0 || i >= len(n.Content) {
				return nil
			}
			n = deref(n.Content[i])
		default:
			return nil
		}
	}
	if n != nil {
		p.materialize(n)
	}
	return n
}

// refName is the name a reference gives its target: the last pointer
// token ("Pet" for #/components/schemas/Pet), or the file's base name
// without extension when the reference is a whole file.
func refName(file, frag string) string {
	if frag != "" && frag != "/" {
		if u, err := url.PathUnescape(frag); err == nil {
			frag = u
		}
		return unescape(frag[strings.LastIndexByte(frag, '/')+1:])
	}
	base := filepath.Base(filepath.FromSlash(file))
	return strings.TrimSuffix(base, filepath.Ext(base))
}

// indexFrom is the size from which a mapping's keys are indexed for
// lookup: below it a scan is as quick as hashing.
const indexFrom = 16

// member returns the value under key in mapping n (nil for a null value)
// and whether the key is there. $refs into one large mapping
// (#/components/schemas/... with thousands of schemas) are resolved
// through an index built on first use, so that resolving every reference
// in a large document does not walk the mapping once per reference.
func (p *parser) member(n *yaml.Node, key string) (*yaml.Node, bool) {
	if len(n.Content) < 2*indexFrom {
		if !has(n, key) {
			return nil, false
		}
		return get(n, key), true
	}
	ix, ok := p.keys[n]
	if !ok {
		ix = make(map[string]*yaml.Node, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := deref(n.Content[i])
			if k == nil {
				continue
			}
			if _, dup := ix[k.Value]; !dup {
				ix[k.Value] = deref(n.Content[i+1])
			}
		}
		if p.keys == nil {
			p.keys = make(map[*yaml.Node]map[string]*yaml.Node)
		}
		p.keys[n] = ix
	}
	v, ok := ix[key]
	return v, ok
}
