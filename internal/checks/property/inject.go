package property

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// Bounds of the active check; docs/checks.md documents what they cost.
const (
	// maxFields bounds the candidates injected per resource (the canary
	// comes on top).
	maxFields = 16
	// maxUpdateSingles and maxCreateSingles bound the one-field-per-request
	// fallback used when the API rejects a write carrying every field.
	maxUpdateSingles = 8
	maxCreateSingles = 4
)

// maxResources is how many resources one run probes, by profile.
func maxResources(p scan.Profile) int {
	switch p {
	case scan.Quick:
		return 2
	case scan.Deep:
		return 20
	}
	return 5
}

// MassAssignment proves mass assignment by writing: it creates its own
// objects, injects server-owned attributes and a canary on create and on
// update, and reads each object back with a separate request.
type MassAssignment struct{}

var _ scan.Check = MassAssignment{}

// Meta describes the check.
func (MassAssignment) Meta() scan.Meta {
	return scan.Meta{
		ID:          "property.mass-assignment",
		Family:      "property",
		Title:       "Mass assignment",
		Category:    scan.API3PropertyAuthorization,
		CWE:         915,
		Severity:    scan.Critical,
		MinSeverity: scan.Medium,
		Active:      true,
		Description: "Creates and updates objects of its own with attributes only the server should write " +
			"(is_admin, role, credits, owner, a nested role, the key, and an unknown canary), reads each object back " +
			"with a separate request, and reports the attributes that were stored; a stored privilege attribute is " +
			"then tried on the API's administrative operations, and with an identity the same privilege is written to the " +
			"identity's own record (/me) and written back afterwards. Deletes what it created.",
	}
}

// Run probes each writable resource that has a create and an item read,
// up to the profile's bound.
func (c MassAssignment) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	s := probe.NewSender(h)
	admins := adminOps(t.Operations)
	var out []scan.Finding
	n := 0
	for _, r := range Resources(t.Operations) {
		if r.Create == nil || r.Read == nil || r.Param == "" {
			continue
		}
		if n >= maxResources(t.Profile) || s.Done() {
			break
		}
		n++
		p := &prober{meta: c.Meta(), t: t, h: h, s: s, r: r, admins: admins}
		out = append(out, p.run(ctx)...)
	}
	if read, update := selfOps(t.Operations); read != nil && len(admins) > 0 && !s.Done() {
		sp := &selfProber{meta: c.Meta(), t: t, h: h, s: s, read: read, update: update, admins: admins}
		out = append(out, sp.run(ctx)...)
	}
	return out, s.Err()
}

// prober probes one resource.
type prober struct {
	meta   scan.Meta
	t      *scan.Target
	h      scan.Requester // for clean-up, which outlives the Sender
	s      *probe.Sender
	r      *Resource
	admins []*scan.Operation

	objects  []*object // created, for clean-up
	denied   []denial  // admin calls refused to the clean object
	chained  bool      // an escalation was proven already
	findings []scan.Finding
}

// object is one object the probe created.
type object struct {
	key     string         // its current path parameter value
	created *scan.Exchange // the create
}

// field is one attribute to inject, with its two values.
type field struct {
	path   string
	class  Class
	v1, v2 any
}

// attempt is what happened to one field in one round.
type attempt struct {
	write, read *scan.Exchange
	got         any
	ok          bool
}

func (p *prober) run(ctx context.Context) []scan.Finding {
	defer p.cleanup(ctx)
	tag := nonce()
	clean, createEx := p.create(ctx, cleanBody(p.r, p.r.Create, tag+"a", true))
	if clean == nil {
		return nil
	}
	baseEx, base := p.read(ctx, clean.key)
	if base == nil {
		return nil
	}
	fields := p.fields(base, tag)
	if p.privileged(fields) {
		p.deny(ctx, clean.key)
	}
	if p.r.Update != nil {
		p.updateInjection(ctx, clean, createEx, baseEx, base, fields, tag)
		p.keyChange(ctx, clean, baseEx, base, tag)
	}
	p.createInjection(ctx, baseEx, base, fields, tag)
	return p.findings
}

