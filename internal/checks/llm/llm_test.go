package llm_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/checks/llm"
	"github.com/merlonsec/merlon/internal/engine"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/testbed/fakellm"
)

var fast = llm.Config{Delay: time.Millisecond, MaxTime: 20 * time.Second}

// family returns a fresh family paced by fast.
func family() *llm.Family { return llm.NewFamily(fast) }

func TestChecksOnFakeLLM(t *testing.T) {
	tests := []struct {
		check scan.Check
		want  map[string]scan.Confidence // operation -> confidence on the vulnerable server
	}{
		{llm.SystemPromptLeak{Family: family(), Canary: fakellm.DefaultCanary}, map[string]scan.Confidence{
			"POST /v1/chat/completions": scan.Confirmed, "POST /api/chat": scan.Confirmed}},
		{llm.SystemPromptLeak{Family: family()}, map[string]scan.Confidence{
			"POST /v1/chat/completions": scan.Likely, "POST /api/chat": scan.Likely}},
		{llm.PromptInjection{Family: family()}, map[string]scan.Confidence{
			"POST /v1/chat/completions": scan.Confirmed, "POST /api/chat": scan.Confirmed}},
		{llm.Jailbreak{Family: family()}, map[string]scan.Confidence{
			"POST /v1/chat/completions": scan.Likely, "POST /api/chat": scan.Likely}},
		{llm.MarkdownExfiltration{Family: family()}, map[string]scan.Confidence{
			"POST /v1/chat/completions": scan.Confirmed, "POST /api/chat": scan.Confirmed}},
		{llm.ExcessiveAgency{Family: family()}, map[string]scan.Confidence{
			"POST /v1/chat/completions": scan.Likely, "POST /api/chat": scan.Likely}},
		{llm.UnsafeOutput{Family: family()}, map[string]scan.Confidence{"POST /api/chat": scan.Likely}},
	}
	for _, tt := range tests {
		name := tt.check.Meta().ID
		t.Run(name, func(t *testing.T) {
			fs := checktest.Run(t, tt.check, fakellm.New(fakellm.Options{}), checktest.WithActive())
			got := map[string]scan.Confidence{}
			for _, f := range fs {
				got[f.Operation] = f.Confidence
			}
			if len(got) != len(tt.want) {
				t.Errorf("%s findings on the vulnerable server = %v, want %v", name, got, tt.want)
			}
			for op, c := range tt.want {
				if g, ok := got[op]; !ok || g != c {
					t.Errorf("%s on %s = %v (found %v), want %v", name, op, g, ok, c)
				}
			}
			checktest.None(t, checktest.Run(t, tt.check, fakellm.New(fakellm.Options{Hardened: true}), checktest.WithActive()))
		})
	}
}

func TestStreamingReplyParsed(t *testing.T) {
	// A server that always streams, as some chat APIs do.
	fake := fakellm.New(fakellm.Options{})
	streaming := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		r2 := r.Clone(r.Context())
		var body []byte
		buf := make([]byte, 4096)
		for {
			n, err := r.Body.Read(buf)
			body = append(body, buf[:n]...)
			if err != nil {
				break
			}
		}
		body = append([]byte(`{"stream":true,`), body[1:]...)
		r2.Body = io.NopCloser(bytes.NewReader(body))
		r2.ContentLength = int64(len(body))
		fake.ServeHTTP(w, r2)
	})
	fs := checktest.Run(t, llm.PromptInjection{Family: family()}, streaming, checktest.WithActive())
	if len(fs) != 1 || fs[0].Confidence != scan.Confirmed {
		t.Errorf("findings on a streaming server = %v, want one confirmed", checktest.Locations(fs))
	}
}

func TestPassiveSkips(t *testing.T) {
	var sent int
	fs := checktest.Run(t, llm.PromptInjection{Family: family()}, fakellm.New(fakellm.Options{}),
		checktest.WithObserver(func(*scan.Exchange) { sent++ }))
	if len(fs) != 0 || sent != 0 {
		t.Errorf("passive run: %d findings, %d requests; want none of either", len(fs), sent)
	}
}

func TestTimeCap(t *testing.T) {
	start := time.Now()
	c := llm.Jailbreak{Family: llm.NewFamily(llm.Config{Delay: time.Second, MaxTime: 1500 * time.Millisecond})}
	checktest.Run(t, c, fakellm.New(fakellm.Options{Hardened: true}), checktest.WithActive())
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("run took %v with a 1.5s cap", d)
	}
}

// span is one request the model received: when it arrived and when its
// answer was written.
type span struct {
	path       string
	start, end time.Time
}

