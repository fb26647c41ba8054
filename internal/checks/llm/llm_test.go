package llm_test

import (
	"bytes"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/checks/llm"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/testbed/fakellm"
)

var fast = llm.Config{Delay: time.Millisecond, MaxTime: 20 * time.Second}

func TestChecksOnFakeLLM(t *testing.T) {
	tests := []struct {
		check scan.Check
		want  map[string]scan.Confidence // operation -> confidence on the vulnerable server
	}{
		{llm.SystemPromptLeak{Config: fast, Canary: fakellm.DefaultCanary}, map[string]scan.Confidence{
			"POST /v1/chat/completions": scan.Confirmed, "POST /api/chat": scan.Confirmed}},
		{llm.SystemPromptLeak{Config: fast}, map[string]scan.Confidence{
			"POST /v1/chat/completions": scan.Likely, "POST /api/chat": scan.Likely}},
		{llm.PromptInjection{Config: fast}, map[string]scan.Confidence{
			"POST /v1/chat/completions": scan.Confirmed, "POST /api/chat": scan.Confirmed}},
		{llm.Jailbreak{Config: fast}, map[string]scan.Confidence{
			"POST /v1/chat/completions": scan.Likely, "POST /api/chat": scan.Likely}},
		{llm.MarkdownExfiltration{Config: fast}, map[string]scan.Confidence{
			"POST /v1/chat/completions": scan.Confirmed, "POST /api/chat": scan.Confirmed}},
		{llm.ExcessiveAgency{Config: fast}, map[string]scan.Confidence{
			"POST /v1/chat/completions": scan.Likely, "POST /api/chat": scan.Likely}},
		{llm.UnsafeOutput{Config: fast}, map[string]scan.Confidence{"POST /api/chat": scan.Likely}},
	}
	for _, tt := range tests {
		name := tt.check.Meta().ID
		t.Run(name, func(t *testing.T) {
			fs := checktest.Run(t, tt.check, fakellm.New(fakellm.Options{}), checktest.WithActive())
			got := map[string]scan.Confidence{}
			for _, f := range fs {
				got[f.Operation] = f.Confidence
			}
			if len(got) != len(tt.want) {
				t.Errorf("%s findings on the vulnerable server = %v, want %v", name, got, tt.want)
			}
			for op, c := range tt.want {
				if g, ok := got[op]; !ok || g != c {
					t.Errorf("%s on %s = %v (found %v), want %v", name, op, g, ok, c)
				}
			}
			checktest.None(t, checktest.Run(t, tt.check, fakellm.New(fakellm.Options{Hardened: true}), checktest.WithActive()))
		})
	}
}

func TestStreamingReplyParsed(t *testing.T) {
	// A server that always streams, as some chat APIs do.
	fake := fakellm.New(fakellm.Options{})
	streaming := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		r2 := r.Clone(r.Context())
		var body []byte
		buf := make([]byte, 4096)
		for {
			n, err := r.Body.Read(buf)
			body = append(body, buf[:n]...)
			if err != nil {
				break
			}
		}
		body = append([]byte(`{"stream":true,`), body[1:]...)
		r2.Body = io.NopCloser(bytes.NewReader(body))
		r2.ContentLength = int64(len(body))
		fake.ServeHTTP(w, r2)
	})
	fs := checktest.Run(t, llm.PromptInjection{Config: fast}, streaming, checktest.WithActive())
	if len(fs) != 1 || fs[0].Confidence != scan.Confirmed {
		t.Errorf("findings on a streaming server = %v, want one confirmed", checktest.Locations(fs))
	}
}

func TestPassiveSkips(t *testing.T) {
	var sent int
	fs := checktest.Run(t, llm.PromptInjection{Config: fast}, fakellm.New(fakellm.Options{}),
		checktest.WithObserver(func(*scan.Exchange) { sent++ }))
	if len(fs) != 0 || sent != 0 {
		t.Errorf("passive run: %d findings, %d requests; want none of either", len(fs), sent)
	}
}

func TestTimeCap(t *testing.T) {
	start := time.Now()
	c := llm.Jailbreak{Config: llm.Config{Delay: time.Second, MaxTime: 1500 * time.Millisecond}}
	checktest.Run(t, c, fakellm.New(fakellm.Options{Hardened: true}), checktest.WithActive())
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("run took %v with a 1.5s cap", d)
	}
}
