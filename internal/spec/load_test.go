package spec

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/spec/spectest"
)

// fetchHTTP is the fetcher a caller would pass to Load.
func fetchHTTP(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	return io.ReadAll(resp.Body)
}

func TestLoad(t *testing.T) {
	srv := httptest.NewServer(spectest.Server(10, 0))
	t.Cleanup(srv.Close)
	ctx := context.Background()

	s, err := Load(ctx, srv.URL+"/openapi.json", fetchHTTP)
	if err != nil {
		t.Fatalf("Load(url) error: %v", err)
	}
	if len(s.Operations) != 10 || s.Info.Source != srv.URL+"/openapi.json" {
		t.Errorf("Load(url) = %d operations from %q, want 10 from the URL", len(s.Operations), s.Info.Source)
	}
	check(t, "generated security scheme", s.SecuritySchemes["bearerAuth"], SecurityScheme{Type: "http", Scheme: "bearer", BearerFormat: "JWT"})

	if _, err := Load(ctx, srv.URL+"/nope.json", fetchHTTP); err == nil || !strings.Contains(err.Error(), "status 404") {
		t.Errorf("Load(missing url) error = %v, want status 404", err)
	}
	if _, err := Load(ctx, srv.URL+"/openapi.json", nil); err == nil {
		t.Errorf("Load(url, nil fetch) error = nil, want one")
	}

	s, err = Load(ctx, filepath.Join("testdata", "external", "main.yaml"), nil)
	if err != nil {
		t.Fatalf("Load(file) error: %v", err)
	}
	if got := s.Operations[0].Responses["200"].Schema.Properties["address"].Ref; got != "address" {
		t.Errorf("Load(file) did not follow file refs: address.Ref = %q", got)
	}

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Load(cancelled, "testdata/noservers.yaml", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("Load(cancelled) error = %v, want context.Canceled", err)
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "absent.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("LoadFile(absent) error = %v, want os.ErrNotExist", err)
	}
}

// TestParseConcurrent runs parses in parallel so -race can see shared state.
func TestParseConcurrent(t *testing.T) {
	data := spectest.Generate(50)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			_, err := Parse(data, Options{Source: "generated"})
			errs <- err
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Errorf("Parse error: %v", err)
		}
	}
}
