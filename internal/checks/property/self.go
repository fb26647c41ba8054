package property

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// maxSelfFields bounds the privilege attributes written to the identity's
// own record.
const maxSelfFields = 4

// selfProber proves the escalation chain on the identity's own record.
// Where the caller is named by its credentials (a token, a session), the
// objects the check creates cannot call anything, so the record whose
// privilege must change is the one behind the identity itself: the
// resource a path such as /me reads and updates. The check writes the
// privilege attributes there, repeats the administrative reads the
// identity was refused, and writes the original values back.
type selfProber struct {
	meta   scan.Meta
	t      *scan.Target
	h      scan.Requester // for the restore, which outlives the Sender
	s      *probe.Sender
	read   *scan.Operation // GET /me
	update *scan.Operation // PATCH (or PUT) /me
	admins []*scan.Operation
}

// selfOps finds the identity's own record: a GET on a path without
// parameters whose last segment names the caller (/me, /users/me,
// /profile, /account), with a PATCH or, failing that, a PUT on the same
// path.
func selfOps(ops []*scan.Operation) (read, update *scan.Operation) {
	byPath := make(map[string]map[string]*scan.Operation)
	var paths []string
	for _, op := range ops {
		if op == nil || len(scan.PathParams(op.Path)) > 0 || !probe.SelfPath(op.Path) {
			continue
		}
		if byPath[op.Path] == nil {
			byPath[op.Path] = make(map[string]*scan.Operation)
			paths = append(paths, op.Path)
		}
		byPath[op.Path][strings.ToUpper(op.Method)] = op
	}
	for _, p := range paths {
		m := byPath[p]
		w := m[http.MethodPatch]
		if w == nil {
			w = m[http.MethodPut]
		}
		if m[http.MethodGet] != nil && w != nil {
			return m[http.MethodGet], w
		}
	}
	return nil, nil
}

// run returns the escalation finding, or nil. It needs an identity, a
// self record with privilege candidates, and an administrative read the
// identity is refused.
func (sp *selfProber) run(ctx context.Context) []scan.Finding {
	who := identity(sp.t)
	if who == "" {
		return nil
	}
	var denied []*scan.Exchange
	var deniedOps []*scan.Operation
	for _, op := range sp.admins {
		ex := sp.get(ctx, op)
		if ex != nil && (ex.Response.Status == http.StatusUnauthorized || ex.Response.Status == http.StatusForbidden) {
			denied = append(denied, ex)
			deniedOps = append(deniedOps, op)
		}
	}
	if len(denied) == 0 {
		return nil
	}
	baseEx := sp.get(ctx, sp.read)
	if !ok(baseEx) {
		return nil
	}
	base := decodeObject(baseEx.Response.Raw)
	if base == nil {
		return nil
	}
	r := &Resource{Item: sp.read.Path, Read: sp.read, Update: sp.update}
	tag := nonce()
	var fields []field
	for _, c := range Candidates(r, base) {
		if c.Class != Privilege || len(fields) >= maxSelfFields {
			continue
		}
		v1, v2 := escalated(c, tag)
		fields = append(fields, field{path: c.Path, class: c.Class, v1: v1, v2: v2})
	}
	if len(fields) == 0 {
		return nil
	}
	body := make(map[string]any)
	for _, f := range fields {
		set(body, f.path, clone(f.v1))
	}
	if sp.s.Done() {
		return nil // nothing will be sent, so nothing needs restoring
	}
	var write *scan.Exchange
	// Whatever happens next, the record gets its original values back:
	// also when the write got no answer (a timeout, a cancelled scan),
	// since the API may have applied it. Only a write the API refused
	// outright changed nothing.
	defer func() {
		if write == nil || ok(write) {
			sp.restore(ctx, base, fields)
		}
	}()
	write = sp.send(ctx, sp.s.Do, body)
	if !ok(write) {
		return nil
	}
	readEx := sp.get(ctx, sp.read)
	if !ok(readEx) {
		return nil
	}
	after := decodeObject(readEx.Response.Raw)
	var stored []field
	for _, f := range fields {
		if v, found := lookup(after, f.path); found && same(v, f.v1) && !sameAt(base, f.path, f.v1) {
			stored = append(stored, f)
		}
	}
	if len(stored) == 0 {
		return nil
	}
	var names []string
	for _, f := range stored {
		names = append(names, show(f.path, f.v1))
	}
	for i, op := range deniedOps {
		ex := sp.get(ctx, op)
		if !ok(ex) {
			continue
		}
		f := probe.Finding(sp.meta, sp.t, probe.Name(op), who+" via "+probe.Name(sp.update))
		f.Severity, f.Confidence = scan.Critical, scan.Confirmed
		f.Title = fmt.Sprintf("Privilege escalation through mass assignment: %s makes %s an administrator", stored[0].path, who)
		f.Description = fmt.Sprintf("%s refused %s (%d). %s on %s's own record stored %s, as a separate read showed, "+
			"and %s then answered %s (%d): a user can make itself an administrator by sending one attribute. "+
			"Merlon wrote the original values back afterwards.",
			probe.Name(op), who, denied[i].Response.Status, probe.Name(sp.update), who, strings.Join(names, ", "),
			probe.Name(op), who, ex.Response.Status)
		f.Evidence = []scan.Evidence{
			probe.Evidence(denied[i], "administrative call as "+who+": refused", ""),
			probe.Evidence(baseEx, who+"'s own record before", ""),
			probe.Evidence(write, "write carrying the privilege attribute", ""),
			probe.Evidence(readEx, "separate read shows it stored", show(stored[0].path, stored[0].v1)),
			probe.Evidence(ex, "the same administrative call as "+who+": allowed", ""),
		}
		return []scan.Finding{f}
	}
	return nil
}

