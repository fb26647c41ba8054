package misconfig

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"
	"strings"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// DangerousMethods reports HTTP methods an API has no use for and an
// attacker has: TRACE (and Microsoft's TRACK), which echo the request back
// and can expose headers scripts should not see, and the WebDAV methods,
// which manage files on the server.
//
// Passively it asks OPTIONS of the base URL and a few sampled paths and
// reads the Allow (and WebDAV's Public) header: a method that is only
// advertised is a possible finding. PUT and DELETE are normal on an API
// and are not reported. With --active it also sends one TRACE to the base
// URL with a canary header, and a response echoing the canary confirms it.
type DangerousMethods struct{}

var _ scan.Check = DangerousMethods{}

// maxOptions bounds the OPTIONS requests.
const maxOptions = 5

// Meta describes the check.
func (DangerousMethods) Meta() scan.Meta {
	return scan.Meta{
		ID:          "misconfig.dangerous-methods",
		Family:      "misconfig",
		Title:       "Dangerous HTTP methods enabled",
		Category:    scan.API8Misconfiguration,
		CWE:         749,
		Severity:    scan.Medium,
		MinSeverity: scan.Low,
		Description: fmt.Sprintf("Sends OPTIONS to the base URL and to up to %d sampled operation paths and reads "+
			"Allow and Public for TRACE, TRACK and WebDAV methods (PROPFIND, PROPPATCH, MKCOL, COPY, MOVE, LOCK, "+
			"UNLOCK). With --active, also sends one TRACE to the base URL with an X-Merlon-Trace canary header "+
			"and confirms TRACE when the canary is echoed.", maxOptions-1),
	}
}

var webDAV = map[string]bool{"PROPFIND": true, "PROPPATCH": true, "MKCOL": true, "COPY": true, "MOVE": true, "LOCK": true, "UNLOCK": true}

// Run sends the OPTIONS requests and, when active, the TRACE.
func (c DangerousMethods) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	paths := []string{"/"}
	seenPath := map[string]bool{"/": true}
	for _, op := range t.Operations {
		if len(paths) >= maxOptions {
			break
		}
		if op == nil {
			continue
		}
		p := probe.Path(t, op, nil)
		if !seenPath[p] {
			seenPath[p] = true
			paths = append(paths, p)
		}
	}
	m := c.Meta()
	s := probe.NewSender(h)
	var traceEx, davEx *scan.Exchange
	var traceLine, davLine string
	var dav []string
	for _, p := range paths {
		ex := s.Do(ctx, &scan.Request{Method: http.MethodOptions, Path: p})
		if s.Done() {
			break
		}
		if ex == nil {
			continue
		}
		for _, hd := range []string{"Allow", "Public"} {
			v := strings.Join(ex.Response.Header.Values(hd), ", ")
			for _, meth := range strings.Split(v, ",") {
				meth = strings.ToUpper(strings.TrimSpace(meth))
				switch {
				case (meth == "TRACE" || meth == "TRACK") && traceEx == nil:
					traceEx, traceLine = ex, hd+": "+v
				case webDAV[meth] && (davEx == nil || davEx == ex):
					davEx, davLine = ex, hd+": "+v
					dav = append(dav, meth)
				}
			}
		}
	}
	var out []scan.Finding
	if t.Active && !s.Done() {
		canary := randomHex()
		ex := s.Do(ctx, &scan.Request{Method: "TRACE", Path: "/", Header: http.Header{"X-Merlon-Trace": {canary}}})
		if ex != nil && ex.Response.Status >= 200 && ex.Response.Status < 300 && strings.Contains(string(ex.Response.Raw), canary) {
			f := probe.Finding(m, t, "", "TRACE")
			f.Title = "TRACE method enabled"
			f.Confidence = scan.Confirmed
			f.Description = "TRACE / answered by echoing the request, canary header included. With a script injection or a browser bug, TRACE lets an attacker read headers (cookies, Authorization) that scripts are not meant to see (cross-site tracing), and it helps map proxies."
			f.Evidence = []scan.Evidence{probe.Evidence(ex, "request echoed by TRACE", "X-Merlon-Trace: "+canary)}
			out = append(out, f)
			traceEx = nil
		}
	}
	if traceEx != nil {
		f := probe.Finding(m, t, "", "TRACE")
		f.Title = "TRACE method advertised"
		f.Severity = scan.Low
		f.Confidence = scan.Possible
		f.Description = "OPTIONS lists TRACE (or TRACK) among the allowed methods. If it works, it echoes requests back, credentials included (cross-site tracing). Run with --active to confirm with one TRACE request."
		f.Evidence = []scan.Evidence{probe.Evidence(traceEx, "TRACE advertised in OPTIONS", traceLine)}
		out = append(out, f)
	}
	if davEx != nil {
		f := probe.Finding(m, t, "", "WebDAV")
		f.Title = "WebDAV methods advertised"
		f.Severity = scan.Low
		f.Confidence = scan.Possible
		f.Description = fmt.Sprintf("OPTIONS lists WebDAV methods (%s), which create, move and lock files on the server; an API has no use for them and they widen what an attacker can try.", strings.Join(dav, ", "))
		f.Evidence = []scan.Evidence{probe.Evidence(davEx, "WebDAV methods advertised in OPTIONS", davLine)}
		out = append(out, f)
	}
	return out, s.Err()
}

func randomHex() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "merlon-" + hex.EncodeToString(b)
}
