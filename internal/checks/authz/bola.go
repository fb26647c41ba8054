package authz

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/checks/property"
	"github.com/merlonsec/merlon/internal/fill"
	"github.com/merlonsec/merlon/internal/scan"
)

// Bounds of the BOLA check; docs/checks.md documents what they cost.
const (
	// ownedPerActor is how many of an identity's own objects are tried
	// per operation.
	ownedPerActor = 2
	// maxCandidates bounds the object IDs tried per operation, adjacent
	// IDs included.
	maxCandidates = 8
	// adjacentSpan is how far adjacent-ID probing steps from a known
	// integer ID, each way.
	adjacentSpan = 2
	// cleanupTimeout bounds clean-up, which runs even after the scan's
	// context has ended.
	cleanupTimeout = 10 * time.Second
)

// bolaOps is how many item reads one run probes, by profile.
func bolaOps(p scan.Profile) int {
	switch p {
	case scan.Quick:
		return 5
	case scan.Deep:
		return 25
	}
	return 10
}

// bolaResources is how many resources the active part probes, by profile.
func bolaResources(p scan.Profile) int {
	switch p {
	case scan.Quick:
		return 1
	case scan.Deep:
		return 10
	}
	return 3
}

// BOLA looks for broken object level authorization: an object that one
// identity owns, read (and, with --active, changed or deleted) by another.
//
// Ownership comes from each identity's own list answers (the objects
// GET /orders shows alice are alice's), from the caller's own ID in a
// "who am I" answer for account-like collections, and, with --active,
// from objects the check creates itself as one identity. An object that
// anonymous callers also get, or that every identity gets alike without
// any known owner, is public and never reported.
type BOLA struct{}

var _ scan.Check = BOLA{}

// Meta describes the check.
func (BOLA) Meta() scan.Meta {
	return scan.Meta{
		ID:          "authz.bola",
		Family:      "authz",
		Title:       "Broken object level authorization",
		Category:    scan.API1BOLA,
		CWE:         639,
		Severity:    scan.High,
		MinSeverity: scan.High,
		Description: "Needs two or more identities. Reads objects one identity owns (from its own lists, its own " +
			"account, and adjacent integer IDs) as every other identity and anonymously, and reports objects " +
			"another identity of no higher role reads alike while anonymous callers cannot. With --active it also " +
			"creates objects as one identity, updates and deletes them as another, and confirms the change with a " +
			"separate read as the owner; it deletes what it created.",
	}
}

// Run probes the sampled item reads, then, with --active, the resources
// it can create objects in.
func (c BOLA) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	acts := actors(t)
	if len(acts) < 2 {
		return nil, scan.Skip("needs at least two identities (--identity or merlon.yaml) to compare")
	}
	s := probe.NewSender(h)
	b := &bola{meta: c.Meta(), t: t, h: h, s: s, r: newReader(t, s), acts: acts, found: make(map[string]bool)}
	b.selfIDs(ctx)
	n := 0
	for _, op := range t.Operations {
		if op == nil || op.Method != http.MethodGet || len(scan.PathParams(op.Path)) == 0 {
			continue
		}
		if n >= bolaOps(t.Profile) || s.Done() {
			break
		}
		n++
		b.passive(ctx, op)
	}
	if t.Active {
		n = 0
		for _, res := range property.Resources(t.Operations) {
			if res.Create == nil || res.Read == nil || res.Param == "" {
				continue
			}
			if n >= bolaResources(t.Profile) || s.Done() {
				break
			}
			n++
			b.active(ctx, res)
		}
	}
	return b.findings, s.Err()
}

// bola is one run of the BOLA check.
type bola struct {
	meta     scan.Meta
	t        *scan.Target
	h        scan.Requester // for clean-up, which outlives the Sender
	s        *probe.Sender
	r        *reader
	acts     []actor
	self     map[string]string         // actor name -> its own account ID
	selfEx   map[string]*scan.Exchange // the answers that showed it
	found    map[string]bool           // operation names already reported
	findings []scan.Finding
}

