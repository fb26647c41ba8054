package engine

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"

	"github.com/merlonsec/merlon/internal/scan"
)

// TestRunChecksRecordsOperations: each check's result lists the inventory
// operations that answered it, sorted and once each, whatever goroutines
// sent them; refused requests and requests tied to no operation count for
// nothing, and one check's operations never leak into another's result.
func TestRunChecksRecordsOperations(t *testing.T) {
	srv := newCounter(t, ok)
	c := newClient(t, srv.URL, Config{})
	items := &scan.Operation{Method: "get", Path: "/items"}
	item := &scan.Operation{Method: "GET", Path: "/items/{id}"}
	del := &scan.Operation{Method: "DELETE", Path: "/items/{id}"}

	perOp := check("per.operation", func(ctx context.Context, _ *scan.Target, h scan.Requester) ([]scan.Finding, error) {
		var wg sync.WaitGroup
		for _, op := range []*scan.Operation{item, items, item, items} {
			wg.Go(func() { h.Do(ctx, &scan.Request{Path: "/", Operation: op}) })
		}
		wg.Wait()
		// Refused without --active: not tested.
		h.Do(ctx, &scan.Request{Method: http.MethodDelete, Path: "/items/1", Operation: del})
		return nil, nil
	})
	wholeTarget := check("whole.target", func(ctx context.Context, _ *scan.Target, h scan.Requester) ([]scan.Finding, error) {
		_, err := h.Do(ctx, &scan.Request{Path: "/"})
		return nil, err
	})
	_, res := RunChecks(context.Background(), testTarget(t), []scan.Check{perOp, wholeTarget}, c, RunOptions{})
	if want := []string{"GET /items", "GET /items/{id}"}; !slices.Equal(res[0].Operations, want) {
		t.Errorf("per.operation Operations = %q, want %q", res[0].Operations, want)
	}
	if res[1].Operations != nil {
		t.Errorf("whole.target Operations = %q, want none", res[1].Operations)
	}
}

// TestRunChecksOperationsNeedAnAnswer: a transport error tested nothing.
func TestRunChecksOperationsNeedAnAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(ok))
	base := srv.URL
	srv.Close() // nothing listens there now
	c := newClient(t, base, Config{Retries: -1})
	op := &scan.Operation{Method: "GET", Path: "/items"}
	chk := check("dead", func(ctx context.Context, _ *scan.Target, h scan.Requester) ([]scan.Finding, error) {
		h.Do(ctx, &scan.Request{Path: "/", Operation: op})
		return nil, nil
	})
	_, res := RunChecks(context.Background(), testTarget(t), []scan.Check{chk}, c, RunOptions{})
	if res[0].Operations != nil {
		t.Errorf("Operations after a transport error = %q, want none", res[0].Operations)
	}
}
