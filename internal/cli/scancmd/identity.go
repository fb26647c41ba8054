package scancmd

import (
	"fmt"
	"os"
	"strings"

	"github.com/merlonsec/merlon/internal/cli/cmdutil"
	"github.com/merlonsec/merlon/internal/config"
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
			id, a, err := pipeline.IdentityFromConfig(fi)
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
