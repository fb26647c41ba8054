package spectest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestGenerate(t *testing.T) {
	if !bytes.Equal(Generate(12), Generate(12)) {
		t.Fatal("Generate(12) is not deterministic")
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(Generate(12), &doc); err != nil {
		t.Fatalf("Generate(12) is not JSON: %v", err)
	}
	count := 0
	for _, item := range doc.Paths {
		for k := range item {
			if k != "parameters" {
				count++
			}
		}
	}
	if count != 12 || doc.OpenAPI != "3.0.3" {
		t.Errorf("Generate(12) = %d operations, openapi %q; want 12, 3.0.3", count, doc.OpenAPI)
	}
	if _, ok := doc.Paths["/r2"]["post"]; !ok {
		t.Errorf("Generate(12) lacks POST /r2")
	}
	if _, ok := doc.Paths["/r2/{id}"]; ok {
		t.Errorf("Generate(12) has /r2/{id}, want only 12 operations")
	}
}

func TestServer(t *testing.T) {
	srv := httptest.NewServer(Server(12, 0))
	t.Cleanup(srv.Close)
	tests := []struct {
		method, path string
		status       int
		body         string // substring of the response body
	}{
		{"GET", "/openapi.json", 200, `"openapi": "3.0.3"`},
		{"GET", "/r0", 200, `"id":1`},
		{"POST", "/r1", 201, `"name":"r1-3"`},
		{"GET", "/r1/7", 200, `"id":7`},
		{"PUT", "/r0/2", 200, `"id":2`},
		{"DELETE", "/r1/2", 204, ""},
		{"GET", "/r2", 200, `"id":2`},
		{"GET", "/r2/1", 404, `"error"`}, // op 12 does not exist
		{"PATCH", "/r0/1", 405, `"error"`},
		{"GET", "/r3", 404, `"error"`},
		{"GET", "/r0/abc", 404, `"error"`},
		{"GET", "/nothing", 404, `"error":"not found"`},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, srv.URL+tt.path, nil)
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tt.status || !strings.Contains(string(b), tt.body) {
			t.Errorf("%s %s = %d %s, want %d containing %s", tt.method, tt.path, resp.StatusCode, b, tt.status, tt.body)
		}
		if tt.status != 204 && resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s Content-Type = %q, want application/json", tt.method, tt.path, resp.Header.Get("Content-Type"))
		}
	}
	var list []map[string]any
	resp, err := srv.Client().Get(srv.URL + "/r0")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list) != 2 || list[0]["id"] == nil {
		t.Errorf("GET /r0 = %v (%v), want 2 objects with id", list, err)
	}
}

func TestServerLatency(t *testing.T) {
	srv := httptest.NewServer(Server(5, 200*time.Millisecond))
	t.Cleanup(srv.Close)

	start := time.Now()
	resp, err := srv.Client().Get(srv.URL + "/r0")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Errorf("GET /r0 took %v, want at least the 200ms latency", d)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/r0", nil)
	start = time.Now()
	_, err = srv.Client().Do(req)
	var ne net.Error
	if !errors.Is(err, context.DeadlineExceeded) && !(errors.As(err, &ne) && ne.Timeout()) {
		t.Errorf("GET with 20ms deadline error = %v, want a timeout", err)
	}
	if d := time.Since(start); d > 150*time.Millisecond {
		t.Errorf("cancelled request took %v", d)
	}
}