// fields lists what to inject: the candidates (harmful ones first, at most
// maxFields) and a canary attribute no API has heard of.
func (p *prober) fields(base map[string]any, tag string) []field {
	var out []field
	for _, c := range Candidates(p.r, base) {
		if len(out) >= maxFields {
			break
		}
		v1, v2 := escalated(c, tag)
		out = append(out, field{path: c.Path, class: c.Class, v1: v1, v2: v2})
	}
	canary := field{path: "merlon_canary_" + tag, class: Unknown, v1: "merlon-" + tag + "-1", v2: "merlon-" + tag + "-2"}
	// The canary goes after the harmful candidates, so that a bounded
	// fallback tries those first.
	i := 0
	for i < len(out) && harmful(out[i].class) {
		i++
	}
	return append(out[:i], append([]field{canary}, out[i:]...)...)
}

func (p *prober) privileged(fields []field) bool {
	for _, f := range fields {
		if f.class == Privilege {
			return true
		}
	}
	return false
}

// send sends a JSON request (body nil for none).
func (p *prober) send(ctx context.Context, method, urlPath string, op *scan.Operation, body map[string]any) *scan.Exchange {
	req := &scan.Request{Method: method, Path: urlPath, Operation: op, Identity: identity(p.t), NoRedirect: method != http.MethodGet}
	if op != nil {
		req.Query = probe.Query(p.t, op)
	}
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil
		}
		req.Body = b
		req.Header = http.Header{"Content-Type": {"application/json"}}
	}
	return p.s.Do(ctx, req)
}

// identity is who the check acts as: the first configured identity, since
// creating objects usually takes one, or anonymous.
func identity(t *scan.Target) string {
	if len(t.Identities) > 0 {
		return t.Identities[0].Name
	}
	return ""
}

func (p *prober) item(op *scan.Operation, key string) string {
	return probe.Path(p.t, op, map[string]string{p.r.Param: key})
}

func ok(ex *scan.Exchange) bool {
	return ex != nil && ex.Response.Status >= 200 && ex.Response.Status <= 299
}

// read GETs the item and returns the exchange and the object, nil unless
// the read answered 2xx with a JSON object.
func (p *prober) read(ctx context.Context, key string) (*scan.Exchange, map[string]any) {
	ex := p.send(ctx, http.MethodGet, p.item(p.r.Read, key), p.r.Read, nil)
	if !ok(ex) {
		return ex, nil
	}
	obj := decodeObject(ex.Response.Raw)
	// Some APIs wrap the object: {"data": {...}}.
	if inner, isObj := obj["data"].(map[string]any); isObj && len(obj) <= 2 {
		obj = inner
	}
	return ex, obj
}

// create POSTs body and returns the new object, registered for clean-up,
// or nil when the API refused it or its key could not be found.
func (p *prober) create(ctx context.Context, body map[string]any) (*object, *scan.Exchange) {
	createPath := probe.Path(p.t, p.r.Create, nil)
	ex := p.send(ctx, http.MethodPost, createPath, p.r.Create, body)
	if !ok(ex) {
		return nil, ex
	}
	key := p.keyOf(ctx, body, ex)
	if key == "" {
		p.t.Notes.Add(fmt.Sprintf("%s: could not clean up an object created by POST %s: its %s was not found in the answer",
			p.meta.ID, createPath, p.r.Param))
		return nil, ex
	}
	o := &object{key: key, created: ex}
	p.objects = append(p.objects, o)
	return o, ex
}

// keyOf finds the new object's path parameter value: in the create's
// answer, in the body sent, in a Location header, or in the list.
func (p *prober) keyOf(ctx context.Context, body map[string]any, ex *scan.Exchange) string {
	resp := decodeObject(ex.Response.Raw)
	if inner, isObj := resp["data"].(map[string]any); isObj {
		resp = inner
	}
	for _, name := range []string{p.r.Param, "id", "uuid", "_id"} {
		if v, found := scalarOf(resp[name]); found {
			return v
		}
		if name == p.r.Param {
			if v, found := scalarOf(body[name]); found {
				return v
			}
		}
	}
	if loc := ex.Response.Header.Get("Location"); loc != "" {
		if u, err := url.Parse(loc); err == nil {
			if last := path.Base(strings.TrimRight(u.Path, "/")); last != "" && last != "." && last != "/" {
				if v, err := url.PathUnescape(last); err == nil {
					return v
				}
			}
		}
	}
	return p.fromList(ctx, body)
}

