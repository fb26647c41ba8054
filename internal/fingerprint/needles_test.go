package fingerprint

import (
	"math/rand/v2"
	"reflect"
	"regexp/syntax"
	"strings"
	"testing"
	"unicode"
)

func TestNewPrefilter(t *testing.T) {
	tests := []struct {
		name, pattern string
		want          *prefilter
	}{
		{"literal", `Whitelabel Error Page`, &prefilter{needles: []string{"Whitelabel Error Page"}}},
		{"longest part of a concatenation", `goroutine \d+ \[running\]:`, &prefilter{needles: []string{" [running]:"}}},
		{"alternation", `\bpq: |org\.postgresql`, &prefilter{needles: []string{"pq: ", "org.postgresql"}}},
		{"ignoring case", `(?i)\bdynamodb\b`, &prefilter{needles: []string{"dynamodb"}, fold: true}},
		{"one branch ignores case", `(?i:abc)|DEF`, &prefilter{needles: []string{"abc", "def"}, fold: true}},
		{"repeat at least once", `(?:abc){2,}`, &prefilter{needles: []string{"abc"}}},
		{"no literal", `^\d+[a-f]*$`, nil},
		{"an optional branch", `abc|\d+`, nil},
		{"optional literal", `(?:abc)?\d`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := newPrefilter(tt.pattern); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("newPrefilter(%q) = %+v, want %+v", tt.pattern, got, tt.want)
			}
		})
	}
}

// TestBodyRulesFiltered: every body rule has needles, or the prefilter
// no longer spares the expressions it was written to spare.
func TestBodyRulesFiltered(t *testing.T) {
	for _, r := range rules {
		if r.header == "" && r.fn == nil && r.pf == nil {
			t.Errorf("body rule %q (%s) has no prefilter", r.what, r.re)
		}
	}
}

// TestPrefilterSound generates texts each body rule's expression matches
// and wants its prefilter to let every one through.
func TestPrefilterSound(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	for _, r := range rules {
		if r.pf == nil {
			continue
		}
		re, err := syntax.Parse(r.re.String(), syntax.Perl)
		if err != nil {
			t.Fatal(err)
		}
		matched := 0
		for range 200 {
			var b strings.Builder
			generate(&b, re, rnd)
			for _, s := range []string{b.String(), "x " + b.String() + " y", strings.ToUpper(b.String())} {
				if !r.re.MatchString(s) {
					continue
				}
				matched++
				if !r.pf.mayMatch(&bodyText{s: s}) {
					t.Errorf("rule %q: prefilter %+v refuses %q, which %s matches", r.what, r.pf, s, r.re)
				}
			}
		}
		if matched == 0 {
			t.Errorf("rule %q: no generated text matched %s", r.what, r.re)
		}
	}
}

// generate writes a random text re is likely to match.
func generate(b *strings.Builder, re *syntax.Regexp, rnd *rand.Rand) {
	switch re.Op {
	case syntax.OpLiteral:
		for _, c := range re.Rune {
			if re.Flags&syntax.FoldCase != 0 && rnd.IntN(2) == 0 {
				c = unicode.SimpleFold(c)
			}
			b.WriteRune(c)
		}
	case syntax.OpCharClass:
		if len(re.Rune) >= 2 {
			i := rnd.IntN(len(re.Rune)/2) * 2
			lo, hi := re.Rune[i], min(re.Rune[i+1], re.Rune[i]+25)
			b.WriteRune(lo + rune(rnd.IntN(int(hi-lo)+1)))
		}
	case syntax.OpAnyChar, syntax.OpAnyCharNotNL:
		b.WriteByte('a' + byte(rnd.IntN(26)))
	case syntax.OpCapture:
		generate(b, re.Sub[0], rnd)
	case syntax.OpConcat:
		for _, s := range re.Sub {
			generate(b, s, rnd)
		}
	case syntax.OpAlternate:
		generate(b, re.Sub[rnd.IntN(len(re.Sub))], rnd)
	case syntax.OpStar, syntax.OpQuest, syntax.OpPlus, syntax.OpRepeat:
		lo, hi := 0, 2
		switch re.Op {
		case syntax.OpQuest:
			hi = 1
		case syntax.OpPlus:
			lo = 1
		case syntax.OpRepeat:
			lo, hi = re.Min, re.Min+1
			if re.Max >= 0 {
				hi = min(hi, re.Max)
			}
		}
		for range lo + rnd.IntN(hi-lo+1) {
			generate(b, re.Sub[0], rnd)
		}
	}
}

// FuzzPrefilter: no body that a rule's expression matches is refused by
// the rule's prefilter.
func FuzzPrefilter(f *testing.F) {
	f.Add("E11000 duplicate key error")
	f.Add(`{"error":"An error occurred (ValidationException) when calling the PutItem operation"}`)
	f.Add("DYNAMODB ſ BotoCore")
	f.Fuzz(func(t *testing.T, body string) {
		for _, r := range rules {
			if r.pf != nil && r.re.MatchString(body) && !r.pf.mayMatch(&bodyText{s: body}) {
				t.Fatalf("rule %q: prefilter %+v refuses %q, which %s matches", r.what, r.pf, body, r.re)
			}
		}
	})
}
