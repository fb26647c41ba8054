package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
)

// counter is an httptest server that counts the requests it gets.
type counter struct {
	*httptest.Server
	hits atomic.Int64
}

func newCounter(t *testing.T, h http.HandlerFunc) *counter {
	t.Helper()
	c := &counter{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.hits.Add(1)
		h(w, r)
	}))
	t.Cleanup(c.Close)
	return c
}

func ok(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "ok") }

func mustURL(t *testing.T, raw string) *url.URL {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("url.Parse(%q): %v", raw, err)
	}
	return u
}

func newClient(t *testing.T, base string, cfg Config) *Client {
	t.Helper()
	cfg.BaseURL = mustURL(t, base)
	return New(cfg)
}

func TestResolveScope(t *testing.T) {
	var mu sync.Mutex
	var got string
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.URL.RequestURI()
		mu.Unlock()
	})
	other := newCounter(t, ok)
	otherHost := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)

	tests := []struct {
		name    string
		path    string
		query   url.Values
		want    string // request URI the server sees
		wantErr error
	}{
		{name: "joined onto base path", path: "/users/1", want: "/api/users/1"},
		{name: "no leading slash", path: "users/1", want: "/api/users/1"},
		{name: "empty path is the base", path: "", want: "/api/"},
		{name: "dot segments kept", path: "/a/../admin", want: "/api/a/../admin"},
		{name: "query merged", path: "/x?a=1", query: url.Values{"b": {"2"}}, want: "/api/x?a=1&b=2"},
		{name: "absolute in scope", path: srv.URL + "/abs", want: "/abs"},
		{name: "absolute other port", path: other.URL + "/x", wantErr: scan.ErrOutOfScope},
		{name: "absolute other host", path: otherHost + "/x", wantErr: scan.ErrOutOfScope},
		{name: "absolute other scheme", path: strings.Replace(srv.URL, "http:", "https:", 1), wantErr: scan.ErrOutOfScope},
		{name: "absolute far away", path: "http://example.invalid/", wantErr: scan.ErrOutOfScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, srv.URL+"/api/", Config{})
			before := srv.hits.Load()
			ex, err := c.Do(context.Background(), &scan.Request{Path: tt.path, Query: tt.query})
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("Do(%q) error = %v, want %v", tt.path, err, tt.wantErr)
				}
				if n := srv.hits.Load() - before + other.hits.Load(); n != 0 {
					t.Errorf("Do(%q) sent %d requests, want 0", tt.path, n)
				}
				if st := c.Stats(); st.Refused != 1 || st.Requests != 0 {
					t.Errorf("Stats() = %+v, want 1 refused, 0 requests", st)
				}
				return
			}
			if err != nil {
				t.Fatalf("Do(%q): %v", tt.path, err)
			}
			mu.Lock()
			defer mu.Unlock()
			if got != tt.want {
				t.Errorf("Do(%q) reached %q, want %q", tt.path, got, tt.want)
			}
			if !strings.HasSuffix(ex.Request.URL, tt.want) {
				t.Errorf("Do(%q) recorded URL %q, want suffix %q", tt.path, ex.Request.URL, tt.want)
			}
		})
	}
}

