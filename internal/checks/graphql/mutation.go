package graphql

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/checks/property"
	"github.com/merlonsec/merlon/internal/scan"
)

// maxMutations bounds how many create mutations one endpoint is probed on.
const maxMutations = 3

// MassAssignment applies property-level authorization to GraphQL: a create
// mutation whose input accepts a privileged-looking field (role, isAdmin,
// credits, verified…) is called twice, without and with that field set,
// and the objects are read back through a query. Only a privileged value
// the server kept, where the baseline object did not get it, is reported.
type MassAssignment struct{}

var _ scan.Check = MassAssignment{}

// Meta describes the check.
func (MassAssignment) Meta() scan.Meta {
	return scan.Meta{
		ID: "graphql.mass-assignment", Family: "graphql",
		Title:    "Privileged field settable through a GraphQL mutation",
		Category: scan.API3PropertyAuthorization, CWE: 915, Severity: scan.High, MinSeverity: scan.High, Active: true,
		Description: "With --active and introspection available, picks up to three create/add/register mutations " +
			"whose input has fields that name privileges, ownership, billing or verification (role, isAdmin, " +
			"credits, verified…). Each is called once with only the required fields and once with the " +
			"privileged fields set (role \"admin\", booleans true, numbers 999999), and both objects are read " +
			"back by a query taking their id. Confirmed when the read-back shows the sent value and the baseline " +
			"does not; likely when no query can read it back but the mutation's answer shows it. Created objects " +
			"are deleted through a delete/remove mutation taking the id, or listed in the report's warnings. " +
			"At most 8 requests per mutation.",
	}
}

// Run checks each endpoint.
func (c MassAssignment) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	s, eps, err := endpoints(ctx, t, h)
	if err != nil {
		return nil, err
	}
	var out []scan.Finding
	schemas := 0
	for _, ep := range eps {
		sch, _ := fetchSchema(ctx, s, ep)
		if sch == nil || sch.Mutation == "" {
			continue
		}
		schemas++
		m := &mutator{c: c, t: t, s: s, ep: ep, sch: sch, check: c.Meta().ID}
		out = append(out, m.run(ctx)...)
	}
	if schemas == 0 {
		if err := s.Err(); err != nil {
			return nil, err
		}
		return nil, scan.Skip("no GraphQL schema with mutations readable by introspection")
	}
	return out, s.Err()
}

type mutator struct {
	c   MassAssignment
	t   *scan.Target
	s   *probe.Sender
	ep  Endpoint
	sch *Schema
	// as is the identity the mutator acts as ("" for the default), and
	// check the ID its notes name.
	as    string
	check string
}

// privField is a privileged input field and the value sent for it.
type privField struct {
	name  string
	value any
}

func (m *mutator) run(ctx context.Context) []scan.Finding {
	mt := m.sch.Types[m.sch.Mutation]
	if mt == nil {
		return nil
	}
	var out []scan.Finding
	tried := 0
	for _, mf := range mt.Fields {
		if tried >= maxMutations || m.s.Done() {
			break
		}
		if !creates(mf.Name) {
			continue
		}
		ret := m.sch.object(mf.Type)
		if ret == nil {
			continue
		}
		base, inject, privs, ok := m.arguments(mf)
		if !ok || len(privs) == 0 {
			continue
		}
		tried++
		if f, ok := m.probe(ctx, mf, ret, base, inject, privs); ok {
			out = append(out, f)
		}
	}
	return out
}

// creates reports a mutation name that creates something.
func creates(name string) bool {
	n := strings.ToLower(name)
	for _, p := range []string{"create", "add", "register", "signup", "new"} {
		if strings.HasPrefix(n, p) {
			return true
		}
	}
	return false
}

// arguments builds the mutation's arguments twice: base with required
// fields only, inject with the privileged fields added. An input object
// argument is filled field by field; scalar arguments directly.
func (m *mutator) arguments(mf Field) (base, inject map[string]any, privs []privField, ok bool) {
	base, inject = map[string]any{}, map[string]any{}
	tag := nonce()
	for _, a := range mf.Args {
		named := a.Type.Named()
		if t := m.sch.Types[named.Name]; t != nil && t.Kind == "INPUT_OBJECT" {
			bin, iin := map[string]any{}, map[string]any{}
			for _, f := range t.InputFields {
				if p, ok := privilegedValue(m.sch, f); ok {
					iin[f.Name] = p
					privs = append(privs, privField{f.Name, p})
					continue
				}
				if v, ok := plain(m.sch, f, tag); ok {
					bin[f.Name], iin[f.Name] = v, v
				} else if f.Type.Required() {
					return nil, nil, nil, false
				}
			}
			base[a.Name], inject[a.Name] = bin, iin
			continue
		}
		if p, ok := privilegedValue(m.sch, a); ok {
			inject[a.Name] = p
			privs = append(privs, privField{a.Name, p})
			continue
		}
		if v, ok := plain(m.sch, a, tag); ok {
			base[a.Name], inject[a.Name] = v, v
		} else if a.Type.Required() {
			return nil, nil, nil, false
		}
	}
	return base, inject, privs, true
}

