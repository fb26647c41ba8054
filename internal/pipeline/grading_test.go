package pipeline_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/merlonsec/merlon/internal/pipeline"
	"github.com/merlonsec/merlon/internal/score"
	"github.com/merlonsec/merlon/internal/spec/spectest"
)

// answering serves the generated spec at /openapi.json and answers every
// other request with status, as an API scanned at the wrong path or
// without its credentials does.
func answering(status int) http.Handler {
	doc := spectest.Generate(10)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/openapi.json" {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(doc)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"error":"no"}`))
	})
}

// TestScansThatProveNothingAreUngraded runs real scans that reach the
// server but never see the API work. Each must be ungraded, with a first
// warning that names the cause.
func TestScansThatProveNothingAreUngraded(t *testing.T) {
	tests := []struct {
		name string
		h    http.Handler
		want []string
	}{
		{"every path 404", answering(http.StatusNotFound), []string{"not graded", "404 or 405", "--base-url"}},
		{"every path 401", answering(http.StatusUnauthorized), []string{"not graded", "401 or 403", "-H", "--identity"}},
		{"every path 403", answering(http.StatusForbidden), []string{"401 or 403"}},
		{"no spec and nothing to crawl", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/" {
				http.NotFound(w, r)
				return
			}
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte("<html><body>It works</body></html>"))
		}), []string{"not graded", "no operation", "--spec"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.h)
			defer srv.Close()
			cfg := scanConfig(t, srv.URL)
			cfg.Profile = "quick"
			rep, err := pipeline.Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Score.Grade != score.Ungraded || rep.Score.Overall != 0 {
				t.Errorf("score = %d %s, want 0 %s (coverage %+v)", rep.Score.Overall, rep.Score.Grade, score.Ungraded, rep.Coverage)
			}
			if len(rep.Warnings) == 0 {
				t.Fatalf("no warning; coverage %+v", rep.Coverage)
			}
			for _, w := range tt.want {
				if !strings.Contains(rep.Warnings[0], w) {
					t.Errorf("first warning = %q, want it to contain %q", rep.Warnings[0], w)
				}
			}
		})
	}
}

// TestBudgetMakesScorePartial: a scan the request budget cut short has a
// score marked partial.
func TestBudgetMakesScorePartial(t *testing.T) {
	srv := httptest.NewServer(spectest.Server(100, 0))
	defer srv.Close()
	cfg := scanConfig(t, srv.URL)
	cfg.MaxRequests = 60
	rep, err := pipeline.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Coverage.BudgetExhausted || !rep.Score.Partial {
		t.Errorf("budgetExhausted = %v, score.partial = %v, want both true", rep.Coverage.BudgetExhausted, rep.Score.Partial)
	}

	cfg.MaxRequests = 0
	rep, err = pipeline.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Score.Partial || rep.Interrupted {
		t.Errorf("complete scan: score.partial = %v, interrupted = %v, want false", rep.Score.Partial, rep.Interrupted)
	}
}

// TestOnWrite: an active scan reports each write it sent with its status;
// a passive one reports none.
func TestOnWrite(t *testing.T) {
	var mu sync.Mutex
	served := map[string]int{} // method -> writes the server saw
	api := spectest.Server(20, 0)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Method != http.MethodOptions {
			mu.Lock()
			served[r.Method]++
			mu.Unlock()
		}
		api.ServeHTTP(w, r)
	}))
	defer srv.Close()

	for _, active := range []bool{false, true} {
		mu.Lock()
		clear(served)
		mu.Unlock()
		var got []pipeline.Write
		cfg := scanConfig(t, srv.URL)
		cfg.Profile = "quick"
		cfg.Active = active
		cfg.OnWrite = func(w pipeline.Write) {
			mu.Lock()
			got = append(got, w)
			mu.Unlock()
		}
		if _, err := pipeline.Run(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		total := 0
		for _, n := range served {
			total += n
		}
		if !active {
			if len(got) != 0 || total != 0 {
				t.Errorf("passive scan: %d writes reported, %d served, want 0", len(got), total)
			}
			mu.Unlock()
			continue
		}
		if total == 0 {
			t.Fatal("active scan sent no write; the test proves nothing")
		}
		if len(got) != total {
			seen := map[string]int{}
			for _, w := range got {
				seen[w.Method]++
			}
			for k, n := range served {
				if seen[k] != n {
					t.Logf("%s: served %d, reported %d", k, n, seen[k])
				}
			}
			t.Errorf("active scan: %d writes reported, %d served, want every one", len(got), total)
		}
		for _, w := range got {
			if w.Method == "" || w.Status == 0 || !strings.HasPrefix(w.URL, srv.URL) {
				t.Errorf("write = %+v, want method, status and a URL on %s", w, srv.URL)
			}
		}
		mu.Unlock()
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		in   string
		want string // URL on success, else a substring of the error
		ok   bool
	}{
		{"http://127.0.0.1:8080", "http://127.0.0.1:8080/", true},
		{"HTTPS://api.example.com/v1#x", "https://api.example.com/v1", true},
		{"127.0.0.1:8080", "has no scheme; use http://127.0.0.1:8080", false},
		{"localhost:8080/api", "has no scheme; use http://localhost:8080/api", false},
		{"api.example.com", "has no scheme", false},
		{"[::1]:8080", "has no scheme; use http://[::1]:8080", false},
		{"mailto:someone", "unsupported scheme \"mailto\"", false},
		{"ftp://127.0.0.1/", "unsupported scheme \"ftp\"", false},
		{"http://[::1", "invalid target URL", false},
		{"http://127.0.0.1:99999", "invalid port", false},
		{"  ", "empty target URL", false},
	}
	for _, tt := range tests {
		u, err := pipeline.ParseTarget(tt.in)
		switch {
		case tt.ok && err != nil:
			t.Errorf("ParseTarget(%q) = %v, want %s", tt.in, err, tt.want)
		case tt.ok && u.String() != tt.want:
			t.Errorf("ParseTarget(%q) = %s, want %s", tt.in, u, tt.want)
		case !tt.ok && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("ParseTarget(%q) = %v, want an error containing %q", tt.in, err, tt.want)
		}
	}
}
