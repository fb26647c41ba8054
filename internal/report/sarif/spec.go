package sarif

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"

	"github.com/merlonsec/merlon/internal/visible"
)

// operationLines finds the line of each operation in an OpenAPI or Swagger
// document (YAML or JSON, which YAML reads too): the line of its method key
// under paths, by "METHOD /path". A document it cannot parse gives none.
func operationLines(data []byte) map[string]int {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil || len(doc.Content) == 0 {
		return nil
	}
	paths := lookup(doc.Content[0], "paths")
	if paths == nil || paths.Kind != yaml.MappingNode {
		return nil
	}
	lines := map[string]int{}
	for i := 0; i+1 < len(paths.Content); i += 2 {
		path, item := paths.Content[i], paths.Content[i+1]
		if item.Kind != yaml.MappingNode {
			continue
		}
		for j := 0; j+1 < len(item.Content); j += 2 {
			key := item.Content[j]
			switch m := strings.ToLower(key.Value); m {
			case "get", "put", "post", "delete", "options", "head", "patch", "trace":
				lines[strings.ToUpper(m)+" "+path.Value] = key.Line
			}
		}
	}
	return lines
}

// lookup returns the value of key in a mapping node, or nil.
func lookup(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// normalOp writes a finding's operation as operationLines keys it:
// "PATCH /users/{id}".
func normalOp(op string) string {
	method, path, ok := strings.Cut(strings.TrimSpace(op), " ")
	if !ok {
		return op
	}
	return strings.ToUpper(method) + " " + strings.TrimSpace(path)
}

// shown writes control characters, bidi overrides and invalid UTF-8 as
// visible escapes and line breaks and tabs as spaces.
func shown(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case r == '\n' || r == '\t':
			b.WriteByte(' ')
		case r == '\r':
			if !strings.HasPrefix(s[i+1:], "\n") {
				b.WriteByte(' ')
			}
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case visible.Hidden(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}
