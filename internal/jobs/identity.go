package jobs

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/merlonsec/merlon/internal/config"
	"github.com/merlonsec/merlon/internal/engine"
	"github.com/merlonsec/merlon/internal/pipeline"
	"github.com/merlonsec/merlon/internal/scan"
)

// identityFromFile turns a merlon.yaml identity into the scan's identity
// and its login and check settings, the same reading `merlon scan
// --config` gives it (docs/identities.md).
func identityFromFile(fi config.Identity) (scan.Identity, pipeline.Auth, error) {
	id := scan.Identity{Name: fi.Name, Role: fi.Role, Headers: http.Header{}}
	for k, v := range fi.Headers {
		id.Headers.Set(k, v)
	}
	if len(fi.Cookies) > 0 {
		names := make([]string, 0, len(fi.Cookies))
		for k := range fi.Cookies {
			names = append(names, k)
		}
		sort.Strings(names)
		var parts []string
		if c := id.Headers.Get("Cookie"); c != "" {
			parts = append(parts, c)
		}
		for _, k := range names {
			parts = append(parts, k+"="+fi.Cookies[k])
		}
		id.Headers.Set("Cookie", strings.Join(parts, "; "))
	}
	var a pipeline.Auth
	if c := fi.Check; c != nil {
		a.CheckMethod, a.CheckPath = strings.ToUpper(c.Method), c.Path
		if a.CheckMethod == "" {
			a.CheckMethod = http.MethodGet
		}
	}
	l := fi.Login
	if l == nil {
		return id, a, nil
	}
	el := &engine.Login{Method: strings.ToUpper(l.Method), Path: l.Path, Header: http.Header{}, Cookie: l.Cookie}
	for k, v := range l.Headers {
		el.Header.Set(k, v)
	}
	if t := l.Token; t != nil {
		el.TokenJSON, el.TokenHeader, el.TokenPrefix = t.JSON, t.Header, t.Prefix
	}
	contentType := ""
	switch b := l.Body.(type) {
	case nil:
	case string:
		el.Body, contentType = []byte(b), "application/x-www-form-urlencoded"
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return id, a, fmt.Errorf("login body: %w", err)
		}
		el.Body, contentType = data, "application/json"
	}
	if l.Form != nil {
		form := url.Values{}
		for k, v := range l.Form {
			form.Set(k, v)
		}
		el.Body, contentType = []byte(form.Encode()), "application/x-www-form-urlencoded"
	}
	if contentType != "" && el.Header.Get("Content-Type") == "" {
		el.Header.Set("Content-Type", contentType)
	}
	a.Login = el
	return id, a, nil
}
