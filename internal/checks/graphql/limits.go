package graphql

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// BatchSize is how many operations the batching check packs into one
// request, as an array and as aliases: far above what any client needs,
// small enough to cost a server nothing when it answers.
const BatchSize = 50

// Batching reports GraphQL endpoints that answer a request carrying
// BatchSize operations, by array batching or by aliases: one HTTP request
// then does the work of many, which defeats rate limits and turns
// brute-forcing (of login or OTP mutations) into a handful of requests.
type Batching struct{}

var _ scan.Check = Batching{}

// Meta describes the check.
func (Batching) Meta() scan.Meta {
	return scan.Meta{
		ID: "graphql.batching", Family: "graphql",
		Title:    "GraphQL batching without a limit",
		Category: scan.API4ResourceConsumption, CWE: 770, Severity: scan.Medium, MinSeverity: scan.Medium, Active: true,
		Description: "With --active, finds GraphQL endpoints as graphql.introspection does, then POSTs a JSON " +
			"array of 50 {__typename} queries and one query with 50 aliases of __typename. Each is reported, " +
			"confirmed, when all 50 are answered. __typename costs the server nothing, so the probe is harmless. " +
			"At most 14 requests.",
	}
}

// Run checks each endpoint.
func (c Batching) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	s, eps, err := endpoints(ctx, t, h)
	if err != nil {
		return nil, err
	}
	var out []scan.Finding
	for _, ep := range eps {
		batch := make([]map[string]string, BatchSize)
		for i := range batch {
			batch[i] = map[string]string{"query": "{__typename}"}
		}
		body, _ := json.Marshal(batch)
		if ex := post(ctx, s, ep, body); ex != nil {
			var answers []Response
			if json.Unmarshal(ex.Response.Raw, &answers) == nil && countTypename(answers) == BatchSize {
				f := probe.Finding(c.Meta(), t, "POST "+ep.Path, "array batch")
				f.Confidence = scan.Confirmed
				f.Severity = scan.Medium
				f.Description = fmt.Sprintf("%s answered all %d operations of one array-batched request. One HTTP "+
					"request can carry any number of operations, so per-request rate limits do not hold.", ep.Path, BatchSize)
				f.Evidence = []scan.Evidence{probe.Evidence(ex, "array batch answered in full", fmt.Sprintf("%d answers", BatchSize))}
				out = append(out, f)
			}
		}
		var q strings.Builder
		q.WriteString("{")
		for i := range BatchSize {
			fmt.Fprintf(&q, "a%d:__typename ", i)
		}
		q.WriteString("}")
		ex, r := send(ctx, s, ep, "POST", q.String())
		if r == nil || len(r.Errors) > 0 {
			continue
		}
		n := 0
		for i := range BatchSize {
			if _, ok := r.Data[fmt.Sprintf("a%d", i)].(string); ok {
				n++
			}
		}
		if n == BatchSize {
			f := probe.Finding(c.Meta(), t, "POST "+ep.Path, "aliases")
			f.Confidence = scan.Confirmed
			f.Severity = scan.Medium
			f.Description = fmt.Sprintf("%s answered a query with %d aliases of one field. Aliases let one "+
				"request repeat an operation (a login, an expensive field) without limit.", ep.Path, BatchSize)
			f.Evidence = []scan.Evidence{probe.Evidence(ex, "all aliases answered", fmt.Sprintf("%d aliases", n))}
			out = append(out, f)
		}
	}
	return out, s.Err()
}

func countTypename(rs []Response) int {
	n := 0
	for i := range rs {
		if isTypename(&rs[i]) && len(rs[i].Errors) == 0 {
			n++
		}
	}
	return n
}

// Depth is the nesting the depth-limit check asks for. Legitimate
// clients rarely go past 10, and the full introspection query needs 13.
const Depth = 15

// DepthLimit reports GraphQL endpoints that execute a query nested Depth
// levels deep. Without a depth limit a recursive relation (user → friends
// → user …) lets one small query make the server do exponential work.
type DepthLimit struct{}

var _ scan.Check = DepthLimit{}

// Meta describes the check.
func (DepthLimit) Meta() scan.Meta {
	return scan.Meta{
		ID: "graphql.depth-limit", Family: "graphql",
		Title:    "GraphQL query depth not limited",
		Category: scan.API4ResourceConsumption, CWE: 770, Severity: scan.Medium, MinSeverity: scan.Medium, Active: true,
		Description: "With --active, finds GraphQL endpoints as graphql.introspection does, reads the schema by " +
			"introspection when allowed, and sends one query nested 15 deep: along a recursive relation of the " +
			"schema when it has one (users { friends { friends … } }), else through introspection's own " +
			"ofType chain. Reported, confirmed, when the query is answered without errors. Nothing is reported " +
			"when neither the schema nor introspection is available. At most 14 requests.",
	}
}

// Run checks each endpoint.
func (c DepthLimit) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	s, eps, err := endpoints(ctx, t, h)
	if err != nil {
		return nil, err
	}
	var out []scan.Finding
	for _, ep := range eps {
		query, how := "", ""
		if sch, _ := fetchSchema(ctx, s, ep); sch != nil {
			if q := sch.recursiveQuery(Depth); q != "" {
				query, how = q, "a recursive relation"
			}
		}
		if query == "" {
			query, how = "{__schema{types{fields{type"+strings.Repeat("{ofType", Depth-5)+"{name}"+strings.Repeat("}", Depth-5)+"}}}}", "introspection's ofType chain"
		}
		ex, r := send(ctx, s, ep, "POST", query)
		if r == nil || len(r.Errors) > 0 || len(r.Data) == 0 {
			continue
		}
		f := probe.Finding(c.Meta(), t, "POST "+ep.Path, "depth")
		f.Confidence = scan.Confirmed
		f.Severity = scan.Medium
		f.Description = fmt.Sprintf("%s executed a query nested %d levels deep through %s. Without a depth "+
			"limit, a few nested levels of a recursive relation multiply the server's work.", ep.Path, Depth, how)
		f.Evidence = []scan.Evidence{probe.Evidence(ex, "deep query answered", fmt.Sprintf("depth %d", Depth))}
		out = append(out, f)
	}
	return out, s.Err()
}
