package e2e

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/testbed/fakellm"
)

func TestLLMVulnerable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(fakellm.New(fakellm.Options{}))
	defer srv.Close()
	rep := familyScan(t, srv.URL, "llm", "--llm-canary", fakellm.DefaultCanary)
	want := []string{
		"llm.excessive-agency POST /api/chat @ prompt [likely]",
		"llm.excessive-agency POST /v1/chat/completions @ prompt [likely]",
		"llm.jailbreak POST /api/chat @ prompt [likely]",
		"llm.jailbreak POST /v1/chat/completions @ prompt [likely]",
		"llm.markdown-exfiltration POST /api/chat @ prompt [confirmed]",
		"llm.markdown-exfiltration POST /v1/chat/completions @ prompt [confirmed]",
		"llm.prompt-injection POST /api/chat @ prompt [confirmed]",
		"llm.prompt-injection POST /v1/chat/completions @ prompt [confirmed]",
		"llm.system-prompt-leak POST /api/chat @ prompt [confirmed]",
		"llm.system-prompt-leak POST /v1/chat/completions @ prompt [confirmed]",
		"llm.unsafe-output POST /api/chat @ prompt [likely]",
	}
	if got := findingKeys(rep); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("findings =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, f := range rep.Findings {
		if f.Remediation == "" || len(f.Evidence) == 0 {
			t.Errorf("%s: remediation or evidence missing", f.CheckID)
		}
	}
}

func TestLLMHardened(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(fakellm.New(fakellm.Options{Hardened: true}))
	defer srv.Close()
	rep := familyScan(t, srv.URL, "llm", "--llm-canary", fakellm.DefaultCanary)
	for _, k := range findingKeys(rep) {
		t.Errorf("unexpected finding on the hardened server: %s", k)
	}
	for _, c := range rep.Checks {
		if strings.HasPrefix(c.ID, "llm.") && c.Status != "ok" {
			t.Errorf("check %s ended %s (%s), want ok", c.ID, c.Status, c.Error)
		}
	}
}
