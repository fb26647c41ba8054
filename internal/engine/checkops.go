package engine

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/merlonsec/merlon/internal/scan"
)

// opRecorder is the Requester one check run sees: it passes every request
// on and notes the inventory operations that answered, so that the check's
// result can say which operations it tested (scan.CheckResult.Operations).
// A check may send from several goroutines, so the set has a lock.
type opRecorder struct {
	h   scan.Requester
	mu  sync.Mutex
	ops map[string]bool
}

func newOpRecorder(h scan.Requester) *opRecorder {
	return &opRecorder{h: h, ops: map[string]bool{}}
}

// Do sends req through the wrapped Requester. An operation counts once it
// got a response: a refused request or a transport error tested nothing.
func (r *opRecorder) Do(ctx context.Context, req *scan.Request) (*scan.Exchange, error) {
	ex, err := r.h.Do(ctx, req)
	if err == nil && ex != nil && req != nil && req.Operation != nil {
		name := strings.ToUpper(req.Operation.Method) + " " + req.Operation.Path
		r.mu.Lock()
		r.ops[name] = true
		r.mu.Unlock()
	}
	return ex, err
}

// operations returns the operations seen, sorted; nil when none.
func (r *opRecorder) operations() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ops) == 0 {
		return nil
	}
	out := make([]string, 0, len(r.ops))
	for op := range r.ops {
		out = append(out, op)
	}
	slices.Sort(out)
	return out
}