// privilegedValue returns an escalating value for a field whose name
// looks server-owned and harmful to let clients set.
func privilegedValue(sch *Schema, f Field) (any, bool) {
	class, ok := property.Classify(f.Name)
	if !ok {
		return nil, false
	}
	switch class {
	case property.Privilege, property.Billing, property.Verification:
	default:
		return nil, false
	}
	n := f.Type.Named()
	var v any
	switch {
	case n == nil:
		return nil, false
	case n.Name == "Boolean":
		v = true
	case n.Name == "Int" || n.Name == "Float":
		v = 999999
	case (n.Name == "String" || n.Name == "ID") && class == property.Privilege:
		v = "admin"
	case sch.Types[n.Name] != nil && sch.Types[n.Name].Kind == "ENUM":
		for _, ev := range sch.Types[n.Name].EnumValues {
			if strings.Contains(strings.ToLower(ev.Name), "admin") {
				v = enum(ev.Name)
			}
		}
	}
	if v == nil {
		return nil, false
	}
	if f.Type.List() {
		v = []any{v}
	}
	return v, true
}

// plain returns an ordinary value for a required or well-known field.
func plain(sch *Schema, f Field, tag string) (any, bool) {
	n := f.Type.Named()
	if n == nil {
		return nil, false
	}
	lower := strings.ToLower(f.Name)
	if !f.Type.Required() && !strings.Contains(lower, "name") && !strings.Contains(lower, "email") && lower != "title" {
		return nil, false
	}
	var v any
	switch n.Name {
	case "String", "ID":
		v = "merlon-" + tag
		if strings.Contains(lower, "email") {
			v = "merlon-" + tag + "@example.invalid"
		}
	case "Int", "Float":
		v = 1
	case "Boolean":
		v = false
	default:
		if t := sch.Types[n.Name]; t != nil && t.Kind == "ENUM" && len(t.EnumValues) > 0 {
			v = enum(t.EnumValues[0].Name)
		}
	}
	if v == nil {
		return nil, false
	}
	if f.Type.List() {
		v = []any{v}
	}
	return v, true
}

// selection is what to read of the created type: its id and the
// privileged fields it exposes as scalars.
func (m *mutator) selection(ret *Type, privs []privField) (string, []string) {
	has := map[string]bool{}
	for _, f := range ret.Fields {
		if n := f.Type.Named(); n != nil && m.sch.object(f.Type) == nil && callable(f) {
			has[f.Name] = true
		}
	}
	var read []string
	for _, p := range privs {
		if has[p.name] {
			read = append(read, p.name)
		}
	}
	sel := "__typename"
	if has["id"] {
		sel += " id"
	}
	return sel + " " + strings.Join(read, " "), read
}

func (m *mutator) call(ctx context.Context, name string, args map[string]any, sel string) (*scan.Exchange, map[string]any) {
	var parts []string
	for k, v := range args {
		parts = append(parts, k+":"+literal(v))
	}
	q := "mutation{" + name
	if len(parts) > 0 {
		q += "(" + strings.Join(parts, ", ") + ")"
	}
	if sel != "" {
		q += "{" + sel + "}"
	}
	ex, r := sendAs(ctx, m.s, m.ep, "POST", q+"}", m.as)
	if r == nil || len(r.Errors) > 0 {
		return ex, nil
	}
	obj, _ := r.Data[name].(map[string]any)
	return ex, obj
}

// reader finds a query field returning ret that takes one id argument.
func (m *mutator) reader(ret *Type) (Field, string, bool) {
	q := m.sch.Types[m.sch.Query]
	if q == nil {
		return Field{}, "", false
	}
	for _, f := range q.Fields {
		if t := m.sch.object(f.Type); t == nil || t.Name != ret.Name || f.Type.List() {
			continue
		}
		for _, a := range f.Args {
			if strings.EqualFold(a.Name, "id") {
				return f, a.Name, true
			}
		}
	}
	return Field{}, "", false
}

