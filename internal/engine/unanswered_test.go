package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
)

// TestWriteUnanswered: a write that times out is reported, since the
// target may have applied it; a read that times out is not, and neither
// is a write that was answered.
func TestWriteUnanswered(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		w.WriteHeader(http.StatusCreated)
	}))
	defer srv.Close()
	defer close(release)
	var (
		mu  sync.Mutex
		got []string
	)
	c := newClient(t, srv.URL, Config{Active: true, Timeout: 200 * time.Millisecond,
		WriteUnanswered: func(method, url string, err error) {
			mu.Lock()
			got = append(got, method+" "+url)
			mu.Unlock()
		}})
	ctx := context.Background()
	if _, err := c.Do(ctx, &scan.Request{Method: http.MethodPost, Path: "/slow"}); err == nil {
		t.Fatalf("POST /slow: no error, want a timeout")
	}
	if _, err := c.Do(ctx, &scan.Request{Method: http.MethodGet, Path: "/slow"}); err == nil {
		t.Fatalf("GET /slow: no error, want a timeout")
	}
	if _, err := c.Do(ctx, &scan.Request{Method: http.MethodPost, Path: "/fast"}); err != nil {
		t.Fatalf("POST /fast: %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0] != "POST "+srv.URL+"/slow" {
		t.Errorf("WriteUnanswered calls = %q, want only the POST to /slow", got)
	}
}
