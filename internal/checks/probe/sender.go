package probe

import (
	"context"
	"errors"
	"fmt"

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