func (m *mutator) readBack(ctx context.Context, rf Field, arg, id, sel string) (*scan.Exchange, map[string]any) {
	ex, r := sendAs(ctx, m.s, m.ep, "POST", fmt.Sprintf("{%s(%s:%s){%s}}", rf.Name, arg, literal(id), sel), m.as)
	if r == nil || len(r.Errors) > 0 {
		return ex, nil
	}
	obj, _ := r.Data[rf.Name].(map[string]any)
	return ex, obj
}

func (m *mutator) probe(ctx context.Context, mf Field, ret *Type, base, inject map[string]any, privs []privField) (scan.Finding, bool) {
	sel, read := m.selection(ret, privs)
	if len(read) == 0 {
		return scan.Finding{}, false // nothing to observe
	}
	baseEx, baseObj := m.call(ctx, mf.Name, base, sel)
	injEx, injObj := m.call(ctx, mf.Name, inject, sel)
	defer m.cleanup(ctx, ret, baseObj, injObj)
	if injObj == nil {
		return scan.Finding{}, false
	}
	evidence := []scan.Evidence{}
	if baseEx != nil {
		evidence = append(evidence, probe.Evidence(baseEx, "baseline create without privileged fields", ""))
	}
	evidence = append(evidence, probe.Evidence(injEx, "create with privileged fields", ""))
	conf := scan.Likely
	shown, baseShown := injObj, baseObj
	if rf, arg, ok := m.reader(ret); ok {
		id, _ := injObj["id"].(string)
		if id == "" {
			return scan.Finding{}, false
		}
		rex, robj := m.readBack(ctx, rf, arg, id, sel)
		if robj == nil {
			return scan.Finding{}, false
		}
		if bid, _ := baseObj["id"].(string); bid != "" {
			_, baseShown = m.readBack(ctx, rf, arg, bid, sel)
		}
		evidence = append(evidence, probe.Evidence(rex, "read back by a separate query", ""))
		shown, conf = robj, scan.Confirmed
	}
	var kept []string
	for _, p := range privs {
		got, ok := shown[p.name]
		if !ok || literal(got) != literal(plainJSON(p.value)) {
			continue
		}
		if baseShown != nil && literal(baseShown[p.name]) == literal(got) {
			continue // the default already: proves nothing
		}
		kept = append(kept, fmt.Sprintf("%s=%s", p.name, literal(got)))
	}
	if len(kept) == 0 {
		return scan.Finding{}, false
	}
	evidence[len(evidence)-1].Matched = strings.Join(kept, ", ")
	f := probe.Finding(m.c.Meta(), m.t, "POST "+m.ep.Path, mf.Name)
	f.Severity = scan.High
	f.Confidence = conf
	f.Description = fmt.Sprintf("The mutation %s accepted privileged input and kept it (%s): a client can grant "+
		"itself what only the server should decide.", mf.Name, strings.Join(kept, ", "))
	f.Evidence = evidence
	return f, true
}

// plainJSON turns enum values into the strings JSON answers carry.
func plainJSON(v any) any {
	switch v := v.(type) {
	case enum:
		return string(v)
	case []any:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = plainJSON(x)
		}
		return out
	}
	return v
}

// cleanup deletes created objects through a delete mutation taking an
// id, or notes them when there is none.
func (m *mutator) cleanup(ctx context.Context, ret *Type, objs ...map[string]any) {
	var ids []string
	for _, o := range objs {
		if id, _ := o["id"].(string); id != "" {
			ids = append(ids, id)
		}
	}
	if len(ids) == 0 {
		return
	}
	var del *Field
	if mt := m.sch.Types[m.sch.Mutation]; mt != nil {
		for i, f := range mt.Fields {
			n := strings.ToLower(f.Name)
			if (strings.HasPrefix(n, "delete") || strings.HasPrefix(n, "remove")) && strings.Contains(n, strings.ToLower(ret.Name)) {
				for _, a := range f.Args {
					if strings.EqualFold(a.Name, "id") {
						del = &mt.Fields[i]
					}
				}
			}
		}
	}
	for _, id := range ids {
		if del == nil {
			m.t.Notes.Add(fmt.Sprintf("%s created %s %s at %s and found no delete mutation to remove it", m.check, ret.Name, id, m.ep.Path))
			continue
		}
		sel := ""
		if m.sch.object(del.Type) != nil {
			sel = "__typename"
		}
		if ex, _ := m.call(ctx, del.Name, map[string]any{"id": id}, sel); ex == nil || ex.Response.Status >= 300 {
			m.t.Notes.Add(fmt.Sprintf("%s could not delete %s %s at %s", m.check, ret.Name, id, m.ep.Path))
		}
	}
}

// nonce tags created objects so that they can be told apart.
func nonce() string {
	b := make([]byte, 4)
	rand.Read(b)
	return hex.EncodeToString(b)
}
