package input

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/checks/property"
	"github.com/merlonsec/merlon/internal/scan"
)

// Bounds of the validation check; docs/checks.md documents what they cost.
const (
	// maxFields bounds the fields tried per resource.
	maxFields = 8
	// maxValuesPerField bounds the invalid values tried per field.
	maxValuesPerField = 3
	// longString is the length of the over-long string sent to a string
	// field whose spec sets no maxLength.
	longString = 10_000
	// maxDeclaredLength is the longest maxLength the check will exceed;
	// past it the over-long string costs more than it tells.
	maxDeclaredLength = 100_000
)

// validationResources is how many resources one run probes, by profile.
func validationResources(p scan.Profile) int {
	switch p {
	case scan.Quick:
		return 2
	case scan.Deep:
		return 10
	}
	return 5
}

// Validation proves missing input validation by writing: it creates an
// object of its own, writes one invalid value to one field at a time
// (wrong type, out of range, over-long, bad format or enum), and reads the
// object back with a separate request to see whether the value was stored.
type Validation struct{}

var _ scan.Check = Validation{}

// Meta describes the check.
func (Validation) Meta() scan.Meta {
	return scan.Meta{
		ID:          "input.validation",
		Family:      "input",
		Title:       "Invalid input accepted and stored",
		Category:    scan.API8Misconfiguration,
		CWE:         20,
		Severity:    scan.Medium,
		MinSeverity: scan.Medium,
		Active:      true,
		Description: "Creates an object of its own per writable resource and writes, one field at a time, values " +
			"its schema forbids: a string in a number, numbers outside minimum and maximum, strings beyond maxLength " +
			"(10,000 characters when none is set), invalid email, date, UUID and enum values. Reads the object back " +
			"with a separate request and reports fields that stored them. Deletes what it created.",
	}
}

// invalid is one value a field's schema forbids.
type invalid struct {
	kind  string // "wrong type", "below minimum", …
	value any
	// declared is set when the spec itself forbids the value; an
	// over-long string where the spec sets no bound is only likely wrong.
	declared bool
}

// invalidValues returns at most maxValuesPerField values s forbids.
func invalidValues(s *scan.Schema, tag string) []invalid {
	var out []invalid
	switch s.Type {
	case "integer", "number":
		out = append(out, invalid{"wrong type (string)", "merlon-" + tag, true})
		if s.Minimum != nil {
			v := *s.Minimum - 10
			if *s.Minimum >= 0 {
				v = -5
			}
			out = append(out, invalid{"below minimum", v, true})
		}
		if s.Maximum != nil {
			out = append(out, invalid{"above maximum", *s.Maximum*10 + 1_000_000, true})
		}
		if s.Type == "integer" {
			out = append(out, invalid{"not an integer", 2.5, true})
		}
	case "boolean":
		out = append(out, invalid{"wrong type (string)", "merlon-" + tag, true})
	case "string":
		switch {
		case len(s.Enum) > 0:
			out = append(out, invalid{"not in enum", "merlon-bogus-" + tag, true})
		case s.Format == "email":
			out = append(out, invalid{"invalid email", "merlon-not-an-email-" + tag, true})
		case s.Format == "date":
			out = append(out, invalid{"invalid date", "2024-13-45", true})
		case s.Format == "date-time":
			out = append(out, invalid{"invalid date-time", "2024-13-45T99:99:99Z", true})
		case s.Format == "uuid":
			out = append(out, invalid{"invalid uuid", "merlon-not-a-uuid-" + tag, true})
		}
		switch {
		case s.MaxLength != nil && *s.MaxLength < maxDeclaredLength:
			out = append(out, invalid{fmt.Sprintf("longer than maxLength %d", *s.MaxLength), strings.Repeat("M", int(*s.MaxLength)+1), true})
		case s.MaxLength == nil && len(s.Enum) == 0 && s.Format == "":
			out = append(out, invalid{fmt.Sprintf("%d characters, no maxLength", longString), strings.Repeat("M", longString), false})
		}
	}
	if len(out) > maxValuesPerField {
		out = out[:maxValuesPerField]
	}
	return out
}

// Run probes each writable resource with a create and an item read, up to
// the profile's bound.
func (c Validation) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	s := probe.NewSender(h)
	var out []scan.Finding
	n := 0
	for _, r := range property.Resources(t.Operations) {
		if r.Create == nil || r.Read == nil || r.Param == "" || r.Discovered() {
			continue
		}
		if n >= validationResources(t.Profile) || s.Done() {
			break
		}
		n++
		st := &store{id: c.Meta().ID, t: t, h: h, s: s, r: r, as: identity(t)}
		out = append(out, c.resource(ctx, st)...)
	}
	return out, s.Err()
}