// TestSameHostScope: Request.SameHost lets one request reach another port
// or scheme of the target's host, and nothing else.
func TestSameHostScope(t *testing.T) {
	srv := newCounter(t, ok)
	other := newCounter(t, ok)
	otherHost := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	tests := []struct {
		name    string
		path    string
		wantErr error
	}{
		{name: "other port on the same host", path: other.URL + "/x"},
		{name: "relative path", path: "/y"},
		{name: "other host", path: otherHost + "/x", wantErr: scan.ErrOutOfScope},
		{name: "other scheme family", path: strings.Replace(other.URL, "http:", "ftp:", 1) + "/x", wantErr: scan.ErrOutOfScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, srv.URL, Config{})
			before := other.hits.Load() + srv.hits.Load()
			_, err := c.Do(context.Background(), &scan.Request{Path: tt.path, SameHost: true})
			sent := other.hits.Load() + srv.hits.Load() - before
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || sent != 0 {
					t.Fatalf("Do(%q, SameHost) = %v with %d sent, want %v and none sent", tt.path, err, sent, tt.wantErr)
				}
				return
			}
			if err != nil || sent != 1 {
				t.Fatalf("Do(%q, SameHost) = %v with %d sent, want no error and 1 sent", tt.path, err, sent)
			}
		})
	}
	// A closed port of the host is no transport error of the target's.
	closed := httptest.NewServer(http.NotFoundHandler())
	closedURL := closed.URL
	closed.Close()
	c := newClient(t, srv.URL, Config{})
	if _, err := c.Do(context.Background(), &scan.Request{Path: closedURL + "/", SameHost: true}); err == nil {
		t.Fatalf("Do(closed port) succeeded, want a transport error")
	}
	if st := c.Stats(); st.TransportErrors != 0 || st.Requests != 1 {
		t.Errorf("Stats() after a closed other port = %+v, want 1 request and no transport error", st)
	}
	// Without SameHost the other port stays out of scope.
	c = newClient(t, srv.URL, Config{})
	if _, err := c.Do(context.Background(), &scan.Request{Path: other.URL + "/x"}); !errors.Is(err, scan.ErrOutOfScope) {
		t.Errorf("Do(other port) error = %v, want %v", err, scan.ErrOutOfScope)
	}
}

func TestRedirects(t *testing.T) {
	elsewhere := newCounter(t, ok)
	var srv *counter
	srv = newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/off":
			http.Redirect(w, r, elsewhere.URL+"/stolen", http.StatusFound)
		case "/in":
			http.Redirect(w, r, "/hop", http.StatusFound)
		case "/hop":
			http.Redirect(w, r, srv.URL+"/final", http.StatusMovedPermanently)
		case "/final":
			fmt.Fprint(w, "landed")
		case "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		}
	})

	tests := []struct {
		name       string
		req        scan.Request
		wantStatus int
		wantHits   int64
		wantBody   string
	}{
		{name: "off scope not followed", req: scan.Request{Path: "/off"}, wantStatus: 302, wantHits: 1},
		{name: "in scope followed", req: scan.Request{Path: "/in"}, wantStatus: 200, wantHits: 3, wantBody: "landed"},
		{name: "no redirect", req: scan.Request{Path: "/in", NoRedirect: true}, wantStatus: 302, wantHits: 1},
		{name: "loop bounded", req: scan.Request{Path: "/loop"}, wantStatus: 302, wantHits: 1 + maxRedirects},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var observed atomic.Int64
			c := newClient(t, srv.URL, Config{Observer: func(*scan.Exchange) { observed.Add(1) }})
			before := srv.hits.Load()
			ex, err := c.Do(context.Background(), &tt.req)
			if err != nil {
				t.Fatalf("Do(%s): %v", tt.req.Path, err)
			}
			if ex.Response.Status != tt.wantStatus {
				t.Errorf("Do(%s) status = %d, want %d", tt.req.Path, ex.Response.Status, tt.wantStatus)
			}
			if n := srv.hits.Load() - before; n != tt.wantHits {
				t.Errorf("Do(%s) sent %d requests, want %d", tt.req.Path, n, tt.wantHits)
			}
			if got := c.Stats().Requests; int64(got) != tt.wantHits {
				t.Errorf("Stats().Requests = %d, want %d", got, tt.wantHits)
			}
			if observed.Load() != tt.wantHits {
				t.Errorf("Observer called %d times, want %d", observed.Load(), tt.wantHits)
			}
			if tt.wantBody != "" && ex.Response.Body != tt.wantBody {
				t.Errorf("Do(%s) body = %q, want %q", tt.req.Path, ex.Response.Body, tt.wantBody)
			}
		})
	}
	if n := elsewhere.hits.Load(); n != 0 {
		t.Errorf("off-scope server got %d requests, want 0", n)
	}
}

