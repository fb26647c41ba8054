package authz

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/exposure"
	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/checks/property"
	"github.com/merlonsec/merlon/internal/scan"
)

// Bounds of the BFLA check; docs/checks.md documents what they cost.
const (
	// maxSwapOps bounds the readable items whose other methods are tried.
	maxSwapOps = 10
	// maxPrivilegedDeletes bounds the privileged deletes tried on objects
	// the check created.
	maxPrivilegedDeletes = 3
)

// privilegedWords mark a path segment or tag as administrative.
var privilegedWords = []string{"admin", "internal", "manage", "management", "staff", "superuser", "sudo", "backoffice", "moderat"}

// privilegedLeaves are last path segments of operations that change who
// may do what.
var privilegedLeaves = map[string]bool{"role": true, "roles": true, "permissions": true, "privileges": true, "grants": true}

// privilege says why op looks privileged, and whether the spec says so
// itself (a tag or a scope) rather than Merlon guessing from the path;
// "" when it does not look privileged.
func privilege(op *scan.Operation) (why string, declared bool) {
	for _, tag := range op.Tags {
		for _, w := range privilegedWords {
			if strings.Contains(strings.ToLower(tag), w) {
				return fmt.Sprintf("the spec tags it %q", tag), true
			}
		}
	}
	for _, req := range op.Security {
		for _, scopes := range req {
			for _, s := range scopes {
				l := strings.ToLower(s)
				if strings.Contains(l, "admin") || (scan.IsWrite(op.Method) && strings.HasPrefix(l, "write:")) {
					return fmt.Sprintf("the spec requires the scope %q", s), true
				}
			}
		}
	}
	segs := strings.Split(strings.ToLower(strings.Trim(op.Path, "/")), "/")
	for _, seg := range segs {
		for _, w := range privilegedWords {
			if strings.HasPrefix(seg, w) {
				return fmt.Sprintf("its path has the segment %q", seg), false
			}
		}
	}
	if len(segs) > 1 && privilegedLeaves[segs[len(segs)-1]] {
		return fmt.Sprintf("its path ends in %q", segs[len(segs)-1]), false
	}
	if op.Method == http.MethodGet && !probe.SelfPath(op.Path) {
		if field := listsRoles(op); field != "" {
			return fmt.Sprintf("its answer lists accounts with their %q", field), false
		}
	}
	return "", false
}

// privilegeFields are response members that only say who may do what.
var privilegeFields = map[string]bool{"is_admin": true, "isadmin": true, "is_staff": true, "isstaff": true,
	"is_superuser": true, "issuperuser": true, "permissions": true, "privileges": true, "scopes": true}

// roleFields are response members that may hold a privilege role, or a
// job title: they count only when the spec shows a privileged value.
var roleFields = map[string]bool{"role": true, "roles": true, "user_role": true, "userrole": true, "access_level": true}

// listsRoles returns the member through which a GET's 2xx answer, by its
// spec, lists accounts with their privileges: an array of objects (bare,
// or under a member) with a privilege member, or a role member whose enum
// or example names a privileged role. Listing who holds which privilege is
// an administrator's view; a single object (the caller's own profile) is
// not. "" when the answer lists none.
func listsRoles(op *scan.Operation) string {
	for code, r := range op.Responses {
		if !strings.HasPrefix(code, "2") || r == nil || r.Schema == nil {
			continue
		}
		lists := []*scan.Schema{r.Schema}
		for _, p := range r.Schema.Properties {
			lists = append(lists, p)
		}
		for _, l := range lists {
			if l == nil || l.Type != "array" || l.Items == nil {
				continue
			}
			for name, p := range l.Items.Properties {
				n := strings.ToLower(name)
				if privilegeFields[n] || (roleFields[n] && privilegedValue(p)) {
					return name
				}
			}
		}
	}
	return ""
}

