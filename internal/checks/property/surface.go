package property

import (
	"cmp"
	"context"
	"fmt"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// MassAssignmentSurface is the passive half: it reads the spec and one or
// two ordinary GETs per writable resource and says where mass assignment
// could happen. Only the active check can say whether it does.
type MassAssignmentSurface struct{}

var _ scan.Check = MassAssignmentSurface{}

// Meta describes the check.
func (MassAssignmentSurface) Meta() scan.Meta {
	return scan.Meta{
		ID:       "property.mass-assignment-surface",
		Family:   "property",
		Title:    "Mass assignment surface",
		Category: scan.API3PropertyAuthorization,
		CWE:      915,
		Severity: scan.Low,
		Description: "Points at writable resources whose responses carry server-owned properties (privilege, ownership, " +
			"billing, workflow state, verification, internal metadata), write schemas that accept privileged or readOnly " +
			"properties or any property at all, and properties reads return that no write declares. Sends only GETs; run " +
			"with --active to prove or clear each one.",
	}
}

// Run looks at each writable resource, within the profile's budget.
func (c MassAssignmentSurface) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	s := probe.NewSender(h)
	var out []scan.Finding
	rs := Resources(t.Operations)
	if budget := probe.Budget(t.Profile); budget > 0 && len(rs) > budget {
		rs = rs[:budget]
	}
	// Each resource's first read is sent ahead, a few at a time.
	reqs := make([]*scan.Request, len(rs))
	for i, r := range rs {
		if op := cmp.Or(r.Read, r.List); op != nil {
			reqs[i] = probe.Get(t, op)
		}
	}
	s.DoAll(ctx, reqs, func(i int, first *scan.Exchange) bool {
		out = append(out, c.resource(ctx, t, s, rs[i], first)...)
		return true
	})
	return out, s.Err()
}

