package probe_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/engine"
	"github.com/merlonsec/merlon/internal/scan"
)

func ops(paths ...string) []*scan.Operation {
	var out []*scan.Operation
	for _, p := range paths {
		out = append(out, &scan.Operation{Method: "GET", Path: p})
	}
	return out
}

func paths(ops []*scan.Operation) []string {
	var out []string
	for _, op := range ops {
		out = append(out, op.Path)
	}
	return out
}

func TestBudget(t *testing.T) {
	for p, want := range map[scan.Profile]int{scan.Quick: 20, scan.Standard: 50, "": 50, scan.Deep: 0} {
		if got := probe.Budget(p); got != want {
			t.Errorf("Budget(%q) = %d, want %d", p, got, want)
		}
	}
}

func TestGets(t *testing.T) {
	inv := ops("/a", "/b", "/c", "/d", "/e", "/f")
	inv = slices.Insert(inv, 1, &scan.Operation{Method: "POST", Path: "/a"})
	tests := []struct {
		n    int
		want []string
	}{
		{0, []string{"/a", "/b", "/c", "/d", "/e", "/f"}},
		{10, []string{"/a", "/b", "/c", "/d", "/e", "/f"}},
		{3, []string{"/a", "/c", "/e"}},
		{2, []string{"/a", "/d"}},
		{1, []string{"/a"}},
	}
	for _, tt := range tests {
		got := paths(probe.Gets(&scan.Target{Operations: inv}, tt.n))
		if !slices.Equal(got, tt.want) {
			t.Errorf("Gets(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestValue(t *testing.T) {
	var bank scan.ValueBank
	bank.Add("userId", "u-42")
	target := &scan.Target{Values: &bank}
	tests := []struct {
		name string
		p    scan.Parameter
		want string
	}{
		{"harvested value first", scan.Parameter{Name: "userId", Example: "u-1"}, "u-42"},
		{"parameter example", scan.Parameter{Name: "id", Example: 7, Schema: &scan.Schema{Example: 8}}, "7"},
		{"schema example", scan.Parameter{Name: "id", Schema: &scan.Schema{Example: "abc"}}, "abc"},
		{"schema default", scan.Parameter{Name: "id", Schema: &scan.Schema{Default: 3}}, "3"},
		{"first enum", scan.Parameter{Name: "kind", Schema: &scan.Schema{Enum: []any{"book", "film"}}}, "book"},
		{"uuid format", scan.Parameter{Name: "id", Schema: &scan.Schema{Type: "string", Format: "uuid"}}, "00000000-0000-4000-8000-000000000001"},
		{"object example ignored", scan.Parameter{Name: "id", Example: map[string]any{"a": 1}}, "1"},
		{"fallback", scan.Parameter{Name: "id"}, "1"},
	}
	for _, tt := range tests {
		if got := probe.Value(target, tt.p); got != tt.want {
			t.Errorf("Value(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestPathAndGet(t *testing.T) {
	op := &scan.Operation{Method: "GET", Path: "/orgs/{org}/users/{id}", Parameters: []scan.Parameter{
		{Name: "org", In: "path", Example: "acme"},
		{Name: "q", In: "query", Required: true, Example: "x y"},
		{Name: "page", In: "query"},
	}}
	target := &scan.Target{}
	if got, want := probe.Path(target, op, map[string]string{"id": `'"<>%/`}), "/orgs/acme/users/%27%22%3C%3E%25%2F"; got != want {
		t.Errorf("Path(override) = %q, want %q", got, want)
	}
	req := probe.Get(target, op)
	if req.Method != "GET" || req.Path != "/orgs/acme/users/1" || req.Operation != op {
		t.Errorf("Get = %s %s (op %p), want GET /orgs/acme/users/1 (op %p)", req.Method, req.Path, req.Operation, op)
	}
	if got, want := req.Query, (url.Values{"q": {"x y"}}); got.Encode() != want.Encode() {
		t.Errorf("Get query = %q, want only the required %q", got.Encode(), want.Encode())
	}
	if req := probe.Get(target, nil); req.Path != "/" || req.Operation != nil {
		t.Errorf("Get(nil) = %q, want / with no operation", req.Path)
	}
}

func TestFinding(t *testing.T) {
	m := scan.Meta{ID: "misconfig.cors", Title: "t", Category: scan.API8Misconfiguration, CWE: 942, Severity: scan.High}
	u, _ := url.Parse("https://api.example.com:8443/v1")
	f := probe.Finding(m, &scan.Target{BaseURL: u}, "GET /x", "Origin")
	if want := scan.Fingerprint("misconfig.cors", "https://api.example.com:8443", "GET /x", "Origin"); f.Fingerprint != want {
		t.Errorf("Fingerprint = %q, want %q (scheme, host and port only)", f.Fingerprint, want)
	}
	if f.CheckID != m.ID || f.CWE != 942 || f.Operation != "GET /x" || f.Location != "Origin" || f.Remediation == "" {
		t.Errorf("Finding = %+v, want the meta, place and remediation filled in", f)
	}
}

func TestSender(t *testing.T) {
	ok := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer ok.Close()
	gone := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	gone.Close()
	client := func(raw string, budget int) scan.Requester {
		u, _ := url.Parse(raw)
		return engine.New(engine.Config{BaseURL: u, MaxRequests: budget, Retries: -1})
	}
	get := &scan.Request{Method: "GET", Path: "/"}

	t.Run("answered", func(t *testing.T) {
		s := probe.NewSender(client(ok.URL, 0))
		if ex := s.Do(t.Context(), get); ex == nil || s.Done() || s.Err() != nil {
			t.Errorf("Do = %v, Done = %v, Err = %v; want an exchange and no error", ex, s.Done(), s.Err())
		}
	})
	t.Run("unreachable", func(t *testing.T) {
		s := probe.NewSender(client(gone.URL, 0))
		if ex := s.Do(t.Context(), get); ex != nil || s.Done() || s.Err() == nil {
			t.Errorf("Do = %v, Done = %v, Err = %v; want no exchange, not done, an error", ex, s.Done(), s.Err())
		}
	})
	t.Run("budget spent", func(t *testing.T) {
		s := probe.NewSender(client(ok.URL, 1))
		s.Do(t.Context(), get)
		if ex := s.Do(t.Context(), get); ex != nil || !s.Done() || s.Err() != nil {
			t.Errorf("second Do = %v, Done = %v, Err = %v; want done without error", ex, s.Done(), s.Err())
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		s := probe.NewSender(client(ok.URL, 0))
		if ex := s.Do(ctx, get); ex != nil || !s.Done() || !errors.Is(s.Err(), context.Canceled) {
			t.Errorf("Do = %v, Done = %v, Err = %v; want done with context.Canceled", ex, s.Done(), s.Err())
		}
	})
}

func TestSenderDoAll(t *testing.T) {
	// The first request waits for a second to arrive, so the exchanges
	// say whether DoAll had several requests in flight.
	second := make(chan struct{})
	var once sync.Once
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/0" {
			select {
			case <-second:
				w.Header().Set("X-Overlap", "yes")
			case <-r.Context().Done():
			case <-time.After(5 * time.Second):
			}
			return
		}
		once.Do(func() { close(second) })
	}))
	defer srv.Close()
	client := func(budget int) scan.Requester {
		u, _ := url.Parse(srv.URL)
		return engine.New(engine.Config{BaseURL: u, MaxRequests: budget, Retries: -1, Concurrency: 8})
	}
	reqs := func(n int) []*scan.Request {
		var out []*scan.Request
		for i := range n {
			out = append(out, &scan.Request{Method: "GET", Path: "/" + strconv.Itoa(i)})
		}
		return out
	}
	// collect runs DoAll and returns the paths fn saw, in order.
	collect := func(ctx context.Context, s *probe.Sender, n, stopAt int) []string {
		var got []string
		s.DoAll(ctx, reqs(n), func(i int, ex *scan.Exchange) bool {
			if ex == nil {
				got = append(got, "nil")
				return true
			}
			u, _ := url.Parse(ex.Request.URL)
			got = append(got, u.Path)
			if i == 0 && ex.Response.Header.Get("X-Overlap") != "yes" {
				t.Errorf("DoAll sent the first request alone; want several in flight")
			}
			return i != stopAt
		})
		return got
	}

	t.Run("in order", func(t *testing.T) {
		s := probe.NewSender(client(0))
		got := collect(t.Context(), s, 10, -1)
		want := []string{"/0", "/1", "/2", "/3", "/4", "/5", "/6", "/7", "/8", "/9"}
		if !slices.Equal(got, want) || s.Done() || s.Err() != nil {
			t.Errorf("DoAll saw %q (Done %v, Err %v), want %q", got, s.Done(), s.Err(), want)
		}
	})
	t.Run("fn stops it", func(t *testing.T) {
		s := probe.NewSender(client(0))
		if got := collect(t.Context(), s, 10, 2); !slices.Equal(got, []string{"/0", "/1", "/2"}) {
			t.Errorf("DoAll saw %q, want the first three only", got)
		}
	})
	t.Run("budget spent", func(t *testing.T) {
		s := probe.NewSender(client(3))
		got := collect(t.Context(), s, 10, -1)
		if len(got) > 3 || !s.Done() || s.Err() != nil {
			t.Errorf("DoAll saw %q (Done %v, Err %v), want at most 3 and done without error", got, s.Done(), s.Err())
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		s := probe.NewSender(client(0))
		if got := collect(ctx, s, 10, -1); len(got) != 0 || !errors.Is(s.Err(), context.Canceled) {
			t.Errorf("DoAll saw %q (Err %v), want nothing and context.Canceled", got, s.Err())
		}
	})
}

func TestSelfPath(t *testing.T) {
	for p, want := range map[string]bool{
		"/me": true, "/users/me/": true, "/api/Account": true, "/v1/userinfo": true, "/user": true,
		"/users": false, "/users/{id}": false, "/admin": false, "/": false,
	} {
		if got := probe.SelfPath(p); got != want {
			t.Errorf("SelfPath(%q) = %v, want %v", p, got, want)
		}
	}
}