// privilegedValue reports whether a schema's enum or example (or its
// items', for a list of roles) names a privileged role.
func privilegedValue(s *scan.Schema) bool {
	if s == nil {
		return false
	}
	vals := append([]any{s.Example}, s.Enum...)
	if s.Items != nil {
		vals = append(append(vals, s.Items.Example), s.Items.Enum...)
	}
	for _, v := range vals {
		var strs []string
		switch t := v.(type) {
		case string:
			strs = []string{t}
		case []any:
			for _, e := range t {
				if str, ok := e.(string); ok {
					strs = append(strs, str)
				}
			}
		}
		for _, str := range strs {
			if str != "" && scan.RoleRank(str) == 2 {
				return true
			}
		}
	}
	return false
}

// BFLA looks for broken function level authorization: privileged
// operations that lower identities, or anonymous callers, can use, and
// write methods a reader can use on what it may only read.
type BFLA struct{}

var _ scan.Check = BFLA{}

// Meta describes the check.
func (BFLA) Meta() scan.Meta {
	return scan.Meta{
		ID:          "authz.bfla",
		Family:      "authz",
		Title:       "Broken function level authorization",
		Category:    scan.API5BFLA,
		CWE:         285,
		Severity:    scan.High,
		MinSeverity: scan.High,
		Description: "Calls privileged operations (admin tags and scopes, /admin, /internal, /manage and role paths, " +
			"answers that list accounts with their roles) as the most privileged identity, as each lower identity and " +
			"anonymously, and reports lower callers that get the same 2xx answer; also asks a few common admin paths " +
			"missing from the inventory, reported only when they answer JSON data where a made-up path does not. With --active it also deletes, as a lower identity, objects it created as the " +
			"privileged one, and tries PUT and PATCH (with the unchanged representation) on items a lower identity " +
			"may only read, reporting methods the spec does not declare that answer 2xx.",
	}
}

// Run checks the privileged reads, then, with --active, privileged
// deletes and method swaps.
func (c BFLA) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	s := probe.NewSender(h)
	f := &bfla{meta: c.Meta(), t: t, h: h, s: s, r: newReader(t, s), acts: actors(t)}
	slices.SortStableFunc(f.acts, func(x, y actor) int { return y.rank - x.rank })
	var gets []*scan.Operation
	for _, op := range t.Operations {
		if op == nil || op.Method != http.MethodGet || (op.Security != nil && public(op)) {
			continue
		}
		if why, _ := privilege(op); why != "" {
			gets = append(gets, op)
		}
	}
	for i, op := range gets {
		if i >= probe.Budget(t.Profile) && probe.Budget(t.Profile) > 0 || s.Done() {
			break
		}
		f.privilegedRead(ctx, op)
	}
	f.adminGuesses(ctx)
	if t.Active {
		f.privilegedDeletes(ctx)
		f.methodSwaps(ctx)
	}
	return f.findings, s.Err()
}

// public reports whether the spec makes op explicitly public.
func public(op *scan.Operation) bool {
	if len(op.Security) == 0 {
		return true
	}
	for _, req := range op.Security {
		if len(req) == 0 {
			return true
		}
	}
	return false
}

type bfla struct {
	meta     scan.Meta
	t        *scan.Target
	h        scan.Requester
	s        *probe.Sender
	r        *reader
	acts     []actor // most privileged first
	catchAll map[string]*scan.Exchange
	findings []scan.Finding
}

// lower returns the callers ranked below top: lower identities, then
// anonymous.
func (f *bfla) lower(top actor) []actor {
	var out []actor
	for _, a := range f.acts {
		if a.rank < top.rank {
			out = append(out, a)
		}
	}
	return append(out, anonymous)
}

