package inject

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/fingerprint"
	"github.com/merlonsec/merlon/internal/scan"
)

// opPair is an always-true and an always-false operator for one field,
// built alike so that an answer echoing the input differs only in text
// that is scrubbed before comparing.
type opPair struct {
	t, f  any
	words []string // what to scrub from answers
}

// nosqlPairs are two pairs per point: a difference that is real follows
// the condition, so both true operators answer alike, and both false ones.
func nosqlPairs(pt *point, tag string) []opPair {
	if pt.in == "query" {
		q := func(op, v string) url.Values { return url.Values{pt.name + "[" + op + "]": {v}} }
		return []opPair{
			{q("$ne", tag), q("$eq", tag), []string{"$ne", "$eq", tag}},
			{q("$regex", ".*"), q("$regex", "^"+tag+"$"), []string{"$regex", "^" + tag + "$", ".*"}},
		}
	}
	obj := func(op string, v any) map[string]any { return map[string]any{op: v} }
	second := opPair{obj("$regex", ".*"), obj("$regex", "^"+tag+"$"), []string{"$regex", "^" + tag + "$", ".*"}}
	if pt.numeric {
		second = opPair{obj("$gt", json.Number("-1000000000000")), obj("$lt", json.Number("-1000000000000")), []string{"$gt", "$lt"}}
	}
	return []opPair{
		{obj("$ne", tag), obj("$eq", tag), []string{"$ne", "$eq", tag}},
		second,
	}
}

func nosqlPoint(ctx context.Context, p *pointRun) *scan.Finding {
	if (p.pt.in != "body" && p.pt.in != "query") || !p.base.cmp.stable() {
		return nil
	}
	c := p.base.cmp
	pairs := nosqlPairs(p.pt, "merlon"+nonce(8))
	scrub := append(append([]string{}, pairs[0].words...), pairs[1].words...)
	t1 := p.send(ctx, pairs[0].t)
	f1 := p.send(ctx, pairs[0].f)
	if t1 == nil || f1 == nil || c.same(t1, f1, scrub...) {
		return nil
	}
	t2 := p.send(ctx, pairs[1].t)
	f2 := p.send(ctx, pairs[1].f)
	if !c.same(t2, t1, scrub...) || !c.same(f2, f1, scrub...) {
		return nil
	}
	show := func(v any) string {
		if q, ok := v.(url.Values); ok {
			return q.Encode()
		}
		b, _ := json.Marshal(v)
		return string(b)
	}
	desc := fmt.Sprintf("%s accepts query operators in place of a value: an always-true operator (%s) and an "+
		"always-false one (%s) answer differently (status %d against %d), and a second pair (%s, %s) answers the "+
		"same way. The value reaches a document query as an object, so a client can match records without knowing "+
		"their values: log in without a password, list what a filter should hide.",
		upper(p.where()), show(pairs[0].t), show(pairs[0].f), t1.Response.Status, f1.Response.Status, show(pairs[1].t), show(pairs[1].f))
	return p.finding(scan.Confirmed, fmt.Sprintf("NoSQL operator injection in %s", p.pt.name), desc, fingerprint.MongoDB, []scan.Evidence{
		probe.Evidence(t1, "always-true operator "+show(pairs[0].t), ""),
		probe.Evidence(f1, "always-false operator "+show(pairs[0].f), ""),
		probe.Evidence(t2, "always-true operator "+show(pairs[1].t)+": answers as the first true one", ""),
		probe.Evidence(f2, "always-false operator "+show(pairs[1].f)+": answers as the first false one", ""),
	})
}
