package scancmd

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/merlonsec/merlon/internal/cli/cmdutil"
	"github.com/merlonsec/merlon/internal/config"
	"github.com/merlonsec/merlon/internal/engine"
	"github.com/merlonsec/merlon/internal/pipeline"
	"github.com/merlonsec/merlon/internal/scan"
)

// loadConfig reads --config and fills the options the flags left unset.
// Flags always win over the file.
func (o *Options) loadConfig() error {
	if o.Config == "" {
		return nil
	}
	f, err := config.Load(o.Config, os.LookupEnv)
	if err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	o.file = f
	if o.Target == "" {
		o.Target = f.Target
	}
	if o.Spec == "" {
		o.Spec = f.Spec
	}
	if f.Profile != "" && (o.changed == nil || !o.changed("profile")) {
		o.Profile = f.Profile
	}
	return nil
}

// applyIdentities adds the file's headers under the -H ones and builds
// the identities from the file and from --identity flags; a flag identity
// replaces a file identity of the same name.
func (o *Options) applyIdentities(cfg *pipeline.Config) error {
	cfg.SpecAuth = o.SpecAuth
	var ids []scan.Identity
	auth := map[string]pipeline.Auth{}
	if f := o.file; f != nil {
		for k, v := range f.Headers {
			if cfg.Headers.Get(k) == "" {
				cfg.Headers.Set(k, v)
			}
		}
		for _, fi := range f.Identities {
			id, a, err := fromFile(fi)
			if err != nil {
				return cmdutil.Usagef("%s: identity %q: %v", o.Config, fi.Name, err)
			}
			ids = append(ids, id)
			auth[id.Name] = a
		}
	}
	flagIDs, err := parseIdentities(o.Identities)
	if err != nil {
		return &cmdutil.UsageError{Err: err}
	}
	for _, fid := range flagIDs {
		replaced := false
		for i := range ids {
			if ids[i].Name == fid.Name {
				ids[i], replaced = fid, true
				delete(auth, fid.Name)
			}
		}
		if !replaced {
			ids = append(ids, fid)
		}
	}
	cfg.Identities = ids
	if len(auth) > 0 {
		cfg.Auth = auth
	}
	return nil
}

// fromFile turns a merlon.yaml identity into the scan's.
func fromFile(fi config.Identity) (scan.Identity, pipeline.Auth, error) {
	id := scan.Identity{Name: fi.Name, Role: fi.Role, Headers: http.Header{}}
	for k, v := range fi.Headers {
		id.Headers.Set(k, v)
	}
	if len(fi.Cookies) > 0 {
		var parts []string
		for _, k := range sortedKeys(fi.Cookies) {
			parts = append(parts, k+"="+fi.Cookies[k])
		}
		if c := id.Headers.Get("Cookie"); c != "" {
			parts = append([]string{c}, parts...)
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

// parseIdentities reads --identity values 'name:role:Header: value'.
// Repeating a name adds headers to that identity.
func parseIdentities(raw []string) ([]scan.Identity, error) {
	var out []scan.Identity
	for _, r := range raw {
		parts := strings.SplitN(r, ":", 3)
		if len(parts) < 3 || strings.TrimSpace(parts[0]) == "" {
			return nil, fmt.Errorf("invalid --identity %q: want 'name:role:Header: value'", redactHeaderArg(r))
		}
		name, role := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
		if strings.EqualFold(name, scan.Anonymous) {
			return nil, fmt.Errorf("--identity: %q is the implicit identity without credentials and cannot be configured", name)
		}
		h, err := parseHeaders([]string{parts[2]})
		if err != nil {
			return nil, fmt.Errorf("--identity %s: %v", name, err)
		}
		found := false
		for i := range out {
			if out[i].Name != name {
				continue
			}
			if out[i].Role != role {
				return nil, fmt.Errorf("--identity %s: given with roles %q and %q", name, out[i].Role, role)
			}
			for k, v := range h {
				out[i].Headers[k] = append(out[i].Headers[k], v...)
			}
			found = true
		}
		if !found {
			out = append(out, scan.Identity{Name: name, Role: role, Headers: h})
		}
	}
	return out, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