// privilegedRead calls one privileged GET as every caller.
func (f *bfla) privilegedRead(ctx context.Context, op *scan.Operation) {
	why, declared := privilege(op)
	urlPath := probe.Path(f.t, op, nil)
	var top actor
	var topEx *scan.Exchange
	if len(f.acts) > 0 && f.acts[0].rank == 2 {
		top = f.acts[0]
		topEx = f.r.get(ctx, op, urlPath, top)
		if !meaningful(topEx) {
			return // the function does not work even for the privileged identity
		}
	} else {
		top = actor{name: "(no privileged identity)", rank: 2}
	}
	var through []actor
	var ev []scan.Evidence
	if topEx != nil {
		ev = append(ev, probe.Evidence(topEx, top.name+", the privileged identity, calls it", ""))
	}
	for _, a := range f.lower(top) {
		ex := f.r.get(ctx, op, urlPath, a)
		if !meaningful(ex) || (topEx != nil && !sameShape(topEx, ex)) {
			continue
		}
		through = append(through, a)
		ev = append(ev, probe.Evidence(ex, a.name+" calls it and gets the same answer", ""))
	}
	if len(through) == 0 {
		return
	}
	conf := scan.Likely
	switch {
	case topEx != nil && declared:
		conf = scan.Confirmed
	case topEx == nil && !declared:
		conf = scan.Possible
	}
	var names []string
	for _, a := range through {
		names = append(names, a.label())
	}
	desc := fmt.Sprintf("%s looks privileged (%s), yet %s got a 2xx answer", probe.Name(op), why, strings.Join(names, " and "))
	if topEx != nil {
		desc += fmt.Sprintf(" of the same kind as %s's", top.label())
	}
	desc += "."
	fd := probe.Finding(f.meta, f.t, probe.Name(op), "")
	fd.Title = "BFLA: privileged operation open to " + through[0].name
	fd.Confidence, fd.Description, fd.Evidence = conf, desc, ev
	f.findings = append(f.findings, fd)
}

// privilegedDeletes creates objects in privileged collections as the
// privileged identity and tries to delete them as the lowest one; only
// objects the check created are ever deleted.
func (f *bfla) privilegedDeletes(ctx context.Context) {
	if len(f.acts) == 0 || f.acts[0].rank < 2 {
		return
	}
	top := f.acts[0]
	low := f.lower(top)[0]
	n := 0
	for _, res := range property.Resources(f.t.Operations) {
		if res.Create == nil || res.Delete == nil || res.Param == "" || n >= maxPrivilegedDeletes || f.s.Done() {
			continue
		}
		if why, _ := privilege(res.Delete); why == "" {
			continue
		}
		n++
		f.privilegedDelete(ctx, res, top, low)
	}
}

func (f *bfla) privilegedDelete(ctx context.Context, res *property.Resource, top, low actor) {
	b := &bola{meta: f.meta, t: f.t, h: f.h, s: f.s, r: f.r}
	key, created := b.create(ctx, res, top, nonce())
	if key == "" {
		return
	}
	alive := true
	defer func() {
		if alive {
			b.cleanup(ctx, res, top, key)
		}
	}()
	del := probe.Path(f.t, res.Delete, map[string]string{res.Param: key})
	ex := f.s.Do(ctx, &scan.Request{Method: http.MethodDelete, Path: del, Identity: low.name, Operation: res.Delete, NoRedirect: true})
	if !success(ex) {
		return
	}
	ev := []scan.Evidence{probe.Evidence(created, "the object, created by Merlon as "+top.name, ""),
		probe.Evidence(ex, low.name+" deletes it", "")}
	conf := scan.Likely
	if res.Read != nil {
		after := f.r.get(ctx, res.Read, probe.Path(f.t, res.Read, map[string]string{res.Param: key}), top)
		if gone(after) {
			conf = scan.Confirmed
			alive = false
			ev = append(ev, probe.Evidence(after, top.name+"'s read afterwards: gone", ""))
		}
	}
	why, _ := privilege(res.Delete)
	fd := probe.Finding(f.meta, f.t, probe.Name(res.Delete), "")
	fd.Title = "BFLA: privileged delete open to " + low.name
	fd.Confidence = conf
	fd.Description = fmt.Sprintf("%s looks privileged (%s). Merlon created an object as %s, and %s deleted it (%d).",
		probe.Name(res.Delete), why, top.label(), low.label(), ex.Response.Status)
	fd.Evidence = ev
	f.findings = append(f.findings, fd)
}

