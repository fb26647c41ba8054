package unsafe

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/checks/property"
	"github.com/merlonsec/merlon/internal/checks/ssrf"
	"github.com/merlonsec/merlon/internal/scan"
)

// webhookWait bounds the wait for registrations to call back.
const webhookWait = 3 * time.Second

// WebhookAnyURL registers Merlon's callback listener as a webhook and
// reports registrations the API accepts and then calls.
type WebhookAnyURL struct{}

var _ scan.Check = WebhookAnyURL{}

// Meta describes the check.
func (WebhookAnyURL) Meta() scan.Meta {
	return scan.Meta{
		ID:          "unsafe.webhook-any-url",
		Family:      "unsafe",
		Title:       "Webhook registration accepts any URL",
		Category:    scan.API10UnsafeConsumption,
		CWE:         918,
		Severity:    scan.High,
		MinSeverity: scan.High,
		Active:      true,
		Description: "For up to 5 write operations that register a URL to be called later (body properties " +
			"named webhook, callback, notify_url…, or url on a webhook/subscription path), sends the operation " +
			"with a unique URL on Merlon's callback listener and waits up to 3 s in all. Confirmed when the " +
			"listener is called with the token. Registrations created are deleted when the API has a DELETE.",
	}
}

// Run registers the listener.
func (c WebhookAnyURL) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	cb := t.Callbacks
	if cb == nil {
		return nil, scan.Skip("no callback listener (needs --active)")
	}
	var pts []ssrf.Point
	for _, p := range ssrf.Points(t) {
		if ssrf.WebhookPoint(p) && len(pts) < 5 {
			pts = append(pts, p)
		}
	}
	if len(pts) == 0 {
		return nil, scan.Skip("no webhook or callback registration found")
	}
	type reg struct {
		p   ssrf.Point
		tok string
		ex  *scan.Exchange
	}
	s := probe.NewSender(h)
	var regs []reg
	for _, p := range pts {
		u, tok := cb.New()
		req := ssrf.Request(t, p, u)
		if req == nil {
			continue
		}
		ex := s.Do(ctx, req)
		if s.Done() {
			break
		}
		if ex != nil && ex.Response.Status/100 == 2 {
			regs = append(regs, reg{p, tok, ex})
		}
	}
	m := c.Meta()
	var out []scan.Finding
	deadline := time.Now().Add(webhookWait)
	for _, r := range regs {
		if cb.Seen(ctx, r.tok, time.Until(deadline)) {
			f := probe.Finding(m, t, probe.Name(r.p.Op), r.p.Location())
			f.Confidence = scan.Confirmed
			f.Description = fmt.Sprintf("%s accepted a webhook URL on a host Merlon controls in %s and called it "+
				"(token %s). Without an allowlist or verification, the API will send requests, and its event data, "+
				"wherever a client says: internal services included.", probe.Name(r.p.Op), r.p.Location(), r.tok)
			f.Evidence = []scan.Evidence{probe.Evidence(r.ex, "registration carrying the callback URL; the listener was called", r.tok)}
			out = append(out, f)
		}
	}
	for _, r := range regs {
		deleteCreated(ctx, t, h, r.p.Op, r.ex, c.Meta().ID)
	}
	return out, s.Err()
}

// deleteCreated deletes what a create made, when the API has a DELETE for
// it, and notes on the target, in check's name, when it cannot.
func deleteCreated(ctx context.Context, t *scan.Target, h scan.Requester, op *scan.Operation, created *scan.Exchange, check string) {
	if op.Method != http.MethodPost {
		return
	}
	var res *property.Resource
	for _, r := range property.Resources(t.Operations) {
		if r.Create == op {
			res = r
		}
	}
	var obj map[string]any
	_ = json.Unmarshal(created.Response.Raw, &obj)
	key := ""
	if res != nil {
		for _, name := range []string{res.Param, "id"} {
			if v, ok := obj[name]; ok && v != nil {
				key = fmt.Sprint(v)
				if f, isNum := v.(float64); isNum {
					key = fmt.Sprintf("%.0f", f)
				}
				break
			}
		}
	}
	if res == nil || res.Delete == nil || key == "" {
		if t.Notes != nil {
			t.Notes.Add(fmt.Sprintf("%s could not clean up what POST %s created", check, op.Path))
		}
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	path := probe.Path(t, res.Delete, map[string]string{res.Param: key})
	ex, err := h.Do(ctx, &scan.Request{Method: http.MethodDelete, Path: path, Operation: res.Delete})
	if t.Notes != nil && (err != nil || (ex.Response.Status >= 300 && ex.Response.Status != http.StatusNotFound)) {
		t.Notes.Add(fmt.Sprintf("%s could not clean up: DELETE %s failed", check, path))
	}
}
