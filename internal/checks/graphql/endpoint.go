// Package graphql holds Merlon's GraphQL checks: introspection, field
// suggestions, batching and depth limits, and the property and function
// level authorization checks applied to queries and mutations.
//
// Every check first finds the target's GraphQL endpoints: the usual paths
// (/graphql, /api/graphql, /graphiql, /v1/graphql, /query) and any
// inventory path that names GraphQL, each asked {__typename} over GET,
// which is read-only and so allowed in a passive scan. With --active a
// path that refuses GET is asked again over POST. A path counts only when
// it answers {"data":{"__typename":…}}, so a REST route that happens to
// be called /query is never taken for GraphQL.
package graphql

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// Paths are where GraphQL servers are usually mounted.
var Paths = []string{"/graphql", "/api/graphql", "/graphiql", "/v1/graphql", "/query"}

// maxEndpoints bounds how many endpoints a check works on, and
// maxCandidates how many paths discovery tries (two requests each at most).
const (
	maxEndpoints  = 2
	maxCandidates = 10
)

// Endpoint is a path that answers GraphQL.
type Endpoint struct {
	Path string
	// GET is true when queries over GET work; POST when POST was tried
	// (only with --active) and works.
	GET, POST bool
}

// Response is a GraphQL answer.
type Response struct {
	Data   map[string]any `json:"data"`
	Errors []struct {
		Message string `json:"message"`
	} `json:"errors"`
}

// messages joins the error messages.
func (r *Response) messages() string {
	var m []string
	for _, e := range r.Errors {
		m = append(m, e.Message)
	}
	return strings.Join(m, "\n")
}

// candidates lists the paths to try: inventory paths naming GraphQL first,
// then the usual ones, without repeats.
func candidates(t *scan.Target) []string {
	seen := map[string]bool{}
	var out []string
	add := func(p string) {
		if !seen[p] && len(out) < maxCandidates {
			seen[p] = true
			out = append(out, p)
		}
	}
	for _, op := range t.Operations {
		if op != nil && strings.Contains(strings.ToLower(op.Path), "graphql") && !strings.Contains(op.Path, "{") {
			add(op.Path)
		}
	}
	for _, p := range Paths {
		add(p)
	}
	return out
}

// Find returns the target's GraphQL endpoints, at most maxEndpoints.
func Find(ctx context.Context, t *scan.Target, s *probe.Sender) []Endpoint {
	var eps []Endpoint
	for _, p := range candidates(t) {
		if len(eps) >= maxEndpoints || s.Done() {
			break
		}
		ep := Endpoint{Path: p}
		if _, r := send(ctx, s, ep, "GET", "{__typename}"); isTypename(r) {
			ep.GET = true
		}
		if t.Active && !ep.GET {
			if _, r := send(ctx, s, ep, "POST", "{__typename}"); isTypename(r) {
				ep.POST = true
			}
		}
		if ep.GET || ep.POST {
			eps = append(eps, ep)
		}
	}
	return eps
}

func isTypename(r *Response) bool {
	if r == nil {
		return false
	}
	_, ok := r.Data["__typename"].(string)
	return ok
}

// Query sends a read-only query the passive way when it can: over GET
// when the endpoint takes GET, else over POST (which the engine allows
// only with --active).
func Query(ctx context.Context, s *probe.Sender, ep Endpoint, query string) (*scan.Exchange, *Response) {
	return queryAs(ctx, s, ep, query, "")
}

// queryAs is Query acting as the identity named who (a scan.Request
// Identity: "" for the default, scan.Anonymous for none).
func queryAs(ctx context.Context, s *probe.Sender, ep Endpoint, query, who string) (*scan.Exchange, *Response) {
	method := "GET"
	if !ep.GET {
		method = "POST"
	}
	return sendAs(ctx, s, ep, method, query, who)
}

// send sends query to ep over method and decodes the answer; the
// response is nil when the answer is not a GraphQL JSON object.
func send(ctx context.Context, s *probe.Sender, ep Endpoint, method, query string) (*scan.Exchange, *Response) {
	return sendAs(ctx, s, ep, method, query, "")
}

// sendAs is send acting as the identity named who.
func sendAs(ctx context.Context, s *probe.Sender, ep Endpoint, method, query, who string) (*scan.Exchange, *Response) {
	req := &scan.Request{Method: method, Path: ep.Path, Header: http.Header{"Accept": {"application/json"}}, Identity: who}
	if method == "GET" {
		req.Query = url.Values{"query": {query}}
	} else {
		body, _ := json.Marshal(map[string]string{"query": query})
		req.Body = body
		req.Header.Set("Content-Type", "application/json")
	}
	ex := s.Do(ctx, req)
	if ex == nil {
		return nil, nil
	}
	return ex, decode(ex.Response.Raw)
}

// post sends a raw JSON body (a batch) over POST.
func post(ctx context.Context, s *probe.Sender, ep Endpoint, body []byte) *scan.Exchange {
	return s.Do(ctx, &scan.Request{
		Method: "POST", Path: ep.Path, Body: body,
		Header: http.Header{"Content-Type": {"application/json"}, "Accept": {"application/json"}},
	})
}

// decode reads a GraphQL answer: a JSON object with data or errors.
func decode(raw []byte) *Response {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || raw[0] != '{' {
		return nil
	}
	var probeKeys map[string]json.RawMessage
	if json.Unmarshal(raw, &probeKeys) != nil {
		return nil
	}
	if _, ok := probeKeys["data"]; !ok {
		if _, ok := probeKeys["errors"]; !ok {
			return nil
		}
	}
	var r Response
	if json.Unmarshal(raw, &r) != nil {
		return nil
	}
	return &r
}

// endpoints is the start every check shares: a sender, the endpoints,
// and a skip when there are none.
func endpoints(ctx context.Context, t *scan.Target, h scan.Requester) (*probe.Sender, []Endpoint, error) {
	s := probe.NewSender(h)
	eps := Find(ctx, t, s)
	if len(eps) == 0 {
		if err := s.Err(); err != nil {
			return s, nil, err
		}
		return s, nil, scan.Skip("no GraphQL endpoint found")
	}
	return s, eps, nil
}

// opName is how findings name an endpoint's operation.
func opName(ep Endpoint) string {
	if ep.GET {
		return "GET " + ep.Path
	}
	return "POST " + ep.Path
}
