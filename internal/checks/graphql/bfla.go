package graphql

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// Bounds of the GraphQL BFLA check; docs/checks.md documents what they cost.
const (
	// maxPrivilegedQueries bounds the privileged-looking query fields read.
	maxPrivilegedQueries = 5
	// maxPrivilegedMutations bounds the privileged-looking mutations tried.
	maxPrivilegedMutations = 3
	// maxSelected bounds the scalar fields selected on a returned object.
	maxSelected = 10
)

// BFLA applies function level authorization to GraphQL. A schema says
// nothing of who may call what, so privilege is read from names: query
// fields such as adminStats or allUsers, mutations such as deleteUser,
// setRole, promote… or ban…. It needs two identities whose roles rank
// differently (scan.RoleRank) and a schema readable by introspection as
// the higher one.
//
// Passive: each privileged query field that needs no argument is read as
// the highest identity, anonymously and as each lower identity. It is
// reported, likely, only when anonymous is refused while a lower identity
// gets exactly the non-empty answer the highest one gets: the field is
// guarded by authentication but not by role.
//
// With --active: for each privileged mutation taking an object's id, the
// highest identity first creates an object of its own through a create
// mutation, then the lowest identity calls the privileged mutation on
// that object. Reported when it answers data without errors; confirmed
// when the highest identity then reads the object back and sees the
// effect (gone, or the sent value kept). Nothing the scanner did not
// create is ever touched, and the object is deleted afterwards (or
// listed in the report's warnings).
type BFLA struct{}

var _ scan.Check = BFLA{}

// Meta describes the check.
func (BFLA) Meta() scan.Meta {
	return scan.Meta{
		ID: "graphql.bfla", Family: "graphql",
		Title:    "Privileged GraphQL operation usable by a lower-privileged caller",
		Category: scan.API5BFLA, CWE: 285, Severity: scan.High, MinSeverity: scan.High,
		Description: "Needs two identities of different roles and introspection as the higher one. Reads up to five " +
			"privileged-looking query fields (admin…, internal…, audit…, allUsers…) that take no argument as the higher " +
			"identity, anonymously and as each lower one; likely when anonymous is refused and a lower identity gets " +
			"the same non-empty answer. With --active, for up to three privileged-looking mutations taking an id " +
			"(delete…, remove…, ban…, promote…, set…Role…), creates an object as the higher identity, calls the " +
			"mutation on it as the lowest identity and reads it back as the higher one: reported when the lower call " +
			"answers data without errors, confirmed when its effect shows. The object is deleted afterwards. " +
			"At most 5 requests per mutation.",
	}
}

// gqlActor is an identity the check acts as, with its role's rank.
type gqlActor struct {
	name, role string
	rank       int
}

func (a gqlActor) label() string {
	if a.role == "" || a.role == a.name {
		return a.name
	}
	return a.name + " (" + a.role + ")"
}

// Run reads the privileged queries and, with --active, tries the
// privileged mutations.
func (c BFLA) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	var acts []gqlActor
	for _, id := range t.Identities {
		if id.Name == "" || id.Name == scan.Anonymous {
			continue
		}
		acts = append(acts, gqlActor{name: id.Name, role: id.Role, rank: scan.RoleRank(id.Role)})
	}
	slices.SortStableFunc(acts, func(x, y gqlActor) int { return y.rank - x.rank })
	if len(acts) < 2 || acts[0].rank == acts[len(acts)-1].rank {
		return nil, scan.Skip("needs two identities whose roles differ in privilege (an admin and a user, say)")
	}
	top := acts[0]
	var lower []gqlActor
	for _, a := range acts {
		if a.rank < top.rank {
			lower = append(lower, a)
		}
	}
	s, eps, err := endpoints(ctx, t, h)
	if err != nil {
		return nil, err
	}
	var out []scan.Finding
	schemas := 0
	for _, ep := range eps {
		sch, _ := fetchSchemaAs(ctx, s, ep, top.name)
		if sch == nil {
			continue
		}
		schemas++
		b := &bfla{c: c, t: t, s: s, ep: ep, sch: sch, top: top, lower: lower}
		out = append(out, b.queries(ctx)...)
		if t.Active {
			out = append(out, b.mutations(ctx)...)
		}
	}
	if schemas == 0 {
		if err := s.Err(); err != nil {
			return nil, err
		}
		return nil, scan.Skip("no GraphQL schema readable by introspection as " + top.name)
	}
	return out, s.Err()
}

