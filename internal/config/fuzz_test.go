package config

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

// fuzzEnv sets every variable whose name starts with S to "v" and leaves
// the rest unset, so a fuzzed file reaches both the expansion and the
// unset-variable error.
func fuzzEnv(name string) (string, bool) {
	if strings.HasPrefix(name, "S") {
		return "v", true
	}
	return "", false
}

// FuzzParse checks that Parse never panics on any file, that errors are one
// line, that a file it accepts satisfies what validate promises (named,
// unique, non-anonymous identities, each with a way to authenticate) with
// every ${VAR} in the expanded fields replaced, and that parsing the same
// bytes twice gives the same result.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		full,
		"",
		"target: http://127.0.0.1:1\n",
		"headers: {A: ${SA}}\n",
		"headers: {A: ${NOPE}}\n",
		"identities:\n  - name: a\n    cookies: {sid: ${S1}}\n",
		"identities:\n  - name: a\n    login: {path: /l, cookie: sid, form: {u: ${SU}}}\n",
		"identities:\n  - name: a\n    login: {path: /l, token: {json: $.t}, body: [${SX}, {k: [1, ${SY}]}]}\n",
		"a: &a [x, x]\nb: &b [*a, *a]\n",
		"identities: [\n",
		"target: \"\\xff\"\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got, err := Parse(data, fuzzEnv)
		again, err2 := Parse(data, fuzzEnv)
		if (err == nil) != (err2 == nil) || !reflect.DeepEqual(got, again) {
			t.Fatalf("Parse(%q) is not deterministic: %v / %v", data, err, err2)
		}
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Parse(%q) error %q spans lines", data, err)
			}
			if errors.Is(err, ErrUnsetVariable) && !strings.Contains(string(data), "${") {
				t.Errorf("Parse(%q) = %v, but the file names no variable", data, err)
			}
			return
		}
		seen := map[string]bool{}
		for i, id := range got.Identities {
			if id.Name == "" || strings.EqualFold(id.Name, "anonymous") || seen[id.Name] {
				t.Errorf("Parse(%q) accepted identity %d named %q", data, i, id.Name)
			}
			seen[id.Name] = true
			if id.Login == nil && len(id.Headers) == 0 && len(id.Cookies) == 0 {
				t.Errorf("Parse(%q) accepted identity %q with no credentials", data, id.Name)
			}
			if l := id.Login; l != nil && l.Path == "" {
				t.Errorf("Parse(%q) accepted a login with no path", data)
			}
		}
		for _, s := range expanded(got) {
			if varRef.MatchString(s) {
				t.Errorf("Parse(%q) left a variable in %q", data, s)
			}
		}
	})
}

// expanded lists every string Parse runs through ${VAR} expansion.
func expanded(f *File) []string {
	out := []string{f.Target, f.Spec, f.Profile}
	add := func(m map[string]string) {
		for _, v := range m {
			out = append(out, v)
		}
	}
	var tree func(v any)
	tree = func(v any) {
		switch t := v.(type) {
		case string:
			out = append(out, t)
		case map[string]any:
			for _, e := range t {
				tree(e)
			}
		case []any:
			for _, e := range t {
				tree(e)
			}
		}
	}
	add(f.Headers)
	for _, id := range f.Identities {
		out = append(out, id.Name, id.Role)
		add(id.Headers)
		add(id.Cookies)
		if l := id.Login; l != nil {
			out = append(out, l.Path)
			add(l.Headers)
			add(l.Form)
			tree(l.Body)
		}
		if c := id.Check; c != nil {
			out = append(out, c.Path)
		}
	}
	return out
}
