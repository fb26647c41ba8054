package mdtext

import (
	"reflect"
	"testing"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []Block
	}{
		{"paragraph with spans", "Use `a` and **b**\nhere.", []Block{{Kind: "p", Spans: []Span{
			{Text: "Use "}, {Text: "a", Code: true}, {Text: " and "}, {Text: "b", Strong: true}, {Text: " here."}}}}},
		{"fence keeps lines", "```go\nx := 1\n\ty := 2\n```", []Block{{Kind: "pre", Code: "x := 1\n\ty := 2"}}},
		{"unclosed fence still code", "```\nx", []Block{{Kind: "pre", Code: "x"}}},
		{"lists", "- a\n- b\n\n1. c", []Block{
			{Kind: "ul", Items: [][]Span{{{Text: "a"}}, {{Text: "b"}}}},
			{Kind: "ol", Items: [][]Span{{{Text: "c"}}}}}},
		{"unpaired marker is text", "a `b", []Block{{Kind: "p", Spans: []Span{{Text: "a `b"}}}}},
		{"markup is text", "<b>x</b>", []Block{{Kind: "p", Spans: []Span{{Text: "<b>x</b>"}}}}},
		{"hidden runes made visible", "a\u202eb", []Block{{Kind: "p", Spans: []Span{{Text: `a\u202eb`}}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Parse(tt.src); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q) = %#v, want %#v", tt.src, got, tt.want)
			}
		})
	}
}
