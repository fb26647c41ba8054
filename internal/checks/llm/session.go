package llm

import (
	"context"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"
	"weak"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

// Family is what the llm checks of one check list share. The engine runs
// checks concurrently, and six checks each finding the endpoints and
// pacing only themselves would put six prompts in flight at once on a
// model that costs its owner per call. Checks that hold the same Family
// instead share one session per target: the endpoints are found once,
// every request to a model (detection included) waits until the one
// before it has ended and Delay more has passed, and MaxTime caps all of
// them together from the first one's start.
//
// Sessions are keyed on the *scan.Target, which is one scan's, so a
// Family may serve many scans (a server reuses its check list); a session
// is dropped when its target is garbage collected. A check whose Family
// is nil runs alone, in a session of its own with the default Config.
type Family struct {
	cfg Config

	mu       sync.Mutex
	sessions map[weak.Pointer[scan.Target]]*session
}

// NewFamily returns a Family pacing its checks by cfg. It does no I/O.
func NewFamily(cfg Config) *Family {
	return &Family{cfg: cfg, sessions: make(map[weak.Pointer[scan.Target]]*session)}
}

// session returns t's session, starting it (and its time cap) when t has
// none yet.
func (f *Family) session(t *scan.Target) *session {
	ss := &session{
		cfg:      f.cfg,
		deadline: time.Now().Add(f.cfg.maxTime()),
		turn:     make(chan struct{}, 1),
	}
	if t == nil {
		return ss
	}
	key := weak.Make(t)
	f.mu.Lock()
	defer f.mu.Unlock()
	if old, ok := f.sessions[key]; ok {
		return old
	}
	f.sessions[key] = ss
	runtime.AddCleanup(t, f.drop, key)
	return ss
}

func (f *Family) drop(key weak.Pointer[scan.Target]) {
	f.mu.Lock()
	delete(f.sessions, key)
	f.mu.Unlock()
}

// len is how many sessions f holds, for tests.
func (f *Family) len() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sessions)
}

// session is the llm checks' shared state for one target.
type session struct {
	cfg      Config
	deadline time.Time

	// turn holds a token while a request to the model is in flight or
	// waiting out the delay after the previous one.
	turn chan struct{}
	// last is when the previous request ended; written and read only by
	// the holder of turn.
	last time.Time

	once sync.Once
	eps  []Endpoint // set once by discover
	err  error      // why discovery could not run, when it found nothing
}

// discover finds the endpoints, once per session: later callers wait for
// the first one's result.
func (ss *session) discover(ctx context.Context, t *scan.Target, h scan.Requester) {
	ss.once.Do(func() {
		s := probe.NewSender(h)
		for _, p := range candidates(t) {
			if len(ss.eps) >= maxEndpoints || s.Done() {
				break
			}
			sh := simpleShape
			switch {
			case strings.HasSuffix(p, "/chat/completions"):
				sh = chatShape
			case strings.HasSuffix(p, "/completions"):
				sh = completionShape
			}
			ep := Endpoint{Path: p, shape: sh}
			if ex, r := ss.send(ctx, s, ep, "Hello"); ex != nil && ex.Response.Status < 300 && r.Text != "" {
				ss.eps = append(ss.eps, ep)
			}
		}
		if err := s.Err(); len(ss.eps) == 0 && err != nil && !isCapped(ctx) {
			ss.err = err
		}
	})
}

// send waits for the model's turn, sends prompt to ep through s, and
// hands the turn on. It returns nil when ctx ended first or the request
// got no answer.
func (ss *session) send(ctx context.Context, s *probe.Sender, ep Endpoint, prompt string) (*scan.Exchange, Reply) {
	if !ss.take(ctx) {
		return nil, Reply{}
	}
	ex := s.Do(ctx, &scan.Request{Method: http.MethodPost, Path: ep.Path, Body: body(ep, prompt),
		Header: http.Header{"Content-Type": {"application/json"}}})
	ss.give()
	if ex == nil {
		return nil, Reply{}
	}
	return ex, parse(ex)
}

// take waits until no other request to the model is in flight and the
// delay since the last one ended has passed. It reports false, holding
// nothing, when ctx ends first.
func (ss *session) take(ctx context.Context) bool {
	select {
	case ss.turn <- struct{}{}:
	case <-ctx.Done():
		return false
	}
	if ss.last.IsZero() {
		return true
	}
	wait := time.NewTimer(time.Until(ss.last.Add(ss.cfg.delay())))
	defer wait.Stop()
	select {
	case <-wait.C:
		return true
	case <-ctx.Done():
		<-ss.turn
		return false
	}
}

// give ends the holder's turn.
func (ss *session) give() {
	ss.last = time.Now()
	<-ss.turn
}
