package inject

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/remedy"
	"github.com/merlonsec/merlon/internal/scan"
)

// baselines is how often an operation's unchanged request is sent, to
// learn its natural variance in content and latency.
const baselines = 3

// Budgets: requests per injection point and per run of one check, by
// profile. A point stops being probed once its budget is spent, a run
// once its total is.
func budgets(p scan.Profile) (perPoint, total int) {
	switch p {
	case scan.Quick:
		return 24, 400
	case scan.Deep:
		return 80, 8000
	}
	return 48, 3000
}

// operations lists the operations to probe: every operation but DELETE
// (whose unchanged request would delete), sampled like other checks'.
func operations(t *scan.Target) []*scan.Operation {
	var ops []*scan.Operation
	for _, op := range t.Operations {
		if op != nil && !strings.EqualFold(op.Method, http.MethodDelete) {
			ops = append(ops, op)
		}
	}
	n := probe.Budget(t.Profile)
	if n <= 0 || len(ops) <= n {
		return ops
	}
	out := make([]*scan.Operation, 0, n)
	for i := range n {
		out = append(out, ops[i*len(ops)/n])
	}
	return out
}

// runner is one check's run over the target.
type runner struct {
	meta           scan.Meta
	t              *scan.Target
	s              *probe.Sender
	h              scan.Requester // for clean-up, which outlives the Sender
	w              writes
	noted          map[*scan.Operation]bool // operations noted as leaving objects behind
	sent, maxTotal int
	perPoint       int
	timing         bool // time-based probes allowed (not in the quick profile)
}

// pointRun probes one point of one operation.
type pointRun struct {
	r    *runner
	o    *operation
	pt   *point
	base *baseline
	left int
}

// runAll runs probe on every point of every operation and collects the
// findings, at most one per point.
func runAll(ctx context.Context, t *scan.Target, h scan.Requester, m scan.Meta, probeFn func(*pointRun) *scan.Finding) ([]scan.Finding, error) {
	per, total := budgets(t.Profile)
	r := &runner{meta: m, t: t, s: probe.NewSender(h), h: h, w: classify(t.Operations), noted: make(map[*scan.Operation]bool),
		maxTotal: total, perPoint: per, timing: t.Profile != scan.Quick}
	var out []scan.Finding
	for _, op := range operations(t) {
		if r.done() {
			break
		}
		out = append(out, r.operation(ctx, op, probeFn)...)
	}
	return out, r.s.Err()
}

// operation probes every point of op, and removes what the probes made.
func (r *runner) operation(ctx context.Context, op *scan.Operation, probeFn func(*pointRun) *scan.Finding) []scan.Finding {
	o := plan(op, r.t.Values)
	if len(o.points) == 0 || !r.prepare(ctx, o) {
		return nil
	}
	defer r.finish(ctx, o)
	b := r.baseline(ctx, o)
	if b == nil {
		return nil
	}
	var out []scan.Finding
	for _, pt := range o.points {
		if r.done() || o.halted {
			break
		}
		if f := probeFn(&pointRun{r: r, o: o, pt: pt, base: b, left: r.perPoint}); f != nil {
			out = append(out, *f)
		}
	}
	return out
}

func (r *runner) done() bool { return r.s.Done() || r.sent >= r.maxTotal }

// do sends one of o's requests, counted against the run's budget, and
// deletes what a create's request made. It returns nil when o was halted
// or the request got no answer.
func (r *runner) do(ctx context.Context, o *operation, req *scan.Request) *scan.Exchange {
	if o.halted {
		return nil
	}
	r.sent++
	ex := r.s.Do(ctx, req)
	if o.create && success(ex) {
		r.created(ctx, o, req, ex)
	}
	return ex
}

// send sends one request of the point's, or returns nil when a budget is
// spent or the request got no answer.
func (p *pointRun) send(ctx context.Context, value any) *scan.Exchange {
	if p.left <= 0 || p.r.done() || p.o.halted {
		return nil
	}
	p.left--
	return p.r.do(ctx, p.o, p.o.request(p.pt, value))
}

// baseline is what the unchanged request answered, several times.
type baseline struct {
	samples []*scan.Exchange
	cmp     *comparer
	// slowest is the longest a sample took.
	slowest time.Duration
}

func (r *runner) baseline(ctx context.Context, o *operation) *baseline {
	b := &baseline{}
	for range baselines {
		if r.done() {
			return nil
		}
		ex := r.do(ctx, o, o.request(nil, nil))
		if ex == nil {
			return nil
		}
		b.samples = append(b.samples, ex)
		b.slowest = max(b.slowest, ex.Response.Duration)
	}
	b.cmp = newComparer(b.samples)
	return b
}

