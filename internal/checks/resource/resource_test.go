package resource

import (
	"net/http"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/scan"
)

func TestItemCount(t *testing.T) {
	tests := []struct {
		name, body string
		n          int
		ok         bool
	}{
		{"array", `[1,2,3]`, 3, true},
		{"envelope", `{"total":9,"items":[{},{}],"tags":["a"]}`, 2, true},
		{"object without list", `{"id":1}`, 0, false},
		{"not JSON", `<html>`, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, ok := ItemCount([]byte(tt.body))
			if n != tt.n || ok != tt.ok {
				t.Errorf("ItemCount(%s) = %d, %v, want %d, %v", tt.body, n, ok, tt.n, tt.ok)
			}
		})
	}
}

// TestNoRateLimitStopsAtThrottle: a server that throttles the fifth
// request is not reported, and the burst stops there.
func TestNoRateLimitStopsAtThrottle(t *testing.T) {
	n := 0
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		if n > 5 {
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Write([]byte(`[]`))
	})
	fs := checktest.Run(t, NoRateLimit{}, h, checktest.WithActive(), checktest.WithOperations(checktest.Op("GET", "/items")))
	if len(fs) != 0 {
		t.Errorf("NoRateLimit on a throttling server = %d findings, want 0", len(fs))
	}
	if n != 6 {
		t.Errorf("requests sent = %d, want 6 (stop at the first 429)", n)
	}
}

func TestNoRateLimitReportsUnthrottled(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`[]`)) })
	fs := checktest.Run(t, NoRateLimit{}, h, checktest.WithActive(), checktest.WithProfile(scan.Quick),
		checktest.WithOperations(checktest.Op("GET", "/items")))
	if len(fs) != 1 || fs[0].Confidence != scan.Likely {
		t.Fatalf("NoRateLimit on an unthrottled server = %v, want one likely finding", fs)
	}
}