// target is the write the check sends invalid values through: the update
// when there is one, since it changes one field of one object, else the
// create.
func target(r *property.Resource) *scan.Operation {
	if r.Update != nil && r.Update.RequestBody != nil && r.Update.RequestBody.Schema != nil {
		return r.Update
	}
	return r.Create
}

func (c Validation) resource(ctx context.Context, st *store) []scan.Finding {
	defer st.cleanup(ctx)
	op := target(st.r)
	if op.RequestBody == nil || op.RequestBody.Schema == nil {
		return nil
	}
	tag := nonce()
	base := st.baseBody()
	key, _ := st.create(ctx, base)
	if key == "" {
		return nil
	}
	var fields []string
	for name, s := range op.RequestBody.Schema.Properties {
		if s != nil && !s.ReadOnly && name != st.r.Param && !strings.EqualFold(name, "id") {
			fields = append(fields, name)
		}
	}
	slices.Sort(fields)
	if len(fields) > maxFields {
		fields = fields[:maxFields]
	}
	var out []scan.Finding
	for _, name := range fields {
		if st.s.Done() {
			break
		}
		if f, ok := c.field(ctx, st, op, key, base, name, op.RequestBody.Schema.Properties[name], tag); ok {
			out = append(out, f)
		}
	}
	return out
}

// stored is one invalid value that got in.
type stored struct {
	v           invalid
	write, read *scan.Exchange
	readBack    bool
}

// field writes each invalid value of one field and reads it back.
func (c Validation) field(ctx context.Context, st *store, op *scan.Operation, key string, base map[string]any, name string, s *scan.Schema, tag string) (scan.Finding, bool) {
	var got []stored
	for _, v := range invalidValues(s, tag) {
		if st.s.Done() {
			break
		}
		objKey := key
		var write *scan.Exchange
		if op == st.r.Update {
			body := map[string]any{name: v.value}
			if op.Method == http.MethodPut {
				_, cur := st.read(ctx, key)
				if cur == nil {
					continue
				}
				cur[name] = v.value
				body = cur
			}
			write = st.send(ctx, op.Method, st.item(op, key), op, body)
		} else {
			body := make(map[string]any, len(base)+1)
			for k, bv := range base {
				body[k] = bv
			}
			body[name] = v.value
			objKey, write = st.create(ctx, body)
		}
		if !success(write) {
			continue
		}
		one := stored{v: v, write: write}
		if objKey != "" {
			read, obj := st.read(ctx, objKey)
			one.read = read
			if rv, ok := obj[name]; ok && canonical(rv) == canonical(v.value) {
				one.readBack = true
			} else if obj != nil {
				continue // accepted, then ignored or corrected: no harm done
			}
		}
		got = append(got, one)
	}
	if len(got) == 0 {
		return scan.Finding{}, false
	}
	conf := scan.Likely
	declared := false
	var kinds []string
	for _, g := range got {
		if g.readBack && g.v.declared {
			conf = scan.Confirmed
		}
		declared = declared || g.v.declared
		kinds = append(kinds, g.v.kind)
	}
	m := c.Meta()
	f := probe.Finding(m, st.t, probe.Name(op), name)
	f.Confidence = conf
	f.Title = fmt.Sprintf("Invalid %q accepted: %s", name, strings.Join(kinds, ", "))
	verb := "stored"
	if conf != scan.Confirmed {
		verb = "accepted"
	}
	f.Description = fmt.Sprintf("%s %s values of %q that its schema forbids (%s), as a separate read of the object "+
		"showed. Unvalidated input ends up in every consumer of the data: reports, other services, the browser.",
		probe.Name(op), verb, name, strings.Join(kinds, ", "))
	if !declared {
		f.Description = fmt.Sprintf("%s stored a %d-character %q, and the spec sets no maxLength: nothing bounds what a client can store.",
			probe.Name(op), longString, name)
	}
	for i, g := range got {
		if i >= 2 {
			break
		}
		shown := fmt.Sprint(g.v.value)
		if len(shown) > 40 {
			shown = shown[:40] + "…"
		}
		f.Evidence = append(f.Evidence, probe.Evidence(g.write, fmt.Sprintf("write with %s %s", g.v.kind, shown), ""))
		if g.read != nil {
			note := "separate read"
			if g.readBack {
				note = "separate read shows the invalid value stored"
			}
			f.Evidence = append(f.Evidence, probe.Evidence(g.read, note, shown))
		}
	}
	return f, true
}