type bfla struct {
	c     BFLA
	t     *scan.Target
	s     *probe.Sender
	ep    Endpoint
	sch   *Schema
	top   gqlActor
	lower []gqlActor // less privileged than top, most privileged first
}

// privilegedQuery reports a query field name that reads what only
// administrators should: admin…, internal…, audit…, or a listing of every
// user or account.
func privilegedQuery(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"admin", "internal", "audit", "superuser", "staff", "sudo", "impersonat"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	for _, w := range []string{"allusers", "allaccounts", "allcustomers", "allmembers"} {
		if strings.HasPrefix(n, w) {
			return true
		}
	}
	return false
}

// privilegedMutation reports a mutation name that acts on others or on
// privileges: deletes and bans, promotions, and setting roles or
// permissions.
func privilegedMutation(name string) bool {
	n := strings.ToLower(name)
	if privilegedQuery(n) {
		return true
	}
	for _, p := range []string{"delete", "remove", "destroy", "purge", "ban", "unban", "suspend", "promote", "demote", "grant", "revoke", "impersonate", "disable", "lock"} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	for _, w := range []string{"role", "permission", "privilege"} {
		if strings.Contains(n, w) {
			for _, p := range []string{"set", "update", "assign", "change", "add"} {
				if strings.HasPrefix(n, p) {
					return true
				}
			}
		}
	}
	return false
}

// removes reports a mutation whose effect is the object's removal.
func removes(name string) bool {
	n := strings.ToLower(name)
	for _, p := range []string{"delete", "remove", "destroy", "purge"} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// scalars returns the selection for a field's result: the scalar fields
// of an object type that need no argument (at most maxSelected, always
// with __typename), or "" for a scalar result.
func (b *bfla) scalars(r *TypeRef) string {
	t := b.sch.object(r)
	if t == nil {
		return ""
	}
	sel := []string{"__typename"}
	for _, f := range t.Fields {
		if len(sel) > maxSelected {
			break
		}
		if b.sch.object(f.Type) == nil && callable(f) && !strings.HasPrefix(f.Name, "__") {
			sel = append(sel, f.Name)
		}
	}
	return strings.Join(sel, " ")
}

// answered returns the field's value when r answers it without errors.
func answered(ex *scan.Exchange, r *Response, field string) (any, bool) {
	if ex == nil || r == nil || len(r.Errors) > 0 || ex.Response.Status < 200 || ex.Response.Status >= 300 {
		return nil, false
	}
	v, ok := r.Data[field]
	return v, ok && nonEmpty(v)
}

// nonEmpty reports a value that carries something: not null, false, ""
// or an empty list or object.
func nonEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case string:
		return v != ""
	case []any:
		return len(v) > 0
	case map[string]any:
		return len(v) > 0
	}
	return true
}

