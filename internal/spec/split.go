package spec

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pb33f/go-yaml"
)

// splitFrom is the document size from which a JSON document's paths are
// parsed one path item at a time (see split). Below it the whole tree
// (about nine times the document) is small enough, and parsing whole is
// quicker: about 30 ms against 50 ms for a 1 MB document.
const splitFrom = 4 << 20

// Parsing a large document whole costs memory, not time: the node tree of
// a 10 MB spec takes about 90 MB, most of it under "paths", and a scan
// would otherwise carry that peak (and the garbage-collection goal it
// sets) into its first seconds. So for a large JSON document Merlon parses
// the document without its paths (libopenapi still reads it and tells its
// version), keeps each path item as the bytes it came from, and builds a
// path item's tree only while that path is mapped, or when a $ref points
// into it. The trees of mapped path items are dropped as the walk goes on.
// A document that cannot be split this way is parsed whole.

// lazyPaths is a document split by split: skeleton is the document with
// "paths" emptied, items the path items in document order.
type lazyPaths struct {
	skeleton []byte
	keys     []string
	raws     [][]byte // sub-slices of the document, one per key
}

// errNoSplit says a document is parsed whole.
var errNoSplit = errors.New("document not split")

// split finds the top-level "paths" object of a JSON document and cuts it
// into path items. It reads the document with a streaming decoder, so no
// copy of the paths is made; any surprise means errNoSplit.
func split(data []byte) (*lazyPaths, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) == 0 || trimmed[0] != '{' || !utf8.Valid(data) {
		// The YAML parser refuses bytes that are not UTF-8 anywhere,
		// even in parts of paths that Merlon never reads.
		return nil, errNoSplit
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errNoSplit
	}
	var lp *lazyPaths
	var start, end int64
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, errNoSplit
		}
		key, _ := tok.(string)
		if key == "paths" && lp != nil {
			return nil, errNoSplit // a duplicate key: let the parser judge
		}
		if key != "paths" {
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return nil, errNoSplit
			}
			continue
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
			return nil, errNoSplit
		}
		lp = &lazyPaths{}
		start = dec.InputOffset() - 1
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return nil, errNoSplit
			}
			k, ok := tok.(string)
			if !ok {
				return nil, errNoSplit
			}
			var raw json.RawMessage
			if err := dec.Decode(&raw); err != nil {
				return nil, errNoSplit
			}
			off := dec.InputOffset()
			lp.keys = append(lp.keys, k)
			lp.raws = append(lp.raws, data[off-int64(len(raw)):off])
		}
		if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
			return nil, errNoSplit
		}
		end = dec.InputOffset()
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, errNoSplit
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errNoSplit
	}
	if lp == nil || !bytes.Equal(data[start:start+1], []byte("{")) || !bytes.Equal(data[end-1:end], []byte("}")) {
		return nil, errNoSplit
	}
	lp.skeleton = make([]byte, 0, len(data)-int(end-start)+2)
	lp.skeleton = append(lp.skeleton, data[:start]...)
	lp.skeleton = append(lp.skeleton, "{}"...)
	lp.skeleton = append(lp.skeleton, data[end:]...)
	return lp, nil
}

// attach fills the skeleton's empty paths mapping with the path keys and
// a placeholder node (of no kind, so that it reads as nothing) per item,
// and remembers each placeholder's bytes.
func (p *parser) attach(root *yaml.Node, lp *lazyPaths) bool {
	paths := get(root, "paths")
	if paths == nil || paths.Kind != yaml.MappingNode || len(paths.Content) != 0 {
		return false
	}
	p.lazy = make(map[*yaml.Node][]byte, len(lp.keys))
	paths.Content = make([]*yaml.Node, 0, 2*len(lp.keys))
	for i, k := range lp.keys {
		val := &yaml.Node{}
		p.lazy[val] = lp.raws[i]
		paths.Content = append(paths.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, val)
	}
	return true
}

// materialize builds the tree of a placeholder in place. A fragment that
// does not read is recorded in p.lazyErr, and Parse then parses the whole
// document instead.
func (p *parser) materialize(n *yaml.Node) {
	raw, ok := p.lazy[n]
	if !ok || n.Kind != 0 {
		return
	}
	r := &jsonReader{data: raw}
	v, err := r.value(0)
	if err == nil && r.skip() != len(raw) {
		err = errors.New("data after the path item")
	}
	if err != nil {
		if p.lazyErr == nil {
			p.lazyErr = err
		}
		return
	}
	*n = *v
}

// maxJSONDepth bounds the nesting of a path item, as the whole-document
// parser bounds a document's.
const maxJSONDepth = 1000

