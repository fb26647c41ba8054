package web

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestScheduleAndWebhookSettings(t *testing.T) {
	e := newEnv(t, true)
	now := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	e.srv.now = func() time.Time { return now }
	if rec := e.api("POST", "/api/targets", `{"url":"http://127.0.0.1:9"}`); rec.Code != 201 {
		t.Fatalf("create target = %d %s", rec.Code, rec.Body.String())
	}
	tests := []struct {
		name, body string
		want       int
		wantNext   string
	}{
		{"interval", `{"intervalSeconds":3600}`, 200, "2030-01-02T04:04:05Z"},
		{"cron with names", `{"cron":"30 6 * * mon-fri"}`, 200, "2030-01-02T06:30:00Z"},
		{"none", `{}`, 200, "null"},
		{"too short", `{"intervalSeconds":5}`, 400, ""},
		{"both", `{"intervalSeconds":3600,"cron":"@daily"}`, 400, ""},
		{"bad cron", `{"cron":"every day"}`, 400, ""},
		{"unknown field", `{"every":"day"}`, 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := e.api("PUT", "/api/targets/1/schedule", tc.body)
			if rec.Code != tc.want {
				t.Fatalf("PUT schedule %s = %d %s, want %d", tc.body, rec.Code, rec.Body.String(), tc.want)
			}
			if tc.wantNext != "" && !strings.Contains(rec.Body.String(), `"nextRunAt": `+quoteUnlessNull(tc.wantNext)) {
				t.Errorf("PUT schedule %s = %s, want nextRunAt %s", tc.body, rec.Body.String(), tc.wantNext)
			}
		})
	}

	e.srv.now = time.Now // sessions are checked against the clock too
	rec := e.api("PUT", "/api/targets/1/webhook", `{"url":"http://127.0.0.1:9/hook"}`)
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"secret": "mln_`) {
		t.Fatalf("PUT webhook = %d %s, want 200 with a generated secret", rec.Code, rec.Body.String())
	}
	tg, err := e.st.GetTarget(context.Background(), 1)
	if err != nil || tg.WebhookSecret == "" || tg.WebhookURL != "http://127.0.0.1:9/hook" {
		t.Fatalf("stored webhook = %q/%q (%v)", tg.WebhookURL, tg.WebhookSecret, err)
	}
	if rec := e.api("GET", "/api/targets/1/webhook", ""); strings.Contains(rec.Body.String(), tg.WebhookSecret) {
		t.Errorf("GET webhook leaks the secret: %s", rec.Body.String())
	}
	if rec := e.api("GET", "/api/targets/1", ""); strings.Contains(rec.Body.String(), tg.WebhookSecret) {
		t.Errorf("GET target leaks the webhook secret: %s", rec.Body.String())
	}
	if rec := e.page("/targets/1/deliveries"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "No delivery yet") {
		t.Errorf("deliveries page = %d, want 200 saying none yet", rec.Code)
	}
	if rec := e.api("GET", "/api/targets/1/deliveries", ""); rec.Code != 200 || strings.TrimSpace(rec.Body.String()) != "[]" {
		t.Errorf("GET deliveries = %d %s, want []", rec.Code, rec.Body.String())
	}
}

func quoteUnlessNull(s string) string {
	if s == "null" {
		return s
	}
	return `"` + s + `"`
}

func TestIdentitiesRefuseEnvironment(t *testing.T) {
	e := newEnv(t, true)
	body := `{"url":"http://127.0.0.1:9","identities":"identities:\n  - name: a\n    role: user\n    headers: {Authorization: \"Bearer ${HOME}\"}\n"}`
	rec := e.api("POST", "/api/targets", body)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), "not allowed on the server") {
		t.Errorf("identities with ${HOME} = %d %s, want 400", rec.Code, rec.Body.String())
	}
	ok := `{"url":"http://127.0.0.1:9","identities":"identities:\n  - name: a\n    role: user\n    headers: {Authorization: Bearer abc}\n"}`
	if rec := e.api("POST", "/api/targets", ok); rec.Code != 201 || strings.Contains(rec.Body.String(), "Bearer abc") {
		t.Errorf("identities with a literal header = %d %s, want 201 without the credential", rec.Code, rec.Body.String())
	}
}