func TestRedirectChangesPostToGet(t *testing.T) {
	var method atomic.Value
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/create" {
			http.Redirect(w, r, "/created", http.StatusSeeOther)
			return
		}
		method.Store(r.Method)
	})
	c := newClient(t, srv.URL, Config{Active: true})
	if _, err := c.Do(context.Background(), &scan.Request{Method: "POST", Path: "/create", Body: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if got := method.Load(); got != http.MethodGet {
		t.Errorf("method after 303 = %v, want GET", got)
	}
}

func TestMethodPolicy(t *testing.T) {
	tests := []struct {
		method  string
		active  bool
		allowed bool
	}{
		{"GET", false, true},
		{"HEAD", false, true},
		{"OPTIONS", false, true},
		{"get", false, true},
		{"POST", false, false},
		{"PUT", false, false},
		{"PATCH", false, false},
		{"DELETE", false, false},
		{"TRACE", false, false},
		{"PROPFIND", false, false},
		{"POST", true, true},
		{"PUT", true, true},
		{"PATCH", true, true},
		{"DELETE", true, true},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s active=%v", tt.method, tt.active), func(t *testing.T) {
			srv := newCounter(t, ok)
			var logs bytes.Buffer
			c := newClient(t, srv.URL, Config{
				Active: tt.active,
				Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			})
			_, err := c.Do(context.Background(), &scan.Request{Method: tt.method, Path: "/items/1"})
			st := c.Stats()
			if !tt.allowed {
				if !errors.Is(err, scan.ErrWriteNotAllowed) {
					t.Fatalf("Do(%s) error = %v, want %v", tt.method, err, scan.ErrWriteNotAllowed)
				}
				if n := srv.hits.Load(); n != 0 {
					t.Errorf("Do(%s) reached the server %d times, want 0", tt.method, n)
				}
				if st.Refused != 1 || st.Requests != 0 {
					t.Errorf("Stats() = %+v, want Refused 1, Requests 0", st)
				}
				return
			}
			if err != nil {
				t.Fatalf("Do(%s): %v", tt.method, err)
			}
			if n := srv.hits.Load(); n != 1 {
				t.Errorf("Do(%s) reached the server %d times, want 1", tt.method, n)
			}
			logged := logs.String()
			if readOnly(strings.ToUpper(tt.method)) {
				if logged != "" {
					t.Errorf("read request logged %q, want nothing", logged)
				}
				return
			}
			for _, want := range []string{"level=DEBUG", "method=" + tt.method, "url=" + srv.URL + "/items/1"} {
				if !strings.Contains(logged, want) {
					t.Errorf("log %q does not contain %q", logged, want)
				}
			}
		})
	}
}

func TestBudget(t *testing.T) {
	t.Run("sequential", func(t *testing.T) {
		srv := newCounter(t, ok)
		c := newClient(t, srv.URL, Config{MaxRequests: 3})
		var refused int
		for range 5 {
			if _, err := c.Do(context.Background(), &scan.Request{Path: "/"}); errors.Is(err, scan.ErrBudgetExhausted) {
				refused++
			} else if err != nil {
				t.Fatal(err)
			}
		}
		if n := srv.hits.Load(); n != 3 {
			t.Errorf("server got %d requests, want 3", n)
		}
		want := Stats{Requests: 3, Refused: 2, BudgetExhausted: true}
		if st := c.Stats(); st != want || refused != 2 {
			t.Errorf("Stats() = %+v (refused errors %d), want %+v", st, refused, want)
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		srv := newCounter(t, ok)
		c := newClient(t, srv.URL, Config{MaxRequests: 7, Concurrency: 4})
		var wg sync.WaitGroup
		for range 30 {
			wg.Go(func() { c.Do(context.Background(), &scan.Request{Path: "/"}) })
		}
		wg.Wait()
		if n := srv.hits.Load(); n != 7 {
			t.Errorf("server got %d requests, want exactly 7", n)
		}
		if st := c.Stats(); st.Requests != 7 || st.Refused != 23 {
			t.Errorf("Stats() = %+v, want 7 requests, 23 refused", st)
		}
	})
	t.Run("spent during retries", func(t *testing.T) {
		srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
		})
		c := newClient(t, srv.URL, Config{MaxRequests: 2, Retries: 5})
		ex, err := c.Do(context.Background(), &scan.Request{Path: "/"})
		if err != nil || ex.Response.Status != http.StatusTooManyRequests {
			t.Fatalf("Do() = %v, %v; want the last 429 and no error", ex, err)
		}
		if n := srv.hits.Load(); n != 2 {
			t.Errorf("server got %d requests, want 2", n)
		}
		if !c.Stats().BudgetExhausted {
			t.Error("Stats().BudgetExhausted = false, want true")
		}
	})
}