// fromList finds the created object in the collection by one of the
// unique values sent, and returns its key.
func (p *prober) fromList(ctx context.Context, body map[string]any) string {
	if p.r.List == nil {
		return ""
	}
	var marks []string
	for _, v := range body {
		if s, isStr := v.(string); isStr && strings.HasPrefix(strings.ToLower(s), "merlon") && s != "merlon" {
			marks = append(marks, s)
		}
	}
	if len(marks) == 0 {
		return ""
	}
	ex := p.send(ctx, http.MethodGet, probe.Path(p.t, p.r.List, nil), p.r.List, nil)
	if !ok(ex) {
		return ""
	}
	var doc any
	if json.Unmarshal(ex.Response.Raw, &doc) != nil {
		return ""
	}
	for _, o := range listObjects(doc) {
		for _, m := range marks {
			for _, v := range o {
				if v == m {
					for _, name := range []string{p.r.Param, "id", "uuid", "_id"} {
						if k, found := scalarOf(o[name]); found {
							return k
						}
					}
				}
			}
		}
	}
	return ""
}

// listObjects finds the objects of a list answer: a bare array, or the
// first array of objects under a key.
func listObjects(doc any) []map[string]any {
	arr, isArr := doc.([]any)
	if !isArr {
		if m, isObj := doc.(map[string]any); isObj {
			for _, k := range sortedKeys(m) {
				if a, isArr := m[k].([]any); isArr {
					arr = a
					break
				}
			}
		}
	}
	var out []map[string]any
	for _, e := range arr {
		if o, isObj := e.(map[string]any); isObj {
			out = append(out, o)
		}
	}
	return out
}

func scalarOf(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, v != ""
	case json.Number:
		return v.String(), true
	case float64:
		return fmt.Sprint(v), true
	}
	return "", false
}

// writeFn writes body and reads the object it wrote back.
type writeFn func(ctx context.Context, body map[string]any) (write, read *scan.Exchange, got map[string]any)

// round injects fields (their first values, or with second their second
// ones) in one write built on clean(), and, when the API refuses that
// with a 4xx, one field per write, at most singles of them. It returns
// what happened to each field by path. A field counts only when the
// separate read shows the injected value and, in the first round, base
// did not already hold it.
func round(ctx context.Context, wr writeFn, clean func() map[string]any, fields []field, base map[string]any, second bool, singles int) map[string]*attempt {
	value := func(f field) any {
		if second {
			return f.v2
		}
		return f.v1
	}
	judge := func(f field, w, r *scan.Exchange, got map[string]any) *attempt {
		a := &attempt{write: w, read: r}
		if got == nil {
			return a
		}
		v, found := lookup(got, f.path)
		a.got = v
		was, _ := lookup(base, f.path)
		a.ok = found && same(v, value(f)) && (second || !same(was, value(f)))
		return a
	}
	out := make(map[string]*attempt)
	body := clean()
	for _, f := range fields {
		set(body, f.path, clone(value(f)))
	}
	w, r, got := wr(ctx, body)
	if w == nil {
		return out
	}
	if ok(w) {
		for _, f := range fields {
			out[f.path] = judge(f, w, r, got)
		}
		return out
	}
	if w.Response.Status < 400 || w.Response.Status > 499 || len(fields) == 1 {
		return out
	}
	for i, f := range fields {
		if i >= singles {
			break
		}
		body := clean()
		set(body, f.path, clone(value(f)))
		w, r, got := wr(ctx, body)
		if w == nil {
			break
		}
		out[f.path] = judge(f, w, r, got)
	}
	return out
}