// same compares two answers as canonical JSON.
func same(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// queries reads each privileged query field as every actor.
func (b *bfla) queries(ctx context.Context) []scan.Finding {
	q := b.sch.Types[b.sch.Query]
	if q == nil {
		return nil
	}
	var out []scan.Finding
	tried := 0
	for _, f := range q.Fields {
		if tried >= maxPrivilegedQueries || b.s.Done() {
			break
		}
		if strings.HasPrefix(f.Name, "__") || !callable(f) || !privilegedQuery(f.Name) {
			continue
		}
		tried++
		query := "{" + f.Name + "}"
		if sel := b.scalars(f.Type); sel != "" {
			query = "{" + f.Name + "{" + sel + "}}"
		}
		topEx, topR := queryAs(ctx, b.s, b.ep, query, b.top.name)
		want, ok := answered(topEx, topR, f.Name)
		if !ok {
			continue
		}
		anonEx, anonR := queryAs(ctx, b.s, b.ep, query, scan.Anonymous)
		if anonEx == nil {
			continue
		}
		if _, open := answered(anonEx, anonR, f.Name); open {
			continue // public: nothing here for function level authorization
		}
		for _, a := range b.lower {
			ex, r := queryAs(ctx, b.s, b.ep, query, a.name)
			got, ok := answered(ex, r, f.Name)
			if !ok || !same(got, want) {
				continue
			}
			fd := probe.Finding(b.c.Meta(), b.t, opName(b.ep), f.Name)
			fd.Confidence = scan.Likely
			fd.Description = fmt.Sprintf("The query field %s, which its name marks as administrative, answers %s "+
				"exactly what it answers %s, while anonymous callers are refused: it checks that the caller is "+
				"signed in, but not the caller's role.", f.Name, a.label(), b.top.label())
			fd.Evidence = []scan.Evidence{
				probe.Evidence(topEx, "answer to the privileged identity "+b.top.label(), ""),
				probe.Evidence(anonEx, "anonymous caller refused", ""),
				probe.Evidence(ex, "same answer to the lower identity "+a.label(), f.Name),
			}
			out = append(out, fd)
			break
		}
	}
	return out
}

// mutations tries each privileged mutation, as the lowest identity, on an
// object the highest identity created for the purpose.
func (b *bfla) mutations(ctx context.Context) []scan.Finding {
	mt := b.sch.Types[b.sch.Mutation]
	if mt == nil || len(b.lower) == 0 {
		return nil
	}
	low := b.lower[len(b.lower)-1]
	var out []scan.Finding
	tried := 0
	for _, pm := range mt.Fields {
		if tried >= maxPrivilegedMutations || b.s.Done() {
			break
		}
		if creates(pm.Name) || !privilegedMutation(pm.Name) {
			continue
		}
		idArg, ok := idArgument(pm)
		if !ok {
			continue
		}
		ret, create, ok := b.creator(mt, pm)
		if !ok {
			continue
		}
		tried++
		if f, ok := b.mutation(ctx, pm, idArg, ret, create, low); ok {
			out = append(out, f)
		}
	}
	return out
}

// idArgument returns the argument of mf that names the object it acts
// on: "id", or one ending in "Id" of type ID.
func idArgument(mf Field) (string, bool) {
	for _, a := range mf.Args {
		if strings.EqualFold(a.Name, "id") {
			return a.Name, true
		}
	}
	for _, a := range mf.Args {
		if n := a.Type.Named(); n != nil && n.Name == "ID" && strings.HasSuffix(a.Name, "Id") {
			return a.Name, true
		}
	}
	return "", false
}

// creator finds the type pm acts on (its result, or the object type its
// name contains) and a create mutation returning that type.
func (b *bfla) creator(mt *Type, pm Field) (*Type, Field, bool) {
	lower := strings.ToLower(pm.Name)
	for _, cf := range mt.Fields {
		if !creates(cf.Name) {
			continue
		}
		ret := b.sch.object(cf.Type)
		if ret == nil {
			continue
		}
		if pt := b.sch.object(pm.Type); pt != nil && pt.Name == ret.Name || strings.Contains(lower, strings.ToLower(ret.Name)) {
			return ret, cf, true
		}
	}
	return nil, Field{}, false
}

// mutation runs one privileged mutation as low on a fresh object.
func (b *bfla) mutation(ctx context.Context, pm Field, idArg string, ret *Type, create Field, low gqlActor) (scan.Finding, bool) {
	admin := &mutator{t: b.t, s: b.s, ep: b.ep, sch: b.sch, as: b.top.name, check: b.c.Meta().ID}
	base, _, _, ok := admin.arguments(create)
	if !ok {
		return scan.Finding{}, false
	}
	args, ok := b.arguments(pm, idArg)
	if !ok {
		return scan.Finding{}, false
	}
	createEx, obj := admin.call(ctx, create.Name, base, "__typename id")
	id, _ := obj["id"].(string)
	if id == "" {
		return scan.Finding{}, false
	}
	gone := false
	defer func() {
		if !gone { // a confirmed removal leaves nothing to clean up
			admin.cleanup(ctx, ret, obj)
		}
	}()
	args[idArg] = id

	var parts []string
	for _, k := range slices.Sorted(maps.Keys(args)) {
		parts = append(parts, k+":"+literal(args[k]))
	}
	query := "mutation{" + pm.Name + "(" + strings.Join(parts, ", ") + ")"
	if sel := b.scalars(pm.Type); sel != "" {
		query += "{" + sel + "}"
	}
	ex, r := sendAs(ctx, b.s, b.ep, "POST", query+"}", low.name)
	if _, ok := answered(ex, r, pm.Name); !ok {
		return scan.Finding{}, false
	}
	evidence := []scan.Evidence{
		probe.Evidence(createEx, fmt.Sprintf("object created for the probe by %s", b.top.label()), ""),
		probe.Evidence(ex, fmt.Sprintf("privileged mutation answered %s without errors", low.label()), pm.Name),
	}
	conf, effect := scan.Likely, ""
	if rf, arg, ok := admin.reader(ret); ok {
		readable := b.readable(ret, args, idArg)
		rq := fmt.Sprintf("{%s(%s:%s){%s}}", rf.Name, arg, literal(id), strings.Join(append([]string{"__typename"}, readable...), " "))
		rex, rr := sendAs(ctx, b.s, b.ep, "POST", rq, b.top.name)
		var robj map[string]any
		ok := rex != nil && rr != nil && len(rr.Errors) == 0 && rex.Response.Status == http.StatusOK
		if ok {
			robj, _ = rr.Data[rf.Name].(map[string]any)
		}
		switch {
		case !ok:
		case removes(pm.Name) && rr.Data[rf.Name] == nil:
			gone = true
			conf, effect = scan.Confirmed, fmt.Sprintf(" Read back by %s, the object is gone.", b.top.label())
			evidence = append(evidence, probe.Evidence(rex, "the object is gone", ""))
		case robj != nil:
			if kept := keptValues(robj, args, readable); kept != "" {
				conf, effect = scan.Confirmed, fmt.Sprintf(" Read back by %s, the object now has %s.", b.top.label(), kept)
				evidence = append(evidence, probe.Evidence(rex, "the change is kept", kept))
			}
		}
	}
	f := probe.Finding(b.c.Meta(), b.t, "POST "+b.ep.Path, pm.Name)
	f.Confidence = conf
	f.Description = fmt.Sprintf("The mutation %s, which its name marks as privileged, ran for %s on a %s that %s "+
		"created: the server does not check the caller's role before acting.%s", pm.Name, low.label(), ret.Name, b.top.label(), effect)
	f.Evidence = evidence
	return f, true
}

// arguments fills pm's required arguments other than the id: privileged
// ones with an escalating value (role "admin"), others with plain values.
func (b *bfla) arguments(pm Field, idArg string) (map[string]any, bool) {
	args := map[string]any{}
	tag := nonce()
	for _, a := range pm.Args {
		if a.Name == idArg {
			continue
		}
		if v, ok := privilegedValue(b.sch, a); ok {
			args[a.Name] = v
			continue
		}
		if v, ok := plain(b.sch, a, tag); ok {
			args[a.Name] = v
		} else if a.Type.Required() {
			return nil, false
		}
	}
	return args, true
}

// readable returns the arguments other than the id that ret exposes as
// scalar fields of the same name, sorted, so that a read-back can show
// whether the mutation kept them.
func (b *bfla) readable(ret *Type, args map[string]any, idArg string) []string {
	var out []string
	for _, f := range ret.Fields {
		if _, sent := args[f.Name]; sent && f.Name != idArg && b.sch.object(f.Type) == nil && callable(f) {
			out = append(out, f.Name)
		}
	}
	slices.Sort(out)
	return out
}

// keptValues lists the fields the read-back object shows as sent.
func keptValues(obj, args map[string]any, fields []string) string {
	var kept []string
	for _, k := range fields {
		if got, ok := obj[k]; ok && literal(got) == literal(plainJSON(args[k])) {
			kept = append(kept, k+"="+literal(got))
		}
	}
	return strings.Join(kept, ", ")
}