func TestRate(t *testing.T) {
	t.Run("one per hour lets one through", func(t *testing.T) {
		srv := newCounter(t, ok)
		c := newClient(t, srv.URL, Config{Rate: 1.0 / 3600, MaxRequests: 5})
		if _, err := c.Do(context.Background(), &scan.Request{Path: "/"}); err != nil {
			t.Fatalf("first Do: %v", err)
		}
		// The limiter knows the next token is an hour away, so with a
		// deadline it refuses at once rather than sleep: no wall clock.
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		_, err := c.Do(ctx, &scan.Request{Path: "/"})
		if err == nil || !strings.Contains(err.Error(), "rate limit") {
			t.Fatalf("second Do error = %v, want a rate limit error", err)
		}
		if n := srv.hits.Load(); n != 1 {
			t.Errorf("server got %d requests, want 1", n)
		}
		if st := c.Stats(); st.Requests != 1 || st.BudgetExhausted {
			t.Errorf("Stats() = %+v, want 1 request and budget left", st)
		}
		if tok := c.s.limiter.Tokens(); tok >= 1 {
			t.Errorf("limiter tokens = %v, want < 1 after the first request", tok)
		}
		// The rate-limited request did not spend the budget.
		if got := c.s.reserved.Load(); got != 1 {
			t.Errorf("budget reserved = %d, want 1", got)
		}
	})
	t.Run("fast rate lets all through", func(t *testing.T) {
		srv := newCounter(t, ok)
		c := newClient(t, srv.URL, Config{Rate: 1e6})
		for range 10 {
			if _, err := c.Do(context.Background(), &scan.Request{Path: "/"}); err != nil {
				t.Fatal(err)
			}
		}
		if n := srv.hits.Load(); n != 10 {
			t.Errorf("server got %d requests, want 10", n)
		}
	})
	t.Run("no rate means no limiter", func(t *testing.T) {
		if c := newClient(t, "http://127.0.0.1:1", Config{}); c.s.limiter != nil {
			t.Error("New(Rate 0) built a limiter, want none")
		}
	})
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name       string
		retries    int
		failures   int64 // answers before a 200
		status     int
		retryAfter string
		wantHits   int64
		wantStatus int
		noRetry    bool
	}{
		{name: "429 then ok", retries: 2, failures: 2, status: 429, retryAfter: "0", wantHits: 3, wantStatus: 200},
		{name: "503 then ok", retries: 2, failures: 1, status: 503, retryAfter: "0", wantHits: 2, wantStatus: 200},
		{name: "gives up after retries", retries: 2, failures: 100, status: 429, retryAfter: "0", wantHits: 3, wantStatus: 429},
		{name: "retry-after one second", retries: 1, failures: 1, status: 429, retryAfter: "1", wantHits: 2, wantStatus: 200},
		{name: "retries off", retries: -1, failures: 1, status: 429, retryAfter: "0", wantHits: 1, wantStatus: 429},
		{name: "500 not retried", retries: 2, failures: 1, status: 500, retryAfter: "0", wantHits: 1, wantStatus: 500},
		{name: "request asks for no retry", retries: 2, failures: 1, status: 429, retryAfter: "0", wantHits: 1, wantStatus: 429, noRetry: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var srv *counter
			srv = newCounter(t, func(w http.ResponseWriter, r *http.Request) {
				if srv.hits.Load() <= tt.failures {
					w.Header().Set("Retry-After", tt.retryAfter)
					w.WriteHeader(tt.status)
				}
			})
			c := newClient(t, srv.URL, Config{Retries: tt.retries})
			ex, err := c.Do(context.Background(), &scan.Request{Path: "/", NoRetry: tt.noRetry})
			if err != nil {
				t.Fatal(err)
			}
			if ex.Response.Status != tt.wantStatus {
				t.Errorf("status = %d, want %d", ex.Response.Status, tt.wantStatus)
			}
			if n := srv.hits.Load(); n != tt.wantHits {
				t.Errorf("server got %d attempts, want %d", n, tt.wantHits)
			}
		})
	}
}

