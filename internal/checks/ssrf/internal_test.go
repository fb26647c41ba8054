package ssrf_test

import (
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/callback"
	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/checks/ssrf"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/testbed/coverage"
)

// TestInternalAddresses: when the callback URL is one the target cannot
// reach (a public callback host, from a target with no way out), the
// internal-address payloads still prove the forgery: the listener's
// loopback address on an API that fetches anything, the metadata address
// on one that only refuses loopback hosts. The clean twin, which fetches
// only allowlisted hosts, gives nothing.
func TestInternalAddresses(t *testing.T) {
	uri := &scan.Schema{Type: "string", Format: "uri"}
	ops := checktest.WithOperations(
		checktest.Op("GET", "/fetch", scan.Parameter{Name: "url", In: "query", Required: true, Schema: uri}),
		checktest.Op("GET", "/avatar", scan.Parameter{Name: "image_url", In: "query", Required: true, Schema: uri}),
	)
	listen := func(t *testing.T) scan.Callbacks {
		t.Helper()
		cb, err := callback.Start(t.Context(), "127.0.0.1:0", "http://merlon-callback.invalid")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { cb.Close() })
		return cb
	}

	fs := checktest.Run(t, ssrf.RequestForgery{}, coverage.SSRFInternalVulnerable(), ops,
		checktest.WithActive(), checktest.WithCallbacks(listen(t)))
	got := map[string]scan.Finding{}
	for _, f := range fs {
		got[f.Operation+" "+f.Location] = f
	}
	tests := []struct {
		where, note, matched string
		conf                 scan.Confidence
	}{
		{"GET /fetch query:url", "loopback", "merlon-callback-", scan.Confirmed},
		{"GET /avatar query:image_url", "metadata", "ami-id", scan.Likely},
	}
	for _, tt := range tests {
		f, ok := got[tt.where]
		if !ok {
			t.Errorf("no finding on %s; have %v", tt.where, checktest.Locations(fs))
			continue
		}
		if f.Confidence != tt.conf {
			t.Errorf("%s confidence = %v, want %v", tt.where, f.Confidence, tt.conf)
		}
		last := f.Evidence[len(f.Evidence)-1]
		if !strings.Contains(last.Note, tt.note) || !strings.HasPrefix(last.Matched, tt.matched) {
			t.Errorf("%s evidence = %q matching %q, want a %s probe matching %q", tt.where, last.Note, last.Matched, tt.note, tt.matched)
		}
	}
	if len(fs) != len(tests) {
		t.Errorf("%d findings, want %d: %v", len(fs), len(tests), checktest.Locations(fs))
	}

	checktest.None(t, checktest.Run(t, ssrf.RequestForgery{}, coverage.SSRFInternalClean(), ops,
		checktest.WithActive(), checktest.WithCallbacks(listen(t))))
}