// selfIDs asks the "who am I" operation, when there is one, as each
// identity and keeps each one's own ID.
func (b *bola) selfIDs(ctx context.Context) {
	b.self, b.selfEx = make(map[string]string), make(map[string]*scan.Exchange)
	op := selfOp(b.t)
	if op == nil {
		return
	}
	for _, a := range b.acts {
		ex := b.r.get(ctx, op, probe.Path(b.t, op, nil), a)
		if !success(ex) {
			continue
		}
		obj := object(ex.Response.Raw)
		for _, k := range []string{"id", "user_id", "userId", "uid", "sub"} {
			if v, ok := scalar(obj[k]); ok {
				b.self[a.name], b.selfEx[a.name] = v, ex
				break
			}
		}
	}
}

// owned is what one identity is known to own under one collection, and
// the answer that shows it.
type owned struct {
	ids []string
	ex  *scan.Exchange
}

// owners lists, for each identity, the objects of op's collection it
// owns: the keys of its own list answer, and its own account ID when the
// collection holds accounts.
func (b *bola) owners(ctx context.Context, op *scan.Operation, coll, param, noun string) map[string]*owned {
	out := make(map[string]*owned)
	list := opAt(b.t, http.MethodGet, coll)
	for _, a := range b.acts {
		o := &owned{}
		if list != nil && len(scan.PathParams(coll)) == len(scan.PathParams(list.Path)) {
			ex := b.r.get(ctx, list, probe.Path(b.t, list, nil), a)
			if success(ex) {
				for _, obj := range listObjects(decode(ex.Response.Raw)) {
					if k := keyOf(obj, param); k != "" && !slices.Contains(o.ids, k) {
						o.ids = append(o.ids, k)
					}
				}
				o.ex = ex
			}
		}
		if id, ok := b.self[a.name]; ok && userCollections[noun] {
			o.ids = append([]string{id}, o.ids...)
			o.ex = b.selfEx[a.name]
		}
		out[a.name] = o
	}
	return out
}