func TestRetryWaitHonoursContext(t *testing.T) {
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "5")
		w.WriteHeader(http.StatusServiceUnavailable)
	})
	c := newClient(t, srv.URL, Config{})
	ctx, cancel := context.WithCancel(context.Background())
	c.cfg.Observer = func(*scan.Exchange) { cancel() } // cancel once the 503 is in
	_, err := c.Do(ctx, &scan.Request{Path: "/"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Do error = %v, want context.Canceled", err)
	}
	if n := srv.hits.Load(); n != 1 {
		t.Errorf("server got %d attempts, want 1", n)
	}
}

func TestRetryDelay(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name       string
		retryAfter string
		attempt    int
		want       time.Duration
	}{
		{"seconds", "3", 0, 3 * time.Second},
		{"zero", "0", 1, 0},
		{"capped seconds", "3600", 0, maxRetryWait},
		{"negative", "-5", 0, 0},
		{"http date", now.Add(4 * time.Second).Format(http.TimeFormat), 0, 4 * time.Second},
		{"past date", now.Add(-time.Hour).Format(http.TimeFormat), 0, 0},
		{"far date", now.Add(time.Hour).Format(http.TimeFormat), 0, maxRetryWait},
		{"no header first", "", 0, 250 * time.Millisecond},
		{"no header third", "", 2, time.Second},
		{"no header many", "", 30, maxRetryWait},
		{"garbage", "soon", 1, 500 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.retryAfter != "" {
				h.Set("Retry-After", tt.retryAfter)
			}
			if got := retryDelay(h, tt.attempt, now); got != tt.want {
				t.Errorf("retryDelay(%q, %d) = %v, want %v", tt.retryAfter, tt.attempt, got, tt.want)
			}
		})
	}
}

func TestBodyCap(t *testing.T) {
	body := strings.Repeat("abcdefghij", 100) // 1000 bytes
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) })
	tests := []struct {
		name          string
		maxBody       int64
		evidence      int
		wantRaw       int
		wantEvidence  int
		wantTruncated bool
	}{
		{name: "over both caps", maxBody: 100, evidence: 10, wantRaw: 100, wantEvidence: 10, wantTruncated: true},
		{name: "exactly the cap", maxBody: 1000, evidence: 10, wantRaw: 1000, wantEvidence: 10, wantTruncated: false},
		{name: "under both caps", maxBody: 5000, evidence: 5000, wantRaw: 1000, wantEvidence: 1000, wantTruncated: false},
		{name: "defaults", wantRaw: 1000, wantEvidence: 1000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, srv.URL, Config{MaxBodyBytes: tt.maxBody, EvidenceBytes: tt.evidence})
			ex, err := c.Do(context.Background(), &scan.Request{Path: "/"})
			if err != nil {
				t.Fatal(err)
			}
			r := ex.Response
			if len(r.Raw) != tt.wantRaw || len(r.Body) != tt.wantEvidence || r.Truncated != tt.wantTruncated {
				t.Errorf("len(Raw), len(Body), Truncated = %d, %d, %v; want %d, %d, %v",
					len(r.Raw), len(r.Body), r.Truncated, tt.wantRaw, tt.wantEvidence, tt.wantTruncated)
			}
			if !strings.HasPrefix(body, string(r.Raw)) {
				t.Errorf("Raw = %q…, want a prefix of the body", r.Raw[:10])
			}
		})
	}
}

