package pipeline

import (
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/engine"
)

func TestMisbehaviour(t *testing.T) {
	lim := engine.Limits{Timeout: 3 * time.Second, MaxBodyBytes: 2 << 20, MaxHeaderBytes: 1 << 20, MaxRedirects: 5}
	tests := []struct {
		name string
		st   engine.Stats
		want []string
	}{
		{name: "well behaved", st: engine.Stats{Requests: 10}},
		{name: "one truncated", st: engine.Stats{Truncated: 1}, want: []string{"the target sent 1 response over the body cap (2 MiB); only the first 2 MiB of each was read"}},
		{name: "everything", st: engine.Stats{Truncated: 2, Timeouts: 3, OversizedHeaders: 1, RedirectLimit: 4}, want: []string{
			"the target sent 2 responses over the body cap (2 MiB); only the first 2 MiB of each was read",
			"3 requests to the target timed out (--timeout 3s), the body included",
			"the target sent 1 response with oversized headers (over 1 MiB); they were dropped",
			"the target redirected 4 requests more than 5 times in a row; Merlon stopped following",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := misbehaviour(tt.st, lim)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("misbehaviour(%+v) = %q, want %q", tt.st, got, tt.want)
			}
		})
	}
}