// recorder serves h and records every request's span and the most
// requests it ever had in flight at once.
type recorder struct {
	h http.Handler

	mu       sync.Mutex
	inFlight int
	maxIn    int
	spans    []span
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec.mu.Lock()
	rec.inFlight++
	rec.maxIn = max(rec.maxIn, rec.inFlight)
	rec.mu.Unlock()
	// Hold the request a moment, so that concurrent senders overlap.
	time.Sleep(5 * time.Millisecond)
	rec.h.ServeHTTP(w, r)
	rec.mu.Lock()
	rec.inFlight--
	rec.spans = append(rec.spans, span{r.URL.Path, start, time.Now()})
	rec.mu.Unlock()
}

// runFamily runs every check of a family with cfg at once, as the
// pipeline does, against h, and returns the findings and what the
// recorder saw.
func runFamily(t *testing.T, cfg llm.Config, h http.Handler) ([]scan.Finding, []scan.CheckResult, *recorder) {
	t.Helper()
	rec := &recorder{h: h}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	u, _ := url.Parse(srv.URL)
	f := llm.NewFamily(cfg)
	checks := []scan.Check{
		llm.SystemPromptLeak{Family: f, Canary: fakellm.DefaultCanary}, llm.PromptInjection{Family: f},
		llm.Jailbreak{Family: f}, llm.MarkdownExfiltration{Family: f},
		llm.ExcessiveAgency{Family: f}, llm.UnsafeOutput{Family: f},
	}
	target := &scan.Target{BaseURL: u, Active: true, Values: &scan.ValueBank{}}
	client := engine.New(engine.Config{BaseURL: u, Active: true, Concurrency: 16})
	fs, res := engine.RunChecks(t.Context(), target, checks, client, engine.RunOptions{Parallel: len(checks)})
	// A request cut off by the time cap may still be in the handler:
	// Close waits for it, so what the recorder saw is final.
	srv.Close()
	return fs, res, rec
}

// TestFamilySequential: the six checks running at once still send one
// request to the model at a time, each at least Delay after the previous
// one ended, and find the endpoints once for all of them.
func TestFamilySequential(t *testing.T) {
	const delay = 40 * time.Millisecond
	fs, res, rec := runFamily(t, llm.Config{Delay: delay, MaxTime: 30 * time.Second}, fakellm.New(fakellm.Options{}))
	for _, r := range res {
		if r.Status != "ok" {
			t.Errorf("%s ended %s (%s%s), want ok", r.ID, r.Status, r.Reason, r.Error)
		}
	}
	if len(fs) != 11 {
		t.Errorf("%d findings on the vulnerable model, want 11: %v", len(fs), checktest.Locations(fs))
	}
	if rec.maxIn != 1 {
		t.Errorf("requests in flight at once = %d, want 1", rec.maxIn)
	}
	slices.SortFunc(rec.spans, func(a, b span) int { return a.start.Compare(b.start) })
	for i := 1; i < len(rec.spans); i++ {
		if gap := rec.spans[i].start.Sub(rec.spans[i-1].end); gap < delay {
			t.Errorf("request %d (%s) started %v after request %d ended, want at least %v", i, rec.spans[i].path, gap, i-1, delay)
			break
		}
	}
	// /chat/completions is a candidate that 404s: only detection asks it.
	n := 0
	for _, s := range rec.spans {
		if s.path == "/chat/completions" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("detection requests to /chat/completions = %d, want 1 (endpoints found once per target)", n)
	}
}

// TestFamilyTimeCap: MaxTime bounds all six checks together, not each:
// past it nothing more is sent, so the requests fit in the cap at the
// delay's pace.
func TestFamilyTimeCap(t *testing.T) {
	const delay, capTime = 100 * time.Millisecond, 700 * time.Millisecond
	start := time.Now()
	_, _, rec := runFamily(t, llm.Config{Delay: delay, MaxTime: capTime}, fakellm.New(fakellm.Options{Hardened: true}))
	if took := time.Since(start); took > capTime+time.Second {
		t.Errorf("six checks took %v with a %v cap, want about the cap", took, capTime)
	}
	if want := int(capTime/delay) + 1; len(rec.spans) > want {
		t.Errorf("requests sent = %d, want at most %d (%v at one per %v)", len(rec.spans), want, capTime, delay)
	}
	for _, s := range rec.spans {
		if s.start.After(start.Add(capTime)) {
			t.Errorf("request to %s started %v after the first check, past the %v cap", s.path, s.start.Sub(start), capTime)
		}
	}
}