func TestEvidenceCutKeepsUTF8(t *testing.T) {
	if got := cut("añb", 2); got != "a" {
		t.Errorf("cut(%q, 2) = %q, want %q", "añb", got, "a")
	}
	if got := cut("abc", 5); got != "abc" {
		t.Errorf("cut(%q, 5) = %q, want %q", "abc", got, "abc")
	}
}

func TestIdentityHeaders(t *testing.T) {
	var mu sync.Mutex
	var seen http.Header
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = r.Header.Clone()
		mu.Unlock()
	})
	c := newClient(t, srv.URL, Config{
		Header: http.Header{"X-Global": {"g"}, "authorization": {"Bearer global"}},
		Identities: []scan.Identity{
			{Name: "alice", Role: "user", Headers: http.Header{"Authorization": {"Bearer alice"}}},
			{Name: "bob", Role: "admin", Headers: http.Header{"Cookie": {"sid=bob"}}},
		},
	})
	tests := []struct {
		name string
		req  scan.Request
		want map[string]string // header -> value; "" means absent
	}{
		{name: "default is the first identity", req: scan.Request{},
			want: map[string]string{"X-Global": "g", "Authorization": "Bearer alice", "User-Agent": DefaultUserAgent}},
		{name: "anonymous strips every credential", req: scan.Request{Identity: scan.Anonymous},
			want: map[string]string{"X-Global": "g", "Authorization": "", "Cookie": "", "User-Agent": DefaultUserAgent}},
		{name: "identity replaces global", req: scan.Request{Identity: "alice"},
			want: map[string]string{"X-Global": "g", "Authorization": "Bearer alice"}},
		{name: "identity adds", req: scan.Request{Identity: "bob"},
			want: map[string]string{"Cookie": "sid=bob", "Authorization": "Bearer global"}},
		{name: "request header wins", req: scan.Request{Identity: "alice", Header: http.Header{"Authorization": {"Bearer forged"}, "User-Agent": {"x"}}},
			want: map[string]string{"Authorization": "Bearer forged", "User-Agent": "x"}},
		{name: "empty request header removes", req: scan.Request{Identity: "alice", Header: http.Header{"Authorization": nil}},
			want: map[string]string{"Authorization": "", "X-Global": "g"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Path = "/"
			if _, err := c.Do(context.Background(), &tt.req); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			defer mu.Unlock()
			for k, want := range tt.want {
				if got := seen.Get(k); got != want {
					t.Errorf("server saw %s = %q, want %q", k, got, want)
				}
			}
		})
	}

	before := srv.hits.Load()
	if _, err := c.Do(context.Background(), &scan.Request{Path: "/", Identity: "mallory"}); err == nil || !strings.Contains(err.Error(), "mallory") {
		t.Errorf("Do(identity mallory) error = %v, want unknown identity", err)
	}
	if n := srv.hits.Load() - before; n != 0 {
		t.Errorf("unknown identity sent %d requests, want 0", n)
	}
}

