package fingerprint

import (
	"regexp/syntax"
	"strings"
)

// Most responses match none of the body rules, and running every rule's
// regular expression over every body was the largest CPU cost of a scan
// after the requests themselves. Each body rule therefore carries needles:
// literals of which at least one occurs in any text the rule matches. A
// body holding none of them cannot match, and the expression is not run.

// prefilter is what a rule's body must contain before its expression runs.
type prefilter struct {
	needles []string
	// fold says the needles are lower case and must be looked for in the
	// lower-cased body, because part of the expression ignores case.
	fold bool
}

// newPrefilter derives the needles of pattern; nil means the pattern has
// no literal that every match contains, and the rule always runs.
func newPrefilter(pattern string) *prefilter {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	lits, fold, ok := needles(re.Simplify())
	if !ok {
		return nil
	}
	pf := &prefilter{fold: fold}
	for _, l := range lits {
		if l == "" {
			return nil
		}
		if fold {
			l = strings.ToLower(l)
		}
		pf.needles = append(pf.needles, l)
	}
	return pf
}

// needles returns literals, one of which occurs in every string re
// matches, and whether any of them must be compared ignoring case. ok is
// false when no such set is known.
func needles(re *syntax.Regexp) (lits []string, fold, ok bool) {
	switch re.Op {
	case syntax.OpLiteral:
		return []string{string(re.Rune)}, re.Flags&syntax.FoldCase != 0, true
	case syntax.OpCapture, syntax.OpPlus:
		return needles(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return needles(re.Sub[0])
		}
	case syntax.OpConcat:
		// Any one part's needles will do; the part whose shortest needle
		// is longest filters best.
		best := -1
		for _, sub := range re.Sub {
			l, f, o := needles(sub)
			if !o {
				continue
			}
			if m := shortest(l); m > best {
				best, lits, fold, ok = m, l, f, true
			}
		}
		return lits, fold, ok
	case syntax.OpAlternate:
		for _, sub := range re.Sub {
			l, f, o := needles(sub)
			if !o {
				return nil, false, false
			}
			lits = append(lits, l...)
			fold = fold || f
		}
		return lits, fold, true
	}
	return nil, false, false
}

func shortest(lits []string) int {
	m := -1
	for _, l := range lits {
		if m < 0 || len(l) < m {
			m = len(l)
		}
	}
	return m
}

// bodyText is one body as the prefilters read it, lower-cased at most
// once and only when a folding prefilter asks.
type bodyText struct {
	s     string
	lower string
	ascii int // 0 unknown, 1 ASCII only, 2 not
}

// mayMatch reports whether b holds one of pf's needles. Case folding by
// strings.ToLower agrees with the expression's only for ASCII, so a body
// with other bytes always runs a folding rule's expression.
func (pf *prefilter) mayMatch(b *bodyText) bool {
	if pf == nil {
		return true
	}
	s := b.s
	if pf.fold {
		if b.ascii == 0 {
			b.ascii = 1
			for i := 0; i < len(b.s); i++ {
				if b.s[i] >= 0x80 {
					b.ascii = 2
					break
				}
			}
			if b.ascii == 1 {
				b.lower = strings.ToLower(b.s)
			}
		}
		if b.ascii == 2 {
			return true
		}
		s = b.lower
	}
	for _, n := range pf.needles {
		if strings.Contains(s, n) {
			return true
		}
	}
	return false
}
