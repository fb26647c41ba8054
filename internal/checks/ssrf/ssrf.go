package ssrf

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// callbackWait bounds how long the check waits, in all, for callbacks
// after sending its probes: a target that fetches URLs does so while
// answering, or soon after.
const callbackWait = 3 * time.Second

// metadataURL is the cloud instance metadata address; metadataMarkers are
// what its answers contain. The check only reads the target's response:
// it never contacts the address itself.
const metadataURL = "http://169.254.169.254/latest/meta-data/"

var metadataMarkers = [][]string{{"ami-id", "instance-id"}, {"computeMetadata"}, {"iam/", "hostname", "local-ipv4"}}

// pointBudget is how many points the check probes.
func pointBudget(p scan.Profile) int {
	switch p {
	case scan.Quick:
		return 3
	case scan.Deep:
		return 20
	}
	return 8
}

// RequestForgery gives URL-taking inputs a URL on Merlon's callback
// listener and reports those the target then requests.
type RequestForgery struct{}

var _ scan.Check = RequestForgery{}

// Meta describes the check.
func (RequestForgery) Meta() scan.Meta {
	return scan.Meta{
		ID:          "ssrf.request-forgery",
		Family:      "ssrf",
		Title:       "Server-side request forgery",
		Category:    scan.API7SSRF,
		CWE:         918,
		Severity:    scan.High,
		MinSeverity: scan.High,
		Active:      true,
		Description: "Finds inputs that take a URL (query parameters and JSON body properties, by name, by " +
			"format uri/url, or by an example value that is a URL) and, for up to 3 (quick), 8 (standard) or " +
			"20 (deep) of them, sends the operation with a unique URL on Merlon's callback listener " +
			"(--callback-url/--callback-listen), then waits up to 3 s in all: confirmed when the listener sees " +
			"the token. For inputs not confirmed it sends the listener's own loopback address and the cloud " +
			"metadata address (169.254.169.254), and reports likely when the response quotes the listener's " +
			"marker or metadata keys. At most 3 requests per input.",
	}
}

type sent struct {
	p   Point
	tok string
	ex  *scan.Exchange
}

// Run probes the points.
func (c RequestForgery) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	cb := t.Callbacks
	if cb == nil {
		return nil, scan.Skip("no callback listener (needs --active)")
	}
	var pts []Point
	for _, p := range Points(t) {
		if !WebhookPoint(p) && len(pts) < pointBudget(t.Profile) {
			pts = append(pts, p)
		}
	}
	if len(pts) == 0 {
		return nil, scan.Skip("no input takes a URL")
	}
	m := c.Meta()
	s := probe.NewSender(h)
	var probes []sent
	for _, p := range pts {
		u, tok := cb.New()
		req := Request(t, p, u)
		if req == nil {
			continue
		}
		ex := s.Do(ctx, req)
		if s.Done() {
			break
		}
		if ex != nil {
			probes = append(probes, sent{p, tok, ex})
		}
	}
	var out []scan.Finding
	deadline := time.Now().Add(callbackWait)
	var unconfirmed []sent
	for _, pr := range probes {
		if cb.Seen(ctx, pr.tok, time.Until(deadline)) {
			f := c.finding(m, t, pr.p)
			f.Confidence = scan.Confirmed
			f.Description = fmt.Sprintf("%s %s takes a URL (%s). Given a URL on Merlon's callback listener, the "+
				"server requested it (token %s). An attacker can make the API reach internal services, cloud "+
				"metadata or any host its network can.", probe.Name(pr.p.Op), pr.p.Location(), pr.p.Why, pr.tok)
			f.Evidence = []scan.Evidence{probe.Evidence(pr.ex, "probe carrying the callback URL; the listener received the token", pr.tok)}
			out = append(out, f)
			continue
		}
		unconfirmed = append(unconfirmed, pr)
	}
	for _, pr := range unconfirmed {
		if s.Done() || ctx.Err() != nil {
			break
		}
		if f, ok := c.internal(ctx, s, t, cb, m, pr); ok {
			out = append(out, f)
		}
	}
	return out, s.Err()
}

func (c RequestForgery) finding(m scan.Meta, t *scan.Target, p Point) scan.Finding {
	return probe.Finding(m, t, probe.Name(p.Op), p.Location())
}

// internal tries the internal-address payloads on a point the callback
// did not confirm.
func (c RequestForgery) internal(ctx context.Context, s *probe.Sender, t *scan.Target, cb scan.Callbacks, m scan.Meta, pr sent) (scan.Finding, bool) {
	u, tok := cb.New()
	if loop := cb.Loopback(tok); loop != u {
		if req := Request(t, pr.p, loop); req != nil {
			ex := s.Do(ctx, req)
			if ex != nil {
				marker := cb.Marker(tok)
				seen := cb.Seen(ctx, tok, 500*time.Millisecond)
				if seen || strings.Contains(string(ex.Response.Raw), marker) {
					f := c.finding(m, t, pr.p)
					f.Confidence = scan.Likely
					if seen {
						f.Confidence = scan.Confirmed
					}
					f.Description = fmt.Sprintf("%s %s takes a URL (%s). Given the loopback address of Merlon's "+
						"listener, the server fetched it%s: it reaches internal addresses an attacker cannot.",
						probe.Name(pr.p.Op), pr.p.Location(), pr.p.Why, map[bool]string{true: "", false: " and returned its content"}[seen])
					f.Evidence = []scan.Evidence{probe.Evidence(ex, "probe carrying an internal (loopback) URL", marker)}
					return f, true
				}
			}
		}
	}
	req := Request(t, pr.p, metadataURL)
	if req == nil {
		return scan.Finding{}, false
	}
	ex := s.Do(ctx, req)
	if ex == nil {
		return scan.Finding{}, false
	}
	body, before := string(ex.Response.Raw), string(pr.ex.Response.Raw)
	for _, set := range metadataMarkers {
		all := true
		for _, mk := range set {
			if !strings.Contains(body, mk) || strings.Contains(before, mk) {
				all = false
				break
			}
		}
		if all {
			f := c.finding(m, t, pr.p)
			f.Confidence = scan.Likely
			f.Description = fmt.Sprintf("%s %s takes a URL (%s). Given the cloud metadata address, the response "+
				"held instance metadata keys (%s) that the ordinary response did not: the server fetched it.",
				probe.Name(pr.p.Op), pr.p.Location(), pr.p.Why, strings.Join(set, ", "))
			f.Evidence = []scan.Evidence{
				probe.Evidence(pr.ex, "ordinary probe", ""),
				probe.Evidence(ex, "probe carrying the metadata URL", set[0]),
			}
			return f, true
		}
	}
	return scan.Finding{}, false
}
