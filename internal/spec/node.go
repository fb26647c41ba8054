package spec

import (
	"math"
	"strconv"
	"strings"

	"github.com/pb33f/go-yaml"
)

// deref follows YAML aliases and unwraps a document node, so callers see
// the mapping, sequence or scalar itself.
func deref(n *yaml.Node) *yaml.Node {
	for i := 0; n != nil && i < 32; i++ {
		switch n.Kind {
		case yaml.AliasNode:
			n = n.Alias
		case yaml.DocumentNode:
			if len(n.Content) == 0 {
				return nil
			}
			n = n.Content[0]
		default:
			return n
		}
	}
	return n
}

// get returns the value under key in mapping n, or nil.
func get(n *yaml.Node, key string) *yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k != nil && k.Value == key {
			return deref(n.Content[i+1])
		}
	}
	return nil
}

// has reports whether mapping n has key, whatever its value (even null).
func has(n *yaml.Node, key string) bool {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := deref(n.Content[i]); k != nil && k.Value == key {
			return true
		}
	}
	return false
}

// pairs calls fn for each key and value of mapping n, in document order.
func pairs(n *yaml.Node, fn func(key string, val *yaml.Node)) {
	n = deref(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := deref(n.Content[i])
		if k == nil || k.Kind != yaml.ScalarNode {
			continue
		}
		fn(k.Value, deref(n.Content[i+1]))
	}
}

// items returns the elements of sequence n, or nil.
func items(n *yaml.Node) []*yaml.Node {
	n = deref(n)
	if n == nil || n.Kind != yaml.SequenceNode {
		return nil
	}
	return n.Content
}

// str returns the scalar value of n, or "".
func str(n *yaml.Node) string {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		return ""
	}
	return n.Value
}

// strs returns the scalar elements of sequence n.
func strs(n *yaml.Node) []string {
	var out []string
	for _, e := range items(n) {
		if s := str(e); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// boolean reads a YAML boolean scalar; anything else is false.
func boolean(n *yaml.Node) bool {
	v, ok := boolValue(n)
	return ok && v
}

func boolValue(n *yaml.Node) (bool, bool) {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return false, false
	}
	switch strings.ToLower(n.Value) {
	case "true":
		return true, true
	case "false":
		return false, true
	}
	return false, false
}

func intPtr(n *yaml.Node) *int64 {
	f := floatPtr(n)
	if f == nil || *f != math.Trunc(*f) || math.Abs(*f) > math.MaxInt64/2 {
		return nil
	}
	v := int64(*f)
	return &v
}

func floatPtr(n *yaml.Node) *float64 {
	n = deref(n)
	if n == nil || n.Kind != yaml.ScalarNode {
		return nil
	}
	v, err := strconv.ParseFloat(n.Value, 64)
	if err != nil || math.IsNaN(v) {
		return nil
	}
	return &v
}

// valueBudget bounds how many nodes value conversion may visit in one
// document, so YAML alias bombs cannot make Parse explode in memory.
const valueBudget = 1 << 20

// value converts n to plain Go data: map[string]any, []any, string, int64
// (integers), float64, bool or nil. It spends from *budget and returns nil
// once the budget is gone.
func value(n *yaml.Node, budget *int, depth int) any {
	n = deref(n)
	if n == nil || *budget <= 0 || depth > 64 {
		return nil
	}
	*budget--
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := deref(n.Content[i])
			if k == nil || k.Kind != yaml.ScalarNode {
				continue
			}
			m[k.Value] = value(n.Content[i+1], budget, depth+1)
		}
		return m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, e := range n.Content {
			s = append(s, value(e, budget, depth+1))
		}
		return s
	case yaml.ScalarNode:
		return scalar(n)
	}
	return nil
}

func scalar(n *yaml.Node) any {
	switch n.Tag {
	case "!!null":
		return nil
	case "!!bool":
		if b, ok := boolValue(n); ok {
			return b
		}
	case "!!int":
		if v, err := strconv.ParseInt(n.Value, 0, 64); err == nil {
			return v
		}
		if v, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return v
		}
	case "!!float":
		if v, err := strconv.ParseFloat(n.Value, 64); err == nil {
			return v
		}
	}
	return n.Value
}

// escape encodes one JSON pointer reference token (RFC 6901).
func escape(tok string) string {
	if !strings.ContainsAny(tok, "~/") {
		return tok
	}
	return escaper.Replace(tok)
}

// The pointer replacers are built once: building one per call showed in
// profiles of large documents, which escape a token per path.
var (
	escaper   = strings.NewReplacer("~", "~0", "/", "~1")
	unescaper = strings.NewReplacer("~1", "/", "~0", "~")
)

// unescape decodes one JSON pointer reference token.
func unescape(tok string) string {
	if !strings.Contains(tok, "~") {
		return tok
	}
	return unescaper.Replace(tok)
}

// ptr joins a JSON pointer and more reference tokens.
func ptr(base string, toks ...string) string {
	var b strings.Builder
	b.WriteString(base)
	for _, t := range toks {
		b.WriteByte('/')
		b.WriteString(escape(t))
	}
	return b.String()
}