func TestRedactionInExchange(t *testing.T) {
	const jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.bm90LWEtcmVhbC1zaWduYXR1cmU"
	secrets := []string{"alice-token-123456", "global-key-456", "hunter2-body", "qtok789", "sesscookie000", "resp-secret-999", jwt}
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "sesscookie000", HttpOnly: true})
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"user":"alice","secret":"resp-secret-999","jwt":"%s"}`, jwt)
	})
	c := newClient(t, srv.URL, Config{
		Active:     true,
		Header:     http.Header{"X-Api-Key": {"global-key-456"}},
		Identities: []scan.Identity{{Name: "alice", Headers: http.Header{"Authorization": {"Bearer alice-token-123456"}}}},
	})
	ex, err := c.Do(context.Background(), &scan.Request{
		Method:   "POST",
		Path:     "/login?access_token=qtok789",
		Header:   http.Header{"Content-Type": {"application/json"}},
		Body:     []byte(`{"user":"alice","password":"hunter2-body"}`),
		Identity: "alice",
	})
	if err != nil {
		t.Fatal(err)
	}
	js, err := json.Marshal(ex)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range secrets {
		if bytes.Contains(js, []byte(s)) {
			t.Errorf("exchange JSON contains secret %q: %s", s, js)
		}
		if strings.Contains(ex.Curl, s) {
			t.Errorf("Curl contains secret %q: %s", s, ex.Curl)
		}
	}
	if !bytes.Contains(ex.Response.Raw, []byte("resp-secret-999")) {
		t.Errorf("Raw = %q, want the unredacted body", ex.Response.Raw)
	}
	for _, want := range []string{
		`"Authorization":["Bearer [REDACTED]"]`,
		`"Set-Cookie":["session=[REDACTED]; HttpOnly"]`,
		`\"user\":\"alice\"`,
	} {
		if !bytes.Contains(js, []byte(want)) {
			t.Errorf("exchange JSON lacks %s: %s", want, js)
		}
	}
	wantCurl := "curl -sS -X 'POST' -H 'Authorization: Bearer [REDACTED]' -H 'Content-Type: application/json'" +
		" -H 'User-Agent: merlon/dev' -H 'X-Api-Key: [REDACTED]'" +
		` --data-binary '{"user":"alice","password":"[REDACTED]"}' '` + srv.URL + "/login?access_token=[REDACTED]'"
	if ex.Curl != wantCurl {
		t.Errorf("Curl =\n%s\nwant\n%s", ex.Curl, wantCurl)
	}
}

func TestCurl(t *testing.T) {
	tests := []struct {
		name   string
		method string
		body   string
		want   string
	}{
		{"get", "GET", "", "curl -sS 'http://h/x'"},
		{"head", "HEAD", "", "curl -sS -I 'http://h/x'"},
		{"delete", "DELETE", "", "curl -sS -X 'DELETE' 'http://h/x'"},
		{"quote in body", "PUT", "it's", `curl -sS -X 'PUT' --data-binary 'it'\''s' 'http://h/x'`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Curl(tt.method, "http://h/x", nil, tt.body, false); got != tt.want {
				t.Errorf("Curl(%s, %q) = %s, want %s", tt.method, tt.body, got, tt.want)
			}
		})
	}
}

// TestShellQuote runs quoted strings through a real shell: what comes out
// must be what went in.
func TestShellQuote(t *testing.T) {
	sh, err := exec.LookPath("sh")
	if err != nil {
		t.Skip("no sh")
	}
	for _, s := range []string{"plain", "it's", `a"b$c\d`, "''", "new\nline", "$(id) `id`", ""} {
		out, err := exec.Command(sh, "-c", "printf %s "+shellQuote(s)).Output()
		if err != nil {
			t.Fatalf("sh -c printf %s: %v", shellQuote(s), err)
		}
		if string(out) != s {
			t.Errorf("sh printf %s = %q, want %q", shellQuote(s), out, s)
		}
	}
}