// candidates returns the IDs to try: each identity's first own objects,
// a harvested or example value, and IDs adjacent to the first integer.
func (b *bola) candidates(op *scan.Operation, param string, own map[string]*owned) []string {
	var ids []string
	add := func(id string) {
		if id != "" && len(ids) < maxCandidates && !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	for _, a := range b.acts {
		for i, id := range own[a.name].ids {
			if i < ownedPerActor {
				add(id)
			}
		}
	}
	add(probe.Value(b.t, paramOf(op, param)))
	for _, id := range slices.Clone(ids) {
		n, err := strconv.Atoi(id)
		if err != nil {
			continue
		}
		for d := 1; d <= adjacentSpan; d++ {
			if n-d >= 0 {
				add(strconv.Itoa(n - d))
			}
			add(strconv.Itoa(n + d))
		}
		break
	}
	return ids
}

func paramOf(op *scan.Operation, name string) scan.Parameter {
	for _, p := range op.Parameters {
		if p.In == "path" && p.Name == name {
			return p
		}
	}
	return scan.Parameter{Name: name, In: "path"}
}

// passive reads op's candidate objects as every identity and anonymously,
// and reports the first object another identity reads like its owner.
func (b *bola) passive(ctx context.Context, op *scan.Operation) {
	coll, param, noun, ok := itemParam(op.Path)
	if !ok {
		return
	}
	own := b.owners(ctx, op, coll, param, noun)
	for _, id := range b.candidates(op, param, own) {
		if b.s.Done() || b.found[probe.Name(op)] {
			return
		}
		b.object(ctx, op, param, id, own)
	}
}

// object judges one object: who got it, who owns it, and whether
// anonymous callers get it too.
func (b *bola) object(ctx context.Context, op *scan.Operation, param, id string, own map[string]*owned) {
	urlPath := probe.Path(b.t, op, map[string]string{param: id})
	got := make(map[string]*scan.Exchange)
	any2xx := false
	for _, a := range b.acts {
		ex := b.r.get(ctx, op, urlPath, a)
		got[a.name] = ex
		any2xx = any2xx || meaningful(ex)
	}
	if !any2xx {
		return
	}
	anon := b.r.get(ctx, op, urlPath, anonymous)
	for _, a := range b.acts {
		if success(anon) && sameContent(anon, got[a.name]) {
			return // public: anonymous callers get it too
		}
	}
	var ownerOf []actor
	for _, a := range b.acts {
		if slices.Contains(own[a.name].ids, id) {
			ownerOf = append(ownerOf, a)
		}
	}
	for _, intruder := range b.acts {
		exB := got[intruder.name]
		if !meaningful(exB) || slices.Contains(own[intruder.name].ids, id) {
			continue
		}
		// Known owner: the intruder reads what the owner reads.
		for _, owner := range ownerOf {
			if owner.name == intruder.name || intruder.rank > owner.rank || !sameContent(got[owner.name], exB) {
				continue
			}
			desc := fmt.Sprintf("%s read %s's object %s=%s: the answer matches what %s gets, and %s's own answer "+
				"shows the object is %s's. Anonymous callers get %s.", intruder.label(), owner.label(), param, id,
				owner.name, owner.name, owner.name, statusText(anon))
			ev := []scan.Evidence{}
			if o := own[owner.name].ex; o != nil {
				ev = append(ev, probe.Evidence(o, owner.name+"'s own answer lists the object", id))
			}
			ev = append(ev, probe.Evidence(got[owner.name], "the owner, "+owner.name+", reads it", ""),
				probe.Evidence(exB, intruder.name+" reads the same object", ""))
			if anon != nil {
				ev = append(ev, probe.Evidence(anon, "anonymous read, for comparison", ""))
			}
			b.report(op, param, scan.Confirmed, fmt.Sprintf("%s can read %s's objects", intruder.name, owner.name), desc, ev)
			return
		}
		// Unknown owner: likely only when the intruder's own objects are
		// known and exclude it, and some identity is refused it, so it is
		// not simply shared among all signed-in users.
		if len(ownerOf) > 0 || len(own[intruder.name].ids) == 0 {
			continue
		}
		for _, other := range b.acts {
			exO := got[other.name]
			if other.name == intruder.name || exO == nil || success(exO) || exO.Response.Status >= 500 {
				continue
			}
			desc := fmt.Sprintf("%s read %s=%s, which is not among its own objects, while %s is refused it (%d) and "+
				"anonymous callers get %s. Merlon could not prove who owns the object.",
				intruder.label(), param, id, other.label(), exO.Response.Status, statusText(anon))
			ev := []scan.Evidence{
				probe.Evidence(own[intruder.name].ex, intruder.name+"'s own objects, which do not include it", ""),
				probe.Evidence(exB, intruder.name+" reads the object", ""),
				probe.Evidence(exO, other.name+" is refused the same object", ""),
			}
			if anon != nil {
				ev = append(ev, probe.Evidence(anon, "anonymous read, for comparison", ""))
			}
			b.report(op, param, scan.Likely, fmt.Sprintf("%s can read objects that are not its own", intruder.name), desc, ev)
			return
		}
	}
}

func statusText(ex *scan.Exchange) string {
	if ex == nil {
		return "no answer"
	}
	return strconv.Itoa(ex.Response.Status)
}

func (b *bola) report(op *scan.Operation, param string, conf scan.Confidence, title, desc string, ev []scan.Evidence) {
	name := probe.Name(op)
	if b.found[name] {
		return
	}
	b.found[name] = true
	f := probe.Finding(b.meta, b.t, name, param)
	f.Title = "BOLA: " + title
	f.Confidence = conf
	f.Description = desc
	f.Evidence = ev
	b.findings = append(b.findings, f)
}

// pair picks the owner and the intruder for the active part: the
// intruder's role is no higher than the owner's, lowest ranks first, so
// that an administrator's legitimate reach is never reported.
func (b *bola) pair() (owner, intruder actor, ok bool) {
	acts := slices.Clone(b.acts)
	slices.SortStableFunc(acts, func(x, y actor) int { return x.rank - y.rank })
	for _, o := range acts {
		for _, i := range acts {
			if i.name != o.name && i.rank <= o.rank {
				return o, i, true
			}
		}
	}
	return actor{}, actor{}, false
}

// active creates an object as the owner and tries to read, update and
// delete it as the intruder, each confirmed by the owner's own read.
func (b *bola) active(ctx context.Context, res *property.Resource) {
	owner, intruder, ok := b.pair()
	if !ok {
		return
	}
	tag := nonce()
	key, created := b.create(ctx, res, owner, tag)
	if key == "" {
		return
	}
	alive := true
	defer func() {
		if alive {
			b.cleanup(ctx, res, owner, key)
		}
	}()
	item := probe.Path(b.t, res.Read, map[string]string{res.Param: key})
	base := b.r.get(ctx, res.Read, item, owner)
	if !meaningful(base) {
		return
	}
	createdEv := probe.Evidence(created, "the object, created by Merlon as "+owner.name, "")
	exB := b.r.get(ctx, res.Read, item, intruder)
	anon := b.r.get(ctx, res.Read, item, anonymous)
	if meaningful(exB) && sameContent(base, exB) && !(success(anon) && sameContent(anon, base)) {
		b.report(res.Read, res.Param, scan.Confirmed, fmt.Sprintf("%s can read %s's objects", intruder.name, owner.name),
			fmt.Sprintf("Merlon created an object as %s and %s read it (%d) with the same content.",
				owner.label(), intruder.label(), exB.Response.Status),
			[]scan.Evidence{createdEv, probe.Evidence(base, "the owner reads it", ""), probe.Evidence(exB, intruder.name+" reads it", "")})
	}
	if res.Update != nil {
		b.tryUpdate(ctx, res, owner, intruder, item, key, tag, base, createdEv)
	}
	if res.Delete != nil && !b.s.Done() {
		del := &scan.Request{Method: http.MethodDelete, Path: probe.Path(b.t, res.Delete, map[string]string{res.Param: key}),
			Identity: intruder.name, Operation: res.Delete, NoRedirect: true}
		exD := b.s.Do(ctx, del)
		if success(exD) {
			b.r.forget(item)
			after := b.r.get(ctx, res.Read, item, owner)
			if gone(after) {
				alive = false
				b.report(res.Delete, res.Param, scan.Confirmed, fmt.Sprintf("%s can delete %s's objects", intruder.name, owner.name),
					fmt.Sprintf("Merlon created an object as %s; %s deleted it (%d), and %s's own read now answers %d.",
						owner.label(), intruder.label(), exD.Response.Status, owner.name, after.Response.Status),
					[]scan.Evidence{createdEv, probe.Evidence(base, "the owner reads it", ""),
						probe.Evidence(exD, intruder.name+" deletes it", ""), probe.Evidence(after, "the owner's read afterwards", "")})
			}
		}
	}
}

// tryUpdate changes one plain string field of the object as the intruder
// and reads it back as the owner.
func (b *bola) tryUpdate(ctx context.Context, res *property.Resource, owner, intruder actor, item, key, tag string, base *scan.Exchange, createdEv scan.Evidence) {
	field := plainField(res.Update)
	if field == "" {
		return
	}
	marker := "merlon-bola-" + tag
	body := map[string]any{field: marker}
	if res.Update.Method == http.MethodPut {
		body = object(base.Response.Raw)
		if body == nil {
			return
		}
		body[field] = marker
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return
	}
	exU := b.s.Do(ctx, &scan.Request{Method: res.Update.Method, Path: probe.Path(b.t, res.Update, map[string]string{res.Param: key}),
		Identity: intruder.name, Operation: res.Update, Body: raw, NoRedirect: true,
		Header: http.Header{"Content-Type": {"application/json"}}})
	if !success(exU) {
		return
	}
	b.r.forget(item)
	after := b.r.get(ctx, res.Read, item, owner)
	if v, _ := scalar(object(after.Response.Raw)[field]); success(after) && v == marker {
		b.report(res.Update, res.Param, scan.Confirmed, fmt.Sprintf("%s can change %s's objects", intruder.name, owner.name),
			fmt.Sprintf("Merlon created an object as %s; %s set %s to %q (%d), and %s's own read shows the new value.",
				owner.label(), intruder.label(), field, marker, exU.Response.Status, owner.name),
			[]scan.Evidence{createdEv, probe.Evidence(base, "the owner reads it", ""),
				probe.Evidence(exU, intruder.name+" updates it", marker), probe.Evidence(after, "the owner's read shows the change", marker)})
	}
}

// plainField returns a string property of op's body with no format, enum
// or pattern, which a harmless marker can be written to.
func plainField(op *scan.Operation) string {
	if op.RequestBody == nil || op.RequestBody.Schema == nil {
		return ""
	}
	var names []string
	for n, s := range op.RequestBody.Schema.Properties {
		if s == nil || s.Type != "string" || s.Format != "" || len(s.Enum) > 0 || s.Pattern != "" || s.ReadOnly {
			continue
		}
		if s.MaxLength != nil && *s.MaxLength < 32 {
			continue
		}
		if _, owned := property.Classify(n); owned {
			continue
		}
		names = append(names, n)
	}
	slices.Sort(names)
	if len(names) == 0 {
		return ""
	}
	return names[0]
}

// create POSTs an object as who and returns its key.
func (b *bola) create(ctx context.Context, res *property.Resource, who actor, tag string) (string, *scan.Exchange) {
	req := fill.Request(res.Create, b.t.Values)
	req.Identity, req.NoRedirect = who.name, true
	if field := plainField(res.Create); field != "" && req.Body != nil {
		var body map[string]any
		if json.Unmarshal(req.Body, &body) == nil && body != nil {
			body[field] = "merlon-" + tag
			if raw, err := json.Marshal(body); err == nil {
				req.Body = raw
			}
		}
	}
	ex := b.s.Do(ctx, req)
	if !success(ex) {
		return "", ex
	}
	key := keyOf(object(ex.Response.Raw), res.Param)
	if key == "" {
		key = locationKey(ex.Response.Header)
	}
	if key == "" {
		b.t.Notes.Add(fmt.Sprintf("%s: could not clean up an object created by POST %s: its key was not in the answer", b.meta.ID, res.Collection))
	}
	return key, ex
}

// cleanup deletes an object the check created, as its owner, and notes
// on the target when it cannot.
func (b *bola) cleanup(ctx context.Context, res *property.Resource, who actor, key string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if res.Delete == nil {
		b.t.Notes.Add(fmt.Sprintf("%s could not clean up %s=%s (created by POST %s): the API has no DELETE for it",
			b.meta.ID, res.Param, key, res.Collection))
		return
	}
	del := probe.Path(b.t, res.Delete, map[string]string{res.Param: key})
	ex, err := b.h.Do(ctx, &scan.Request{Method: http.MethodDelete, Path: del, Operation: res.Delete, Identity: who.name})
	switch {
	case err != nil:
		b.t.Notes.Add(fmt.Sprintf("%s could not clean up: DELETE %s failed: %v", b.meta.ID, del, err))
	case ex.Response.Status >= 300 && !gone(ex):
		b.t.Notes.Add(fmt.Sprintf("%s could not clean up: DELETE %s answered %d", b.meta.ID, del, ex.Response.Status))
	}
}

// nonce is a short random string that makes the check's values unique.
func nonce() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return strings.ToLower(hex.EncodeToString(b))
}
