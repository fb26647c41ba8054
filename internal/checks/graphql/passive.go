package graphql

import (
	"context"
	"fmt"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// Introspection reports GraphQL endpoints that answer introspection
// queries, handing anyone the whole schema: every type, field, argument
// and mutation, hidden or not.
type Introspection struct{}

var _ scan.Check = Introspection{}

// Meta describes the check.
func (Introspection) Meta() scan.Meta {
	return scan.Meta{
		ID: "graphql.introspection", Family: "graphql",
		Title:    "GraphQL introspection enabled",
		Category: scan.API8Misconfiguration, CWE: 200, Severity: scan.Medium,
		MinSeverity: scan.Low,
		Description: "Finds GraphQL endpoints with {__typename} over GET at /graphql, /api/graphql, /graphiql, " +
			"/v1/graphql, /query and inventory paths naming GraphQL (POST too with --active), then sends one " +
			"introspection query ({__schema{…types…}}). Reported, confirmed, when the schema comes back: medium " +
			"when it lists mutations, low otherwise. At most 22 requests.",
	}
}

// introspectionQuery asks for the type list and the root types.
const introspectionQuery = "{__schema{queryType{name} mutationType{name} types{name kind}}}"

// Run checks each endpoint.
func (c Introspection) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	s, eps, err := endpoints(ctx, t, h)
	if err != nil {
		return nil, err
	}
	var out []scan.Finding
	for _, ep := range eps {
		ex, r := Query(ctx, s, ep, introspectionQuery)
		if r == nil {
			continue
		}
		sch, _ := r.Data["__schema"].(map[string]any)
		types, _ := sch["types"].([]any)
		if len(types) == 0 {
			continue
		}
		f := probe.Finding(c.Meta(), t, opName(ep), "__schema")
		f.Confidence = scan.Confirmed
		f.Severity = scan.Low
		mut := ""
		if m, ok := sch["mutationType"].(map[string]any); ok && m["name"] != nil {
			f.Severity = scan.Medium
			mut = " It includes the mutation type, so every state-changing operation is listed too."
		}
		f.Description = fmt.Sprintf("%s answers introspection: the schema's %d types came back to an "+
			"unprivileged query.%s Attackers use the schema to find hidden fields and operations.", ep.Path, len(types), mut)
		f.Evidence = []scan.Evidence{probe.Evidence(ex, "introspection query answered", fmt.Sprintf("%d types", len(types)))}
		out = append(out, f)
	}
	return out, s.Err()
}

// FieldSuggestions reports GraphQL endpoints whose errors suggest real
// field or type names ("Did you mean …?"), which lets anyone rebuild the
// schema by guessing, even with introspection off.
type FieldSuggestions struct{}

var _ scan.Check = FieldSuggestions{}

// Meta describes the check.
func (FieldSuggestions) Meta() scan.Meta {
	return scan.Meta{
		ID: "graphql.field-suggestions", Family: "graphql",
		Title:    "GraphQL error messages suggest field names",
		Category: scan.API8Misconfiguration, CWE: 200, Severity: scan.Low,
		MinSeverity: scan.Low,
		Description: "Finds GraphQL endpoints as graphql.introspection does, then sends up to four queries with " +
			"near-miss names (a misspelt root type in an inline fragment, and misspelt common fields such as " +
			"usr, nod, itm) and reports, confirmed, an error message that answers \"Did you mean\" with a name " +
			"the query did not contain. At most 24 requests.",
	}
}

// suggestionProbes are near misses of names many schemas have.
var suggestionProbes = []string{
	"{... on Quer{__typename}}",
	"{usr{__typename}}",
	"{nod{__typename}}",
	"{itm{__typename}}",
}

// Run checks each endpoint.
func (c FieldSuggestions) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	s, eps, err := endpoints(ctx, t, h)
	if err != nil {
		return nil, err
	}
	var out []scan.Finding
	for _, ep := range eps {
		for _, q := range suggestionProbes {
			ex, r := Query(ctx, s, ep, q)
			if r == nil {
				continue
			}
			msg := r.messages()
			i := strings.Index(strings.ToLower(msg), "did you mean")
			if i < 0 {
				continue
			}
			hint := msg[i:]
			if j := strings.IndexAny(hint, "?\n"); j >= 0 {
				hint = hint[:j+1]
			}
			f := probe.Finding(c.Meta(), t, opName(ep), "errors")
			f.Confidence = scan.Confirmed
			f.Severity = scan.Low
			f.Description = fmt.Sprintf("%s answers a misspelt name with a suggestion (%q), so the schema can be "+
				"recovered by guessing even when introspection is disabled.", ep.Path, hint)
			f.Evidence = []scan.Evidence{probe.Evidence(ex, "near-miss name answered with a suggestion", hint)}
			out = append(out, f)
			break
		}
	}
	return out, s.Err()
}