// jsonReader reads one path item, which split has already checked is
// valid JSON, into the nodes the YAML parser makes of it: strings are
// !!str, numbers are tagged by numberTag (their text kept), then !!bool
// and !!null. It is several times
// quicker than encoding/json's token stream, which mattered once each
// path item is read on its own; anything it does not expect is an error,
// and the document is then parsed whole.
type jsonReader struct {
	data []byte
	pos  int
}

var errJSON = errors.New("unexpected JSON in a path item")

// skip moves past white space and returns the position.
func (r *jsonReader) skip() int {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return r.pos
		}
	}
	return r.pos
}

func (r *jsonReader) value(depth int) (*yaml.Node, error) {
	if depth > maxJSONDepth {
		return nil, errors.New("path item nested too deep")
	}
	if r.skip() >= len(r.data) {
		return nil, errJSON
	}
	switch c := r.data[r.pos]; {
	case c == '{' || c == '[':
		return r.collection(depth)
	case c == '"':
		s, err := r.str()
		if err != nil {
			return nil, err
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle, Value: s}, nil
	case c == '-' || c >= '0' && c <= '9':
		start := r.pos
		for r.pos < len(r.data) && strings.IndexByte("+-.eE0123456789", r.data[r.pos]) >= 0 {
			r.pos++
		}
		text := string(r.data[start:r.pos])
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: numberTag(text), Value: text}, nil
	}
	for _, lit := range [...]struct{ text, tag string }{{"true", "!!bool"}, {"false", "!!bool"}, {"null", "!!null"}} {
		if bytes.HasPrefix(r.data[r.pos:], []byte(lit.text)) {
			r.pos += len(lit.text)
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: lit.tag, Value: lit.text}, nil
		}
	}
	return nil, errJSON
}

// numberTag tags a JSON number as the YAML resolver tags a plain scalar:
// negative zero is a float (so that its sign survives), then an integer
// when it fits 64 bits, signed or not, then a float when it parses as one,
// else a string (a literal out of a float's range).
func numberTag(text string) string {
	if text == "-0" || text == "-0.0" {
		return "!!float"
	}
	if _, err := strconv.ParseInt(text, 10, 64); err == nil {
		return "!!int"
	}
	if _, err := strconv.ParseUint(text, 10, 64); err == nil {
		return "!!int"
	}
	if _, err := strconv.ParseFloat(text, 64); err == nil {
		return "!!float"
	}
	return "!!str"
}

// collection reads an object or an array; r.pos is at its opening bracket.
func (r *jsonReader) collection(depth int) (*yaml.Node, error) {
	n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle}
	closing := byte('}')
	if r.data[r.pos] == '[' {
		n.Kind, n.Tag, closing = yaml.SequenceNode, "!!seq", ']'
	}
	r.pos++
	for first := true; ; first = false {
		if r.skip() >= len(r.data) {
			return nil, errJSON
		}
		if r.data[r.pos] == closing {
			r.pos++
			return n, nil
		}
		if !first {
			if r.data[r.pos] != ',' {
				return nil, errJSON
			}
			r.pos++
			r.skip()
		}
		if n.Kind == yaml.MappingNode {
			if r.pos >= len(r.data) || r.data[r.pos] != '"' {
				return nil, errJSON
			}
			k, err := r.str()
			if err != nil {
				return nil, err
			}
			if r.skip() >= len(r.data) || r.data[r.pos] != ':' {
				return nil, errJSON
			}
			r.pos++
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Style: yaml.DoubleQuotedStyle, Value: k})
		}
		v, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		n.Content = append(n.Content, v)
	}
}

// str reads a string; r.pos is at its opening quote. Strings with escapes
// are decoded by encoding/json, which the others need not pay for.
func (r *jsonReader) str() (string, error) {
	start := r.pos
	plain := true
	for r.pos++; r.pos < len(r.data); r.pos++ {
		switch r.data[r.pos] {
		case '\\':
			plain = false
			r.pos++
		case '"':
			r.pos++
			raw := r.data[start:r.pos]
			if !utf8.Valid(raw) {
				// The YAML parser refuses such a document; so does
				// this reader, and the whole parse says why.
				return "", errors.New("string in a path item is not UTF-8")
			}
			if plain {
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", err
			}
			return s, nil
		}
	}
	return "", errJSON
}

// release drops a placeholder's tree once its path item is mapped; it is
// built again if a later $ref points into it.
func (p *parser) release(n *yaml.Node) {
	if _, ok := p.lazy[n]; ok {
		*n = yaml.Node{}
	}
}