// methodSwaps tries PUT and PATCH, with the representation just read, on
// items the lowest caller able to read them may read, where the spec
// does not declare the method or declares it privileged.
func (f *bfla) methodSwaps(ctx context.Context) {
	top := actor{rank: 3}
	if len(f.acts) > 0 && f.acts[0].rank == 2 {
		top = f.acts[0]
	}
	callers := f.lower(top)
	slices.Reverse(callers) // anonymous first
	n := 0
	for _, op := range f.t.Operations {
		// Without a spec there is no telling which methods are meant.
		if op == nil || op.Method != http.MethodGet || op.Source != "spec" || len(scan.PathParams(op.Path)) == 0 {
			continue
		}
		if n >= maxSwapOps || f.s.Done() {
			return
		}
		n++
		urlPath := probe.Path(f.t, op, nil)
		var who actor
		var read *scan.Exchange
		for _, a := range callers {
			if ex := f.r.get(ctx, op, urlPath, a); meaningful(ex) && object(ex.Response.Raw) != nil {
				who, read = a, ex
				break
			}
		}
		if read == nil {
			continue
		}
		for _, m := range []string{http.MethodPut, http.MethodPatch} {
			declared := opAt(f.t, m, op.Path)
			if declared != nil {
				if why, _ := privilege(declared); why == "" {
					continue // a declared, ordinary write: what it allows is BOLA's business
				}
			}
			f.swap(ctx, op, m, urlPath, who, read, declared)
		}
	}
}

// swap sends method to urlPath as who with the unchanged representation.
func (f *bfla) swap(ctx context.Context, op *scan.Operation, method, urlPath string, who actor, read *scan.Exchange, declared *scan.Operation) {
	if f.acceptsAnything(ctx, method) {
		return
	}
	body, err := json.Marshal(object(read.Response.Raw))
	if err != nil {
		return
	}
	ex := f.s.Do(ctx, &scan.Request{Method: method, Path: urlPath, Identity: who.name, Operation: declared, Body: body,
		Header: http.Header{"Content-Type": {"application/json"}}, NoRedirect: true})
	if !success(ex) {
		return
	}
	name := method + " " + op.Path
	desc := fmt.Sprintf("%s may read %s, and %s with the unchanged representation answered %d for it too, ",
		who.label(), probe.Name(op), name, ex.Response.Status)
	if declared == nil {
		desc += "though the spec does not declare that method: a reader can overwrite what it may only read."
	} else {
		why, _ := privilege(declared)
		desc += fmt.Sprintf("though the method looks privileged (%s).", why)
	}
	fd := probe.Finding(f.meta, f.t, name, "method swap")
	fd.Title = fmt.Sprintf("BFLA: %s allowed to %s (method swap)", method, who.name)
	fd.Confidence = scan.Likely
	fd.Description = desc
	fd.Evidence = []scan.Evidence{probe.Evidence(read, who.name+" reads the item with GET", ""),
		probe.Evidence(ex, who.name+" writes it back with "+method, "")}
	f.findings = append(f.findings, fd)
}

// acceptsAnything reports whether the API answers method with 2xx even on
// a path that does not exist, in which case a swap proves nothing.
func (f *bfla) acceptsAnything(ctx context.Context, method string) bool {
	if f.catchAll == nil {
		f.catchAll = make(map[string]*scan.Exchange)
	}
	ex, ok := f.catchAll[method]
	if !ok {
		ex = f.s.Do(ctx, &scan.Request{Method: method, Path: exposure.UnknownPath, Identity: scan.Anonymous,
			Body: []byte("{}"), Header: http.Header{"Content-Type": {"application/json"}}, NoRedirect: true})
		f.catchAll[method] = ex
	}
	return ex == nil || success(ex)
}