// contains reports whether any baseline sample's body contains s.
func (b *baseline) contains(s string) bool {
	for _, ex := range b.samples {
		if strings.Contains(string(ex.Response.Raw), s) {
			return true
		}
	}
	return false
}

// timed asks for delays of d, 2d, 0 and d again through mk, which builds
// the payload for a delay in seconds, and returns the four exchanges when
// every one behaved as a real sleep would: d and 2d each slower than the
// slowest baseline by at least 80% of what was asked, 2d slower than d by
// at least 60% of d, and 0 about as fast as the baseline. Random latency
// makes one slow answer, not a delay that scales and vanishes on demand.
func (p *pointRun) timed(ctx context.Context, d float64, mk func(secs string) string) []*scan.Exchange {
	if !p.r.timing || !p.base.cmp.stable() {
		return nil
	}
	unit := time.Duration(d * float64(time.Second))
	slow := p.base.slowest
	at := func(secs float64) string { return mk(formatSecs(secs)) }
	ex1 := p.send(ctx, at(d))
	if ex1 == nil || ex1.Response.Duration < slow+unit*8/10 {
		return nil
	}
	ex2 := p.send(ctx, at(2*d))
	if ex2 == nil || ex2.Response.Duration < slow+unit*16/10 || ex2.Response.Duration-ex1.Response.Duration < unit*6/10 {
		return nil
	}
	ex0 := p.send(ctx, at(0))
	if ex0 == nil || ex0.Response.Duration > slow+unit/2 {
		return nil
	}
	ex3 := p.send(ctx, at(d))
	if ex3 == nil || ex3.Response.Duration < slow+unit*8/10 {
		return nil
	}
	return []*scan.Exchange{ex1, ex2, ex0, ex3}
}

func formatSecs(s float64) string {
	if s == float64(int64(s)) {
		return fmt.Sprint(int64(s))
	}
	return fmt.Sprintf("%.2f", s)
}

// timingEvidence describes a proven delay.
func timingEvidence(exs []*scan.Exchange, d float64) []scan.Evidence {
	notes := []string{
		fmt.Sprintf("asked for %ss: took %v", formatSecs(d), exs[0].Response.Duration.Round(time.Millisecond)),
		fmt.Sprintf("asked for %ss: took %v", formatSecs(2*d), exs[1].Response.Duration.Round(time.Millisecond)),
		fmt.Sprintf("asked for 0s: took %v", exs[2].Response.Duration.Round(time.Millisecond)),
		fmt.Sprintf("asked for %ss again: took %v", formatSecs(d), exs[3].Response.Duration.Round(time.Millisecond)),
	}
	var ev []scan.Evidence
	for i, ex := range exs {
		ev = append(ev, probe.Evidence(ex, notes[i], ""))
	}
	return ev
}

// finding starts a finding on the point with the baseline as its first
// evidence. With datastore set, the remediation is the one for it on the
// target's framework; without, it is left to the pipeline, which picks it
// once the whole scan has fingerprinted the stack.
func (p *pointRun) finding(conf scan.Confidence, title, desc, datastore string, ev []scan.Evidence) *scan.Finding {
	f := probe.Finding(p.r.meta, p.r.t, probe.Name(p.o.op), p.pt.Location())
	f.Remediation = ""
	if datastore != "" {
		f.Remediation = remedy.For(p.r.meta.ID, scan.Stack{Framework: p.r.t.Stack.Framework, Datastore: datastore})
	}
	f.Confidence, f.Title, f.Description = conf, title, desc
	f.Evidence = append([]scan.Evidence{probe.Evidence(p.base.samples[0], "baseline: the unchanged request", "")}, ev...)
	return &f
}

// where names the point for descriptions: "the query parameter q of GET /items".
func (p *pointRun) where() string {
	kind := map[string]string{"path": "path parameter", "query": "query parameter", "header": "header",
		"cookie": "cookie", "body": "JSON body field"}[p.pt.in]
	return fmt.Sprintf("the %s %s of %s", kind, p.pt.name, probe.Name(p.o.op))
}

// nonce returns n random lower-case hex characters.
func nonce(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)[:n]
}

// factor returns a random number in [lo, hi].
func factor(lo, hi int64) int64 {
	n, err := rand.Int(rand.Reader, big.NewInt(hi-lo+1))
	if err != nil {
		return lo
	}
	return lo + n.Int64()
}