// get reads op as the identity.
func (sp *selfProber) get(ctx context.Context, op *scan.Operation) *scan.Exchange {
	req := probe.Get(sp.t, op)
	req.Identity = identity(sp.t)
	req.NoRedirect = true
	// A header parameter that names the caller would speak for someone
	// else: the identity's own credentials must.
	for _, p := range op.Parameters {
		if p.In == "header" && userLike(p.Name) && req.Header != nil {
			req.Header.Del(p.Name)
		}
	}
	return sp.s.Do(ctx, req)
}

// send writes body to the identity's own record through do.
func (sp *selfProber) send(ctx context.Context, do func(context.Context, *scan.Request) *scan.Exchange, body map[string]any) *scan.Exchange {
	req := &scan.Request{
		Method:     strings.ToUpper(sp.update.Method),
		Path:       probe.Path(sp.t, sp.update, nil),
		Operation:  sp.update,
		Identity:   identity(sp.t),
		NoRedirect: true,
		Header:     http.Header{"Content-Type": {"application/json"}},
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil
	}
	req.Body = b
	return do(ctx, req)
}

// restore writes back the values the record had before, and notes on the
// target when it cannot: an identity left with a privilege it did not
// have is the one clean-up failure a user must hear about.
func (sp *selfProber) restore(ctx context.Context, base map[string]any, fields []field) {
	body := make(map[string]any)
	var missing []string
	for _, f := range fields {
		if v, found := lookup(base, f.path); found {
			set(body, f.path, v)
		} else {
			missing = append(missing, f.path)
		}
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	do := func(ctx context.Context, req *scan.Request) *scan.Exchange {
		ex, err := sp.h.Do(ctx, req)
		if err != nil {
			return nil
		}
		return ex
	}
	who := identity(sp.t)
	if len(body) > 0 && !ok(sp.send(ctx, do, body)) && sp.t.Notes != nil {
		sp.t.Notes.Add(fmt.Sprintf("%s: could not restore %s's own record through %s; check its privilege attributes by hand",
			sp.meta.ID, who, probe.Name(sp.update)))
	}
	if len(missing) > 0 && sp.t.Notes != nil {
		sp.t.Notes.Add(fmt.Sprintf("%s: %s's own record had no %s before the check wrote it, and it cannot be removed "+
			"through %s; check it by hand", sp.meta.ID, who, strings.Join(missing, ", "), probe.Name(sp.update)))
	}
}

// sameAt reports whether obj already held v at path.
func sameAt(obj map[string]any, path string, v any) bool {
	got, found := lookup(obj, path)
	return found && same(got, v)
}