// updateInjection updates the clean object with every field, reads it
// back, and repeats with the second values for the fields that stuck.
func (p *prober) updateInjection(ctx context.Context, obj *object, createEx, baseEx *scan.Exchange, base map[string]any, fields []field, tag string) {
	clean := func() map[string]any { return cleanBody(p.r, p.r.Update, tag+"u", false) }
	wr := func(ctx context.Context, body map[string]any) (*scan.Exchange, *scan.Exchange, map[string]any) {
		w := p.send(ctx, p.r.Update.Method, p.item(p.r.Update, obj.key), p.r.Update, body)
		if !ok(w) {
			return w, nil, nil
		}
		r, got := p.read(ctx, obj.key)
		return w, r, got
	}
	first := round(ctx, wr, clean, fields, base, false, maxUpdateSingles)
	accepted := acceptedOf(fields, first)
	p.escalate(ctx, obj.key, p.r.Update, accepted, first, []scan.Evidence{
		probe.Evidence(createEx, "the probe's own object, created clean", ""),
		probe.Evidence(baseEx, "baseline read", ""),
	})
	var second map[string]*attempt
	if len(accepted) > 0 {
		second = round(ctx, wr, clean, accepted, first2base(first, accepted), true, maxUpdateSingles)
	}
	p.report(p.r.Update, "update", baseEx, accepted, first, second)
	if p.r.Delete == nil && len(accepted) > 0 {
		// The object will stay: put back what the baseline held.
		body := clean()
		for _, f := range accepted {
			if v, had := lookup(base, f.path); had {
				set(body, f.path, v)
			}
		}
		p.send(ctx, p.r.Update.Method, p.item(p.r.Update, obj.key), p.r.Update, body)
	}
}

// first2base is the object as the first round left it, for judging the
// second: only the injected values matter there.
func first2base(first map[string]*attempt, fields []field) map[string]any {
	m := make(map[string]any)
	for _, f := range fields {
		if a := first[f.path]; a != nil {
			set(m, f.path, a.got)
		}
	}
	return m
}

func acceptedOf(fields []field, res map[string]*attempt) []field {
	var out []field
	for _, f := range fields {
		if a := res[f.path]; a != nil && a.ok {
			out = append(out, f)
		}
	}
	return out
}

// createInjection creates new objects carrying the fields and reads each
// back, judging against the clean object's baseline.
func (p *prober) createInjection(ctx context.Context, baseEx *scan.Exchange, base map[string]any, fields []field, tag string) {
	n := 0
	wr := func(ctx context.Context, body map[string]any) (*scan.Exchange, *scan.Exchange, map[string]any) {
		o, w := p.create(ctx, body)
		if o == nil {
			return w, nil, nil
		}
		r, got := p.read(ctx, o.key)
		return w, r, got
	}
	clean := func() map[string]any {
		n++
		return cleanBody(p.r, p.r.Create, fmt.Sprintf("%sc%d", tag, n), true)
	}
	first := round(ctx, wr, clean, fields, base, false, maxCreateSingles)
	accepted := acceptedOf(fields, first)
	for _, f := range accepted {
		// The object whose create carried the privilege acts as the
		// escalated user.
		if key := p.keyFor(first[f.path].write); f.class == Privilege && key != "" {
			p.escalate(ctx, key, p.r.Create, accepted, first, []scan.Evidence{probe.Evidence(baseEx, "baseline: a clean object's read", "")})
			break
		}
	}
	var second map[string]*attempt
	if len(accepted) > 0 {
		second = round(ctx, wr, clean, accepted, base, true, maxCreateSingles)
	}
	p.report(p.r.Create, "create", baseEx, accepted, first, second)
}

// keyFor returns the key of the object created by exchange w.
func (p *prober) keyFor(w *scan.Exchange) string {
	for _, o := range p.objects {
		if o.created == w {
			return o.key
		}
	}
	return ""
}

