package inject

import (
	"bytes"
	"encoding/json"
	"html"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/merlonsec/merlon/internal/scan"
)

// comparer tells whether two answers are the same, once what varies on
// its own (learnt from the baseline samples) and the payload's own text
// (an echo of the input is no proof) are taken out.
type comparer struct {
	// volatile holds the JSON member names whose values differed between
	// baseline samples; their values are ignored.
	volatile map[string]bool
	// digits is set when non-JSON baselines differed only in digits.
	digits bool
	// unstable is set when the baselines differed in a way neither
	// masking explains: differential probes are then meaningless.
	unstable bool
}

var digitRun = regexp.MustCompile(`[0-9]+`)

func newComparer(samples []*scan.Exchange) *comparer {
	c := &comparer{volatile: make(map[string]bool)}
	first := samples[0]
	for _, ex := range samples[1:] {
		if ex.Response.Status != first.Response.Status {
			c.unstable = true
			return c
		}
		a, b := first.Response.Raw, ex.Response.Raw
		if bytes.Equal(a, b) {
			continue
		}
		va, okA := decode(a)
		vb, okB := decode(b)
		if okA && okB {
			diffKeys(va, vb, "", c.volatile)
			continue
		}
		if digitRun.ReplaceAllString(string(a), "#") == digitRun.ReplaceAllString(string(b), "#") {
			c.digits = true
			continue
		}
		c.unstable = true
	}
	return c
}

func (c *comparer) stable() bool { return !c.unstable }

// same reports whether a and b are the same answer, scrubbing the given
// payload texts from each.
func (c *comparer) same(a, b *scan.Exchange, scrub ...string) bool {
	if a == nil || b == nil {
		return false
	}
	return a.Response.Status == b.Response.Status && c.norm(a, scrub) == c.norm(b, scrub)
}

// norm is the answer's body with payload texts removed, volatile JSON
// members dropped and, when the baseline needed it, digits masked.
func (c *comparer) norm(ex *scan.Exchange, scrub []string) string {
	body := string(ex.Response.Raw)
	forms := make([]string, 0, 4*len(scrub))
	for _, s := range scrub {
		if s == "" {
			continue
		}
		j, _ := json.Marshal(s)
		forms = append(forms, s, html.EscapeString(s), strings.Trim(string(j), `"`), url.QueryEscape(s), url.PathEscape(s))
	}
	// Longer texts first, so that a payload goes before its parts.
	sort.Slice(forms, func(i, j int) bool { return len(forms[i]) > len(forms[j]) })
	for _, f := range forms {
		body = strings.ReplaceAll(body, f, "")
	}
	if v, ok := decode([]byte(body)); ok {
		v = drop(v, c.volatile)
		if b, err := json.Marshal(v); err == nil {
			body = string(b)
		}
	}
	if c.digits {
		body = digitRun.ReplaceAllString(body, "#")
	}
	return body
}

func decode(b []byte) (any, bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, false
	}
	_, isObj := v.(map[string]any)
	_, isArr := v.([]any)
	return v, isObj || isArr
}

// diffKeys records in out the member names under which a and b differ.
func diffKeys(a, b any, key string, out map[string]bool) {
	switch av := a.(type) {
	case map[string]any:
		bv, ok := b.(map[string]any)
		if !ok {
			out[key] = true
			return
		}
		for k, x := range av {
			diffKeys(x, bv[k], k, out)
		}
		for k := range bv {
			if _, had := av[k]; !had {
				out[k] = true
			}
		}
	case []any:
		bv, ok := b.([]any)
		if !ok || len(av) != len(bv) {
			out[key] = true
			return
		}
		for i := range av {
			diffKeys(av[i], bv[i], key, out)
		}
	default:
		aj, _ := json.Marshal(a)
		bj, _ := json.Marshal(b)
		if !bytes.Equal(aj, bj) {
			out[key] = true
		}
	}
}

// drop removes the members named in volatile, at any depth.
func drop(v any, volatile map[string]bool) any {
	if len(volatile) == 0 {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			if !volatile[k] {
				out[k] = drop(e, volatile)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = drop(e, volatile)
		}
		return out
	}
	return v
}

// itoa is strconv.FormatInt for int64, kept short for payload code.
func itoa(n int64) string { return strconv.FormatInt(n, 10) }
