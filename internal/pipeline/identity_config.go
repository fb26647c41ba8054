package pipeline

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/merlonsec/merlon/internal/config"
	"github.com/merlonsec/merlon/internal/engine"
	"github.com/merlonsec/merlon/internal/scan"
)

// IdentityFromConfig turns a merlon.yaml identity into the scan's identity
// and, for login-flow identities, how to log in and check it. The CLI and
// the job workers share it, so an identity means the same in both.
func IdentityFromConfig(fi config.Identity) (scan.Identity, Auth, error) {
	id := scan.Identity{Name: fi.Name, Role: fi.Role, Headers: http.Header{}}
	for k, v := range fi.Headers {
		id.Headers.Set(k, v)
	}
	if len(fi.Cookies) > 0 {
		var parts []string
		for _, k := range slices.Sorted(maps.Keys(fi.Cookies)) {
			parts = append(parts, k+"="+fi.Cookies[k])
		}
		if c := id.Headers.Get("Cookie"); c != "" {
			parts = append([]string{c}, parts...)
		}
		id.Headers.Set("Cookie", strings.Join(parts, "; "))
	}
	var a Auth
	if c := fi.Check; c != nil {
		a.CheckMethod, a.CheckPath = strings.ToUpper(c.Method), c.Path
		if a.CheckMethod == "" {
			a.CheckMethod = http.MethodGet
		}
	}
	if l := fi.Login; l != nil {
		el := &engine.Login{Method: strings.ToUpper(l.Method), Path: l.Path, Header: http.Header{}, Cookie: l.Cookie}
		for k, v := range l.Headers {
			el.Header.Set(k, v)
		}
		if t := l.Token; t != nil {
			el.TokenJSON, el.TokenHeader, el.TokenPrefix = t.JSON, t.Header, t.Prefix
		}
		switch b := l.Body.(type) {
		case nil:
		case string:
			el.Body = []byte(b)
			defaultType(el.Header, "application/x-www-form-urlencoded")
		default:
			data, err := json.Marshal(b)
			if err != nil {
				return id, a, fmt.Errorf("login body: %v", err)
			}
			el.Body = data
			defaultType(el.Header, "application/json")
		}
		if l.Form != nil {
			form := url.Values{}
			for k, v := range l.Form {
				form.Set(k, v)
			}
			el.Body = []byte(form.Encode())
			defaultType(el.Header, "application/x-www-form-urlencoded")
		}
		a.Login = el
	}
	return id, a, nil
}

func defaultType(h http.Header, ct string) {
	if h.Get("Content-Type") == "" {
		h.Set("Content-Type", ct)
	}
}
