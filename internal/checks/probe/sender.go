package probe

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/merlonsec/merlon/internal/scan"
)

// Sender sends one check run's requests and applies the rules every check
// shares about failures: a refused or failed request is skipped, a spent
// budget or a done context stops the run, and a run where nothing at all
// was answered is an error rather than a clean pass. A Sender is used by
// one goroutine.
type Sender struct {
	h        scan.Requester
	answered int
	last     error // the latest error of a request that got no answer
	stop     error // why sending stopped: ctx's error or ErrBudgetExhausted
}

// NewSender returns a Sender that sends through h.
func NewSender(h scan.Requester) *Sender { return &Sender{h: h} }

// Do sends req and returns the exchange, or nil when the request got no
// answer or the Sender has stopped.
func (s *Sender) Do(ctx context.Context, req *scan.Request) *scan.Exchange {
	if s.stop != nil {
		return nil
	}
	if err := ctx.Err(); err != nil {
		s.stop = err
		return nil
	}
	ex, err := s.h.Do(ctx, req)
	return s.account(ctx, ex, err)
}

// account applies the Sender's rules to one request's outcome.
func (s *Sender) account(ctx context.Context, ex *scan.Exchange, err error) *scan.Exchange {
	switch {
	case err == nil && ex != nil:
		s.answered++
		return ex
	case ctx.Err() != nil:
		s.stop = ctx.Err()
	case errors.Is(err, scan.ErrBudgetExhausted):
		s.stop = err
	case err != nil:
		s.last = err
	}
	return nil
}

// Done reports whether the Sender has stopped sending.
func (s *Sender) Done() bool { return s.stop != nil }

// Err is what the check's Run should return as its error: the context's
// error when the run was cancelled, or an error when no request got an
// answer at all (so an unreachable target does not pass). A spent budget
// is not an error: the engine reports it, and the check reports what it
// found until then.
func (s *Sender) Err() error {
	if s.stop != nil && !errors.Is(s.stop, scan.ErrBudgetExhausted) {
		return s.stop
	}
	if s.answered == 0 && s.last != nil {
		return fmt.Errorf("no response from target: %w", s.last)
	}
	return nil
}

// fanOut is how many of one check's requests DoAll keeps in flight.
const fanOut = 4

// DoAll sends reqs, up to fanOut of them in flight at once, and calls fn
// with each one's exchange in the order of reqs, as Do would have
// returned it (nil when the request got no answer). It sends nothing more
// once the Sender stops (fn is then not called again) or fn returns
// false, and it returns only when no request it started is in flight. fn
// runs on the caller's goroutine and may send follow-ups through s. A nil
// request is not sent: fn gets nil for it.
//
// Checks that read many operations one after the other use it, so that a
// check's chain of round trips does not set the length of the whole scan;
// the engine still caps the requests in flight across all checks.
func (s *Sender) DoAll(ctx context.Context, reqs []*scan.Request, fn func(i int, ex *scan.Exchange) bool) {
	type result struct {
		ex  *scan.Exchange
		err error
	}
	pending := make([]chan result, len(reqs))
	var wg sync.WaitGroup
	defer wg.Wait()
	next := 0
	for i := range reqs {
		for next < len(reqs) && next < i+fanOut && s.stop == nil && ctx.Err() == nil {
			ch := make(chan result, 1)
			pending[next] = ch
			if req := reqs[next]; req == nil {
				ch <- result{}
			} else {
				wg.Go(func() {
					ex, err := s.h.Do(ctx, req)
					ch <- result{ex, err}
				})
			}
			next++
		}
		if s.stop != nil {
			return
		}
		if pending[i] == nil {
			if err := ctx.Err(); err != nil {
				s.stop = err
			}
			return
		}
		r := <-pending[i]
		ex := s.account(ctx, r.ex, r.err)
		if s.stop != nil || !fn(i, ex) {
			return
		}
	}
}
