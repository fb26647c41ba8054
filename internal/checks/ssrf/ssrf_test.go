package ssrf

import (
	"testing"

	"github.com/merlonsec/merlon/internal/scan"
)

func TestPoints(t *testing.T) {
	op := &scan.Operation{Method: "POST", Path: "/import", Parameters: []scan.Parameter{
		{Name: "feed_url", In: "query"},
		{Name: "page", In: "query", Schema: &scan.Schema{Type: "integer"}},
		{Name: "from", In: "query", Example: "https://example.com/a"},
	}, RequestBody: &scan.RequestBody{ContentType: "application/json", Schema: &scan.Schema{Properties: map[string]*scan.Schema{
		"homepage": {Type: "string", Format: "uri"},
		"name":     {Type: "string"},
		"image":    {Type: "integer"},
	}}}}
	got := map[string]bool{}
	for _, p := range Points(&scan.Target{Operations: []*scan.Operation{op}}) {
		got[p.Location()] = true
	}
	want := []string{"query:feed_url", "query:from", "body:homepage"}
	for _, w := range want {
		if !got[w] {
			t.Errorf("Points lacks %s; got %v", w, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("Points = %v, want exactly %v", got, want)
	}
}

func TestWebhookPoint(t *testing.T) {
	tests := []struct {
		method, path, in, name string
		want                   bool
	}{
		{"POST", "/webhooks", "body", "url", true},
		{"POST", "/subscriptions", "body", "target", true},
		{"POST", "/orders", "body", "notify_url", true},
		{"POST", "/previews", "body", "url", false},
		{"GET", "/webhooks", "query", "url", false},
	}
	for _, tt := range tests {
		p := Point{Op: &scan.Operation{Method: tt.method, Path: tt.path}, In: tt.in, Name: tt.name}
		if got := WebhookPoint(p); got != tt.want {
			t.Errorf("WebhookPoint(%s %s %s:%s) = %v, want %v", tt.method, tt.path, tt.in, tt.name, got, tt.want)
		}
	}
}