// adminGuesses are administrative GETs common enough to ask for when the
// inventory lacks them. The list is short on purpose: each guess costs a
// request per caller, and a longer list finds little more.
var adminGuesses = []string{"/admin", "/admin/users", "/admin/config", "/admin/settings", "/admin/stats",
	"/internal", "/internal/users", "/management/users"}

// adminBaseline is a path under /admin that exists on no API: what the
// target answers to it is what it answers to a guess that missed.
const adminBaseline = "/admin/merlon-probe-no-such-path"

// adminGuesses asks the common admin paths missing from the inventory, as
// the first ordinary identity and anonymously, with GET only. A guess is
// reported when it answers a caller 2xx with JSON data while the made-up
// baseline path does not answer that caller 2xx: an API that answers
// anything with 200 (a single-page app's index, a catch-all) is never
// reported. Redirects are not followed, so an admin area that sends
// callers to its login page stays quiet too. When a privileged identity
// is configured, it must get an answer of the same shape, or the path is
// not an admin function at all.
func (f *bfla) adminGuesses(ctx context.Context) {
	hasTop := len(f.acts) > 0 && f.acts[0].rank == 2
	top := actor{name: "(no privileged identity)", rank: 2}
	if hasTop {
		top = f.acts[0]
	}
	var callers []actor
	for _, a := range f.lower(top) {
		if a.rank == 1 && len(callers) == 0 || a.rank == 0 {
			callers = append(callers, a)
		}
	}
	get := func(p string, who actor) *scan.Exchange {
		return f.s.Do(ctx, &scan.Request{Method: http.MethodGet, Path: p, Identity: who.name, NoRedirect: true})
	}
	softOK := make(map[string]bool) // callers the baseline answers 2xx
	for _, a := range callers {
		softOK[a.name] = f.s.Done() || success(get(adminBaseline, a))
	}
	for _, p := range adminGuesses {
		if f.s.Done() {
			return
		}
		if inInventory(f.t, p) {
			continue
		}
		var through []actor
		var first *scan.Exchange
		var ev []scan.Evidence
		for _, a := range callers {
			if softOK[a.name] {
				continue
			}
			ex := get(p, a)
			if !meaningful(ex) || !probe.IsJSON(probe.MediaType(ex.Response.Header)) {
				continue
			}
			if first == nil {
				first = ex
			}
			through = append(through, a)
			ev = append(ev, probe.Evidence(ex, a.name+" calls it and gets data", ""))
		}
		if len(through) == 0 {
			continue
		}
		conf := scan.Possible
		if hasTop {
			topEx := get(p, top)
			if !meaningful(topEx) || !sameShape(topEx, first) {
				continue
			}
			conf = scan.Likely
			ev = append([]scan.Evidence{probe.Evidence(topEx, top.name+", the privileged identity, calls it", "")}, ev...)
		}
		var names []string
		for _, a := range through {
			names = append(names, a.label())
		}
		name := "GET " + p
		fd := probe.Finding(f.meta, f.t, name, "admin path guess")
		fd.Title = "BFLA: admin path open to " + through[0].name
		fd.Confidence = conf
		fd.Description = fmt.Sprintf("%s is not in the inventory, but it is a common administrative path, and %s got JSON data from it "+
			"where a made-up path under /admin got no 2xx.", name, strings.Join(names, " and "))
		fd.Evidence = ev
		f.findings = append(f.findings, fd)
	}
}

// inInventory reports whether any operation of the inventory already has
// path p (privileged ones are called by privilegedRead).
func inInventory(t *scan.Target, p string) bool {
	for _, op := range t.Operations {
		if op != nil && strings.EqualFold(strings.TrimRight(op.Path, "/"), p) {
			return true
		}
	}
	return false
}
