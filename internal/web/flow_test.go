package web

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/demo"
	"github.com/merlonsec/merlon/internal/store"
)

// TestStatusPersistsAcrossScans scans the demo API twice and checks that a
// status set after the first scan holds on the second, and that the pages
// show findings, the chart and the diff.
func TestStatusPersistsAcrossScans(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	api := httptest.NewServer(demo.New().Handler())
	defer api.Close()

	// Start the first scan from the page form, adding the target.
	rec := e.post("/scans", url.Values{"url": {api.URL}, "spec": {api.URL + "/openapi.json"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("POST /scans = %d %s, want 303", rec.Code, rec.Body.String())
	}
	id1, _ := strconv.ParseInt(locationID(t, rec), 10, 64)
	if body := e.page("/scans/" + itoa(id1)).Body.String(); !strings.Contains(body, "scan-status") {
		t.Fatalf("scan page does not show the scan's status")
	}
	sc1 := e.waitScan(id1)
	if sc1.Status != store.StatusDone || sc1.Findings == 0 {
		t.Fatalf("first scan = %s with %d findings (%s), want done with findings", sc1.Status, sc1.Findings, sc1.Message)
	}
	rows, err := e.st.ListFindings(ctx, id1)
	if err != nil || len(rows) == 0 {
		t.Fatalf("ListFindings = %v, %v", rows, err)
	}
	fp := rows[0].Fingerprint
	tid := itoa(sc1.TargetID)

	// The scan page, done, has no refresh and offers the exports.
	body := e.page("/scans/" + itoa(id1)).Body.String()
	if strings.Contains(body, `http-equiv="refresh"`) || !strings.Contains(body, "/export/sarif") {
		t.Errorf("finished scan page still refreshes or lacks export links")
	}
	for _, f := range exportFormats {
		rec := e.page("/scans/" + itoa(id1) + "/export/" + f)
		if rec.Code != http.StatusOK || rec.Body.Len() == 0 || !strings.Contains(rec.Header().Get("Content-Disposition"), "merlon-scan-") {
			t.Errorf("export %s = %d (%d bytes, %q), want 200 attachment", f, rec.Code, rec.Body.Len(), rec.Header().Get("Content-Disposition"))
		}
	}

	// Accepting a risk needs a reason and an expiry.
	if rec := e.post("/targets/"+tid+"/findings/"+fp+"/status", url.Values{"state": {"accepted"}}); rec.Code != http.StatusBadRequest {
		t.Errorf("accept without reason = %d, want 400", rec.Code)
	}
	rec = e.post("/targets/"+tid+"/findings/"+fp+"/status", url.Values{"state": {"accepted"}, "reason": {"internal only"}, "expires": {"2099-12-31"}})
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("set status = %d %s, want 303", rec.Code, rec.Body.String())
	}

	// Second scan, through the API.
	rec = e.api("POST", "/api/scans", `{"targetId":`+tid+`}`)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("POST /api/scans = %d %s", rec.Code, rec.Body.String())
	}
	var created scanJSON
	if err := json.Unmarshal(rec.Body.Bytes(), &created); err != nil {
		t.Fatal(err)
	}
	sc2 := e.waitScan(created.ID)
	if sc2.Status != store.StatusDone {
		t.Fatalf("second scan = %s (%s), want done", sc2.Status, sc2.Message)
	}
	rows2, err := e.st.ListFindings(ctx, sc2.ID)
	if err != nil {
		t.Fatal(err)
	}
	var state store.FindingState
	for _, r := range rows2 {
		if r.Fingerprint == fp {
			state = r.State
		}
	}
	if state != store.StateAccepted {
		t.Errorf("finding %s on the second scan is %q, want accepted (the status must follow the fingerprint)", fp, state)
	}
	var apiRows []findingRowJSON
	rec = e.api("GET", "/api/scans/"+itoa(sc2.ID)+"/findings", "")
	if err := json.Unmarshal(rec.Body.Bytes(), &apiRows); err != nil {
		t.Fatalf("GET findings = %d %s", rec.Code, rec.Body.String())
	}
	if len(apiRows) != len(rows2) {
		t.Errorf("API lists %d findings, store %d", len(apiRows), len(rows2))
	}

	// The target page shows the chart with two points, the findings with
	// their status, and the diff section.
	body = e.page("/targets/" + tid).Body.String()
	for _, want := range []string{`id="score-chart"`, "Since the previous scan", "accepted risk", "/scans/" + itoa(sc2.ID)} {
		if !strings.Contains(body, want) {
			t.Errorf("target page lacks %q", want)
		}
	}
	if n := strings.Count(body, "<circle"); n != 2 {
		t.Errorf("score chart has %d points, want 2", n)
	}
	body = e.page("/targets/" + tid + "/findings/" + fp).Body.String()
	if !strings.Contains(body, "internal only") || !strings.Contains(body, `id="finding-state">accepted risk`) {
		t.Errorf("finding page does not show the accepted status and its reason")
	}
	rec = e.api("GET", "/api/scans/"+itoa(sc2.ID)+"/diff", "")
	var d struct {
		PreviousScanID int64             `json:"previousScanId"`
		New            []json.RawMessage `json:"new"`
		Unchanged      []json.RawMessage `json:"unchanged"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &d); err != nil || d.PreviousScanID != id1 || len(d.Unchanged) == 0 {
		t.Errorf("GET diff = %d %s, want previous %d with unchanged findings", rec.Code, rec.Body.String(), id1)
	}
	rec = e.api("GET", "/api/targets/"+tid+"/findings/"+fp, "")
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), `"state": "accepted"`) || !strings.Contains(rec.Body.String(), `"history"`) {
		t.Errorf("GET finding status = %d %s", rec.Code, rec.Body.String())
	}
}