// resource reports on one resource, one finding per kind.
// first is the answer to the resource's first read, already sent.
func (c MassAssignmentSurface) resource(ctx context.Context, t *scan.Target, s *probe.Sender, r *Resource, first *scan.Exchange) []scan.Finding {
	// A read shows what the stored object holds: the item when there is
	// a value to address it by, else the list.
	var ex *scan.Exchange
	var seen map[string]any
	sent := false
	for _, op := range []*scan.Operation{r.Read, r.List} {
		if op == nil {
			continue
		}
		e := first
		if sent {
			e = s.Do(ctx, probe.Get(t, op))
		}
		sent = true
		if e == nil {
			continue
		}
		if ex == nil || (!ok(ex) && ok(e)) {
			ex = e
		}
		if ok(e) {
			seen = firstObject(decodeAny(e.Response.Raw))
			if seen != nil {
				ex = e
				break
			}
		}
	}
	write := r.Create
	if write == nil {
		write = r.Update
	}
	var out []scan.Finding
	add := func(op *scan.Operation, names []string, kind string, sev scan.Severity, conf scan.Confidence, title, desc string) {
		if len(names) == 0 {
			return
		}
		f := probe.Finding(c.Meta(), t, probe.Name(op), strings.Join(names, ", "))
		f.Remediation = ""
		f.Severity, f.Confidence, f.Title = sev, conf, title
		f.Description = desc + " (" + kind + ")"
		if ex != nil {
			f.Evidence = []scan.Evidence{probe.Evidence(ex, "a read of the resource", strings.Join(names, ", "))}
		}
		out = append(out, f)
	}

	// Server-owned properties in what reads return.
	var owned []string
	valueLeaves(seen, "", 0, func(p string, _ any) {
		if _, isOwned := Classify(p); isOwned && !skipPath(r, p) {
			owned = append(owned, p)
		}
	})
	sev := scan.Low
	if len(owned) == 0 {
		schemaLeaves(readSchema(r), "", 0, func(p string, _ *scan.Schema) {
			if _, isOwned := Classify(p); isOwned && !skipPath(r, p) {
				owned = append(owned, p)
			}
		})
		sev = scan.Info
	}
	desc := fmt.Sprintf("Reads of %s return properties only the server should write, and the resource has write operations. "+
		"If a create or update copies the request into the object, a client can set them", r.Collection)
	if closedWrites(r, owned) {
		// The contract forbids sending them: what is left is a note that
		// only an active scan can check the server keeps to it.
		sev = scan.Info
		desc += ". The write schemas declare additionalProperties: false and do not list them, so only an active scan can tell whether the server enforces that"
	}
	add(r.Read, owned, "server-owned properties", sev, scan.Possible,
		fmt.Sprintf("Server-owned properties on a writable resource (%s)", r.Collection), desc)

	if !r.Discovered() {
		// What the write schemas accept.
		for _, op := range []*scan.Operation{r.Create, r.Update} {
			ws := writeSchema(op)
			if ws == nil {
				continue
			}
			var privileged, readOnly []string
			schemaLeaves(ws, "", 0, func(p string, ps *scan.Schema) {
				if class, isOwned := Classify(p); isOwned && harmful(class) && p != r.Param {
					privileged = append(privileged, p)
				}
				if ps.ReadOnly {
					readOnly = append(readOnly, p)
				}
			})
			add(op, privileged, "privileged properties in a write schema", scan.Low, scan.Likely,
				fmt.Sprintf("Write schema accepts privileged properties (%s)", probe.Name(op)),
				fmt.Sprintf("The request body of %s declares properties that grant rights, ownership or money", probe.Name(op)))
			add(op, readOnly, "readOnly properties in a write schema", scan.Low, scan.Possible,
				fmt.Sprintf("Write schema includes readOnly properties (%s)", probe.Name(op)),
				fmt.Sprintf("The request body of %s includes properties marked readOnly; the server must ignore them, "+
					"which only an active scan can verify", probe.Name(op)))
			if len(ws.Properties) > 0 && (ws.AdditionalProperties == nil || *ws.AdditionalProperties) {
				add(op, []string{"additionalProperties"}, "open write schema", scan.Info, scan.Possible,
					fmt.Sprintf("Write schema accepts any property (%s)", probe.Name(op)),
					fmt.Sprintf("The request body of %s leaves additionalProperties unset or true, so the contract "+
						"does not forbid a client from sending properties it does not list", probe.Name(op)))
			}
		}
		// Read-only candidates by inference: read, never declared.
		var inferred []string
		for _, cand := range Candidates(r, seen) {
			if cand.Class == ReadOnly {
				inferred = append(inferred, cand.Path)
			}
		}
		add(write, inferred, "read-only candidates", scan.Info, scan.Possible,
			fmt.Sprintf("Properties read but never written by clients (%s)", r.Collection),
			fmt.Sprintf("Reads of %s return properties that no create or update declares; they are probably "+
				"server-owned, and a server that stores unknown properties would let a client set them", r.Collection))
	}
	return out
}

// closedWrites reports whether every write operation of r has a request
// schema that forbids undeclared properties (additionalProperties: false)
// and declares none of names at its top level.
func closedWrites(r *Resource, names []string) bool {
	n := 0
	for _, op := range []*scan.Operation{r.Create, r.Update} {
		if op == nil {
			continue
		}
		ws := writeSchema(op)
		if ws == nil || ws.AdditionalProperties == nil || *ws.AdditionalProperties {
			return false
		}
		for _, name := range names {
			top, _, _ := strings.Cut(name, ".")
			if _, declared := ws.Properties[top]; declared {
				return false
			}
		}
		n++
	}
	return n > 0
}

// firstObject is the object a read returned, or the first object of a
// list (bare, or under a key).
func firstObject(doc any) map[string]any {
	if m, isObj := doc.(map[string]any); isObj {
		if objs := listObjects(m); len(objs) > 0 && len(m) <= 3 {
			return objs[0]
		}
		return m
	}
	if objs := listObjects(doc); len(objs) > 0 {
		return objs[0]
	}
	return nil
}

func decodeAny(raw []byte) any {
	m := decodeObject(raw)
	if m != nil {
		return m
	}
	var arr []any
	if err := jsonUnmarshalNumber(raw, &arr); err != nil {
		return nil
	}
	return arr
}
