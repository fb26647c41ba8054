package pipeline

import (
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/engine"
)

func TestMisbehaviour(t *testing.T) {
	lim := engine.Limits{Timeout: 3 * time.Second, MaxBodyBytes: 2 << 20, MaxHeaderBytes: 1 << 20, MaxRedirects: 5,
		MaxHeaderFields: 1000, MaxJSONDepth: 64}
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
		{name: "broken shapes", st: engine.Stats{ManyHeaders: 1, OffScopeRedirects: 2, InvalidJSON: 1, DeepJSON: 2, InvalidUTF8: 1}, want: []string{
			"the target sent 1 response with more than 1000 header fields",
			"the target redirected 2 requests to another origin; Merlon stays in scope and did not follow",
			"the target sent 1 response with a JSON content type and a body that is not JSON",
			"the target sent 2 JSON responses nested more than 64 levels deep; Merlon read no deeper",
			"the target sent 1 text or JSON response whose body is not valid UTF-8",
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

func TestLoginWarnings(t *testing.T) {
	if got := loginWarnings(nil); got != nil {
		t.Errorf("loginWarnings(nil) = %q, want nil", got)
	}
	got := loginWarnings([]engine.LoginFailure{{Identity: "alice", Count: 2, Last: "POST http://h/login answered 401: login failed"}})
	want := `identity "alice" could not log in again during the scan (2 failures; last: POST http://h/login answered 401: login failed); ` +
		"requests sent as it afterwards carried refused credentials, so checks acting as it may have missed findings"
	if len(got) != 1 || got[0] != want {
		t.Errorf("loginWarnings(alice×2) = %q, want [%q]", got, want)
	}
}
