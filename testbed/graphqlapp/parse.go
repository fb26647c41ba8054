package graphqlapp

import (
	"fmt"
	"strconv"
	"strings"
)

// This file parses the small subset of GraphQL the testbed needs: one
// operation (query or mutation, optionally named, variable definitions
// skipped), selection sets, aliases, arguments with literal or $variable
// values, and inline fragments. Named fragments and directives are not
// supported; a document using them is a syntax error.

// document is a parsed request.
type document struct {
	mutation bool
	sels     []selection
}

// selection is a field, or an inline fragment when field is nil.
type selection struct {
	field  *field
	onType string
	inline []selection
}

type field struct {
	alias, name string
	args        map[string]any
	sels        []selection
	hasSels     bool
}

// enumValue is a bare name used as a value.
type enumValue string

type parser struct {
	src  string
	pos  int
	vars map[string]any
}

func parse(src string, vars map[string]any) (doc *document, err error) {
	p := &parser{src: src, vars: vars}
	defer func() {
		if r := recover(); r != nil {
			pe, ok := r.(parseError)
			if !ok {
				panic(r)
			}
			doc, err = nil, pe
		}
	}()
	doc = &document{}
	p.skip()
	if name := p.peekName(); name == "query" || name == "mutation" {
		p.name()
		doc.mutation = name == "mutation"
		p.skip()
		if p.peekName() != "" {
			p.name()
		}
		p.skip()
		if p.peek() == '(' { // variable definitions: skipped
			for p.pos < len(p.src) && p.src[p.pos] != ')' {
				p.pos++
			}
			p.expect(')')
		}
	}
	doc.sels = p.selectionSet(0)
	p.skip()
	if p.pos < len(p.src) {
		p.fail("unexpected %q after the operation", p.src[p.pos:p.pos+1])
	}
	return doc, nil
}

type parseError string

func (e parseError) Error() string { return string(e) }

func (p *parser) fail(format string, args ...any) {
	panic(parseError("Syntax Error: " + fmt.Sprintf(format, args...)))
}

// skip passes whitespace, commas and comments.
func (p *parser) skip() {
	for p.pos < len(p.src) {
		switch c := p.src[p.pos]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',':
			p.pos++
		case c == '#':
			for p.pos < len(p.src) && p.src[p.pos] != '\n' {
				p.pos++
			}
		default:
			return
		}
	}
}

func (p *parser) peek() byte {
	p.skip()
	if p.pos >= len(p.src) {
		return 0
	}
	return p.src[p.pos]
}

func (p *parser) expect(c byte) {
	if p.peek() != c {
		p.fail("expected %q at offset %d", c, p.pos)
	}
	p.pos++
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9')
}

func (p *parser) peekName() string {
	p.skip()
	end := p.pos
	for end < len(p.src) && isNameByte(p.src[end], end == p.pos) {
		end++
	}
	return p.src[p.pos:end]
}

func (p *parser) name() string {
	n := p.peekName()
	if n == "" {
		p.fail("expected a name at offset %d", p.pos)
	}
	p.pos += len(n)
	return n
}

// maxNesting bounds the parser's recursion, whatever depth limit the
// server applies afterwards, so no request can exhaust the stack.
const maxNesting = 200

func (p *parser) selectionSet(depth int) []selection {
	if depth > maxNesting {
		p.fail("document nested too deeply")
	}
	p.expect('{')
	var sels []selection
	for p.peek() != '}' {
		if p.pos >= len(p.src) {
			p.fail("unterminated selection set")
		}
		if strings.HasPrefix(p.src[p.pos:], "...") {
			p.pos += 3
			if p.name() != "on" {
				p.fail("only inline fragments are supported")
			}
			on := p.name()
			sels = append(sels, selection{onType: on, inline: p.selectionSet(depth + 1)})
			continue
		}
		f := &field{name: p.name()}
		if p.peek() == ':' {
			p.pos++
			f.alias, f.name = f.name, p.name()
		}
		if p.peek() == '(' {
			p.pos++
			f.args = map[string]any{}
			for p.peek() != ')' {
				if p.pos >= len(p.src) {
					p.fail("unterminated arguments")
				}
				n := p.name()
				p.expect(':')
				f.args[n] = p.value(depth)
			}
			p.pos++
		}
		if p.peek() == '{' {
			f.sels, f.hasSels = p.selectionSet(depth+1), true
		}
		sels = append(sels, selection{field: f})
	}
	p.pos++
	if len(sels) == 0 {
		p.fail("empty selection set")
	}
	return sels
}

func (p *parser) value(depth int) any {
	if depth > maxNesting {
		p.fail("value nested too deeply")
	}
	switch c := p.peek(); {
	case c == '$':
		p.pos++
		return p.vars[p.name()]
	case c == '"':
		return p.str()
	case c == '[':
		p.pos++
		list := []any{}
		for p.peek() != ']' {
			if p.pos >= len(p.src) {
				p.fail("unterminated list")
			}
			list = append(list, p.value(depth+1))
		}
		p.pos++
		return list
	case c == '{':
		p.pos++
		obj := map[string]any{}
		for p.peek() != '}' {
			if p.pos >= len(p.src) {
				p.fail("unterminated object")
			}
			n := p.name()
			p.expect(':')
			obj[n] = p.value(depth + 1)
		}
		p.pos++
		return obj
	case c == '-' || (c >= '0' && c <= '9'):
		end := p.pos + 1
		for end < len(p.src) && strings.IndexByte("0123456789.eE+-", p.src[end]) >= 0 {
			end++
		}
		num := p.src[p.pos:end]
		p.pos = end
		if i, err := strconv.Atoi(num); err == nil {
			return i
		}
		f, err := strconv.ParseFloat(num, 64)
		if err != nil {
			p.fail("bad number %q", num)
		}
		return f
	}
	switch n := p.name(); n {
	case "true":
		return true
	case "false":
		return false
	case "null":
		return nil
	default:
		return enumValue(n)
	}
}

func (p *parser) str() string {
	p.pos++ // opening quote
	var b strings.Builder
	for p.pos < len(p.src) {
		c := p.src[p.pos]
		switch {
		case c == '"':
			p.pos++
			return b.String()
		case c == '\\' && p.pos+1 < len(p.src):
			p.pos++
			switch e := p.src[p.pos]; e {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			case 'u':
				if p.pos+4 < len(p.src) {
					if r, err := strconv.ParseUint(p.src[p.pos+1:p.pos+5], 16, 32); err == nil {
						b.WriteRune(rune(r))
						p.pos += 4
					}
				}
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
		}
		p.pos++
	}
	p.fail("unterminated string")
	return ""
}

// depthOf is the nesting depth of a selection set: 1 for { a }.
func depthOf(sels []selection) int {
	max := 0
	for _, s := range sels {
		d := 1
		switch {
		case s.field != nil && s.field.hasSels:
			d += depthOf(s.field.sels)
		case s.field == nil:
			d = depthOf(s.inline)
		}
		if d > max {
			max = d
		}
	}
	return max
}

// aliasesOf counts aliased fields anywhere in the selection set.
func aliasesOf(sels []selection) int {
	n := 0
	for _, s := range sels {
		if s.field == nil {
			n += aliasesOf(s.inline)
			continue
		}
		if s.field.alias != "" {
			n++
		}
		n += aliasesOf(s.field.sels)
	}
	return n
}