// keyChange updates the clean object's key to a new value, twice, and
// looks for it under each new key. Only done when the read shows the key
// as a property, which is when a client could send it.
func (p *prober) keyChange(ctx context.Context, obj *object, baseEx *scan.Exchange, base map[string]any, tag string) {
	if _, shown := base[p.r.Param]; !shown {
		return
	}
	var ev []scan.Evidence
	for i, next := range []string{"merlon-" + tag + "k1", "merlon-" + tag + "k2"} {
		body := cleanBody(p.r, p.r.Update, tag+"u", false)
		body[p.r.Param] = next
		old := obj.key
		w := p.send(ctx, p.r.Update.Method, p.item(p.r.Update, old), p.r.Update, body)
		if !ok(w) {
			break
		}
		r, got := p.read(ctx, next)
		if got == nil {
			break
		}
		// The object now answers under the new key; the old key may
		// still answer too (a copy), and then both need deleting.
		gone, _ := p.read(ctx, old)
		if gone != nil && !ok(gone) {
			obj.key = next
		} else {
			p.objects = append(p.objects, &object{key: next, created: w})
		}
		ev = append(ev,
			probe.Evidence(w, fmt.Sprintf("update %d sets %s to %q", i+1, p.r.Param, next), ""),
			probe.Evidence(r, "the object answers under the new key", show(p.r.Param, next)))
		if gone != nil {
			ev = append(ev, probe.Evidence(gone, "the old key", ""))
		}
	}
	if len(ev) == 0 {
		return
	}
	conf := scan.Likely
	if len(ev) > 3 {
		conf = scan.Confirmed
	}
	f := p.finding(p.r.Update, p.r.Param+" (key)", scan.High, conf,
		fmt.Sprintf("Mass assignment: a client can change the key %s on update", p.r.Param),
		fmt.Sprintf("%s accepted a new %s in its body and the object then answered under the new key on a separate read. "+
			"A client that can move an object's key can take over another object's key, overwriting it, or escape "+
			"checks tied to the old one. The key should never be writable on update.", probe.Name(p.r.Update), p.r.Param))
	f.Evidence = append([]scan.Evidence{probe.Evidence(baseEx, "baseline read", "")}, ev...)
	p.findings = append(p.findings, f)
}

// report turns accepted fields into findings: confirmed when the second
// value was read back too, likely otherwise.
func (p *prober) report(op *scan.Operation, verb string, baseEx *scan.Exchange, accepted []field, first, second map[string]*attempt) {
	for _, f := range accepted {
		a1 := first[f.path]
		conf := scan.Likely
		ev := []scan.Evidence{
			probe.Evidence(baseEx, "baseline read", ""),
			probe.Evidence(a1.write, fmt.Sprintf("%s injecting %s", verb, show(f.path, f.v1)), ""),
			probe.Evidence(a1.read, "separate read shows the first value", show(f.path, f.v1)),
		}
		if a2 := second[f.path]; a2 != nil && a2.ok {
			conf = scan.Confirmed
			ev = append(ev,
				probe.Evidence(a2.write, fmt.Sprintf("%s injecting %s", verb, show(f.path, f.v2)), ""),
				probe.Evidence(a2.read, "separate read shows the second value", show(f.path, f.v2)))
		}
		loc, sev, title, why := f.path, scan.Medium, "", ""
		switch {
		case f.class == Unknown:
			loc = "merlon_canary_* (unknown attribute)"
			title = fmt.Sprintf("Mass assignment: unknown attributes are stored on %s", verb)
			why = "an attribute no schema declares, sent with a unique name, was stored and read back. The API stores " +
				"whatever a client sends, so any attribute it adds later, or that other code trusts, is client-writable."
		case harmful(f.class):
			sev = scan.High
			title = fmt.Sprintf("Mass assignment: a client can set %s on %s", f.path, verb)
			why = fmt.Sprintf("%s is a %s attribute only the server should write, yet the value a client sent was stored.", f.path, f.class)
		default:
			title = fmt.Sprintf("Mass assignment: a client can set %s on %s", f.path, verb)
			why = fmt.Sprintf("%s looks server-owned (%s), yet the value a client sent was stored.", f.path, f.class)
		}
		desc := fmt.Sprintf("%s sent %s, and a separate GET of the object returned it", probe.Name(op), show(f.path, f.v1))
		if conf == scan.Confirmed {
			desc += fmt.Sprintf("; a second write of %s was read back too", show(f.path, f.v2))
		} else {
			desc += "; a second, different value was not read back, so this stops short of proof"
		}
		x := p.finding(op, loc, sev, conf, title, desc+". "+strings.ToUpper(why[:1])+why[1:])
		x.Evidence = ev
		p.findings = append(p.findings, x)
	}
}

// finding starts one of this check's findings. Remediation is left to the
// pipeline, which picks it once the whole scan has fingerprinted the stack
// (this check's own writes often reveal the datastore).
func (p *prober) finding(op *scan.Operation, loc string, sev scan.Severity, conf scan.Confidence, title, desc string) scan.Finding {
	f := probe.Finding(p.meta, p.t, probe.Name(op), loc)
	f.Remediation = ""
	f.Severity, f.Confidence, f.Title, f.Description = sev, conf, title, desc
	return f
}
