package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/store"
)

// TestFindingPageRendersRemediation: the finding page shows remediation
// Markdown as paragraphs, code blocks and inline code, never as raw
// Markdown, and markup inside it stays text.
func TestFindingPageRendersRemediation(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	tg := &store.Target{Name: "api", URL: "http://127.0.0.1:1"}
	if err := e.st.CreateTarget(ctx, tg); err != nil {
		t.Fatal(err)
	}
	sc := &store.Scan{TargetID: tg.ID}
	if err := e.st.CreateScan(ctx, sc); err != nil {
		t.Fatal(err)
	}
	f := scan.Finding{
		CheckID: "property.mass-assignment", Title: "Mass assignment", Severity: scan.High, Confidence: scan.Confirmed,
		Operation: "PATCH /users/{id}", Location: "is_admin",
		Remediation: "Allowlist the fields with `ALLOWED`, **never** `<script>x</script>` raw:\n\n" +
			"```python\nbody = {k: v for k, v in data.items() if k in ALLOWED}\n```\n\n- one\n- two",
		Fingerprint: scan.Fingerprint("property.mass-assignment", tg.URL, "PATCH /users/{id}", "is_admin"),
	}
	rep := &scan.Report{Target: tg.URL, Findings: []scan.Finding{f}, Score: scan.Score{Overall: 70, Grade: "C"}}
	if err := e.st.SaveReport(ctx, sc.ID, rep); err != nil {
		t.Fatal(err)
	}
	if err := e.st.UpdateScanStatus(ctx, sc.ID, store.StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	rec := e.page("/targets/" + itoa(tg.ID) + "/findings/" + f.Fingerprint)
	if rec.Code != http.StatusOK {
		t.Fatalf("finding page = %d", rec.Code)
	}
	body := rec.Body.String()
	for _, want := range []string{
		"<code>ALLOWED</code>",
		"<strong>never</strong>",
		"<pre><code>body = {k: v for k, v in data.items() if k in ALLOWED}</code></pre>",
		"<li>one</li><li>two</li>",
		"&lt;script&gt;x&lt;/script&gt;",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("finding page lacks %q", want)
		}
	}
	for _, raw := range []string{"```", "<script>x"} {
		if strings.Contains(body, raw) {
			t.Errorf("finding page contains raw %q", raw)
		}
	}
}

// TestFindingPageExpiredAcceptance: an accepted risk past its expiry is
// shown open, with the date the acceptance lapsed.
func TestFindingPageExpiredAcceptance(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	tg := &store.Target{Name: "api", URL: "http://127.0.0.1:1"}
	if err := e.st.CreateTarget(ctx, tg); err != nil {
		t.Fatal(err)
	}
	sc := &store.Scan{TargetID: tg.ID}
	if err := e.st.CreateScan(ctx, sc); err != nil {
		t.Fatal(err)
	}
	f := scan.Finding{CheckID: "misconfig.cors", Title: "CORS", Severity: scan.High, Confidence: scan.Confirmed,
		Fingerprint: scan.Fingerprint("misconfig.cors", tg.URL, "", "")}
	if err := e.st.SaveReport(ctx, sc.ID, &scan.Report{Target: tg.URL, Findings: []scan.Finding{f}}); err != nil {
		t.Fatal(err)
	}
	if err := e.st.UpdateScanStatus(ctx, sc.ID, store.StatusDone, ""); err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-48 * time.Hour)
	if err := e.st.SetFindingStatus(ctx, &store.FindingStatus{TargetID: tg.ID, Fingerprint: f.Fingerprint,
		State: store.StateAccepted, Reason: "until the migration", ExpiresAt: &past, UpdatedBy: "test"}); err != nil {
		t.Fatal(err)
	}
	body := e.page("/targets/" + itoa(tg.ID) + "/findings/" + f.Fingerprint).Body.String()
	if !strings.Contains(body, `id="finding-state">open`) || !strings.Contains(body, `id="acceptance-expired"`) {
		t.Errorf("finding page does not show the lapsed acceptance as open with its expiry")
	}
	if strings.Contains(body, "<p>Accepted until") {
		t.Errorf("finding page still says the risk is accepted")
	}
}