func TestTransportError(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(ok))
	base := srv.URL
	srv.Close() // nothing listens there now
	c := newClient(t, base, Config{Retries: -1})
	_, err := c.Do(context.Background(), &scan.Request{Path: "/x"})
	if err == nil {
		t.Fatal("Do against a closed port succeeded")
	}
	if want := "GET " + base + "/x: "; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error = %q, want prefix %q", err, want)
	}
	if !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("error = %q, want it to say connection refused", err)
	}
	if st := c.Stats(); st.TransportErrors != 1 || st.Requests != 1 {
		t.Errorf("Stats() = %+v, want 1 request, 1 transport error", st)
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	c := newClient(t, srv.URL, Config{Timeout: 50 * time.Millisecond})
	_, err := c.Do(context.Background(), &scan.Request{Path: "/slow"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Do(slow) error = %v, want deadline exceeded", err)
	}
	if st := c.Stats(); st.TransportErrors != 1 {
		t.Errorf("Stats().TransportErrors = %d, want 1", st.TransportErrors)
	}
}

func TestConcurrencyCap(t *testing.T) {
	const limit = 3
	var inFlight, most atomic.Int64
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(20 * time.Millisecond)
	})
	c := newClient(t, srv.URL, Config{Concurrency: limit})
	var wg sync.WaitGroup
	for range 5 * limit {
		wg.Go(func() {
			if _, err := c.Do(context.Background(), &scan.Request{Path: "/"}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if m := most.Load(); m > limit {
		t.Errorf("server saw %d requests in flight, want at most %d", m, limit)
	}
	if n := srv.hits.Load(); n != 5*limit {
		t.Errorf("server got %d requests, want %d", n, 5*limit)
	}
}

func TestCoverage(t *testing.T) {
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/missing" {
			http.NotFound(w, r)
		}
	})
	listUsers := &scan.Operation{ID: "listUsers", Method: "GET", Path: "/users"}
	getMissing := &scan.Operation{ID: "getMissing", Method: "GET", Path: "/missing"}
	never := &scan.Operation{ID: "never", Method: "GET", Path: "/never"}
	sameID := &scan.Operation{ID: "listUsers", Method: "GET", Path: "/users"} // a copy, matched by ID
	noID := &scan.Operation{Method: "GET", Path: "/users"}

	c := newClient(t, srv.URL, Config{})
	for _, r := range []scan.Request{
		{Path: "/users", Operation: listUsers},
		{Path: "/missing", Operation: getMissing},
		{Path: "/missing", Operation: getMissing},
		{Path: "/untracked"},
	} {
		if _, err := c.Do(context.Background(), &r); err != nil {
			t.Fatal(err)
		}
	}
	got := c.Coverage([]*scan.Operation{listUsers, getMissing, never, sameID, noID})
	want := scan.Coverage{Operations: 5, Reached: 3, Succeeded: 2, Requests: 4}
	if got != want {
		t.Errorf("Coverage() = %+v, want %+v", got, want)
	}
}

func TestWithBaseSharesState(t *testing.T) {
	var seen atomic.Value
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) { seen.Store(r.URL.Path) })
	root := newClient(t, srv.URL, Config{MaxRequests: 2})
	api := root.WithBase(mustURL(t, srv.URL+"/v2"))
	if _, err := api.Do(context.Background(), &scan.Request{Path: "/users"}); err != nil {
		t.Fatal(err)
	}
	if got := seen.Load(); got != "/v2/users" {
		t.Errorf("WithBase client reached %v, want /v2/users", got)
	}
	if _, err := root.Do(context.Background(), &scan.Request{Path: "/"}); err != nil {
		t.Fatal(err)
	}
	if _, err := api.Do(context.Background(), &scan.Request{Path: "/users"}); !errors.Is(err, scan.ErrBudgetExhausted) {
		t.Errorf("third request error = %v, want the shared budget spent", err)
	}
	if st := root.Stats(); st.Requests != 2 || !st.BudgetExhausted {
		t.Errorf("root Stats() = %+v, want 2 requests and budget exhausted", st)
	}
}

func TestExchangeRecordsRequest(t *testing.T) {
	srv := newCounter(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Server", "t")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, "made")
	})
	c := newClient(t, srv.URL, Config{Active: true, UserAgent: "merlon/test"})
	ex, err := c.Do(context.Background(), &scan.Request{Method: "put", Path: "/things/1", Body: []byte("x=1")})
	if err != nil {
		t.Fatal(err)
	}
	rq, rs := ex.Request, ex.Response
	if rq.Method != "PUT" || rq.URL != srv.URL+"/things/1" || rq.Body != "x=1" || rq.Header.Get("User-Agent") != "merlon/test" {
		t.Errorf("Request = %+v, want PUT %s/things/1 with body x=1 and the user agent", rq, srv.URL)
	}
	if rs.Status != 201 || rs.Body != "made" || rs.Header.Get("X-Server") != "t" || rs.Duration <= 0 {
		t.Errorf("Response = %+v, want 201 made with X-Server and a duration", rs)
	}
}

func BenchmarkDo(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":1,"name":"alice","email":"alice@example.test","token":"abc"}`)
	}))
	defer srv.Close()
	u, _ := url.Parse(srv.URL)
	c := New(Config{BaseURL: u, Header: http.Header{"Authorization": {"Bearer x"}}})
	req := &scan.Request{Path: "/users/1"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Do(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
}
