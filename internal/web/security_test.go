package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/netguard"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/store"
)

func TestCSRFRejected(t *testing.T) {
	e := newEnv(t, true)
	form := url.Values{"url": {"http://127.0.0.1:9/"}, "name": {"x"}}
	tests := []struct {
		name  string
		token string
		want  int
	}{
		{"no token", "", http.StatusForbidden},
		{"wrong token", "0000", http.StatusForbidden},
		{"token of another session", csrfFor("mln_other"), http.StatusForbidden},
		{"right token", e.csrf, http.StatusSeeOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			if tc.token != "" {
				f.Set(csrfField, tc.token)
			}
			rec := e.do("POST", "/targets", strings.NewReader(f.Encode()),
				map[string]string{"session": "", "Content-Type": "application/x-www-form-urlencoded"})
			if rec.Code != tc.want {
				t.Errorf("POST /targets with %s = %d, want %d (%s)", tc.name, rec.Code, tc.want, rec.Body.String())
			}
		})
	}
	ts, err := e.st.ListTargets(context.Background())
	if err != nil || len(ts) != 1 {
		t.Errorf("targets after the CSRF cases = %d (%v), want exactly the one with the right token", len(ts), err)
	}
	// Signed-out forms use a double-submit cookie.
	rec := e.do("POST", "/signin", strings.NewReader("email=admin%40example.com&password=correct+horse+battery"),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
	if rec.Code != http.StatusForbidden {
		t.Errorf("POST /signin without CSRF = %d, want 403", rec.Code)
	}
	rec = e.do("POST", "/signin", strings.NewReader("csrf_token=abcdefabcdefabcdefabcdefabcdefabcdef&email=admin%40example.com&password=correct+horse+battery"),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Cookie": preCSRFCookie + "=abcdefabcdefabcdefabcdefabcdefabcdef"})
	if rec.Code != http.StatusSeeOther {
		t.Errorf("POST /signin with matching CSRF cookie = %d, want 303 (%s)", rec.Code, rec.Body.String())
	}
}

func TestSecurityHeaders(t *testing.T) {
	e := newEnv(t, true)
	for _, path := range []string{"/targets", "/signin", "/api/targets", "/api/openapi.json", "/metrics", "/nope"} {
		rec := e.do("GET", path, nil, map[string]string{"session": "", "bearer": ""})
		h := rec.Header()
		want := map[string]string{
			"Content-Security-Policy": contentSecurityPolicy,
			"X-Content-Type-Options":  "nosniff",
			"X-Frame-Options":         "DENY",
			"Referrer-Policy":         "no-referrer",
		}
		for k, v := range want {
			if h.Get(k) != v {
				t.Errorf("GET %s %s = %q, want %q", path, k, h.Get(k), v)
			}
		}
		if h.Get("Server") != "" {
			t.Errorf("GET %s Server = %q, want none", path, h.Get("Server"))
		}
	}
	if !strings.Contains(contentSecurityPolicy, "default-src 'self'") || strings.Contains(contentSecurityPolicy, "unsafe-inline") {
		t.Errorf("CSP %q must keep default-src 'self' and never allow inline code", contentSecurityPolicy)
	}
}

// TestHostileFindingEscaped stores a report whose every target-controlled
// string is markup, and checks that no page passes it through raw.
func TestHostileFindingEscaped(t *testing.T) {
	e := newEnv(t, true)
	ctx := context.Background()
	const evil = `<script>alert(1)</script><img src=x onerror=alert(2)>`
	tg := &store.Target{Name: "api " + evil, URL: "http://127.0.0.1:1"}
	if err := e.st.CreateTarget(ctx, tg); err != nil {
		t.Fatal(err)
	}
	sc := &store.Scan{TargetID: tg.ID, RequestedBy: evil}
	if err := e.st.CreateScan(ctx, sc); err != nil {
		t.Fatal(err)
	}
	f := scan.Finding{
		CheckID: "misconfig.verbose-errors", Title: "Stack trace " + evil, Severity: scan.High, Confidence: scan.Confirmed,
		Operation: "GET /users/" + evil, Location: evil, Description: "The body said " + evil, Remediation: evil,
		Fingerprint: scan.Fingerprint("misconfig.verbose-errors", tg.URL, "GET /x", ""),
		Evidence: []scan.Evidence{{Note: evil, Matched: evil, Exchange: scan.Exchange{
			Request:  scan.RecordedRequest{Method: "GET", URL: tg.URL + "/?q=" + evil, Header: http.Header{"X-Evil": {evil}}},
			Response: scan.RecordedResponse{Status: 500, Header: http.Header{"Content-Type": {"text/html"}}, Body: evil},
			Curl:     "curl '" + evil + "'",
		}}},
	}
	rep := &scan.Report{Target: tg.URL, Findings: []scan.Finding{f}, Score: scan.Score{Overall: 40, Grade: "F"}}
	if err := e.st.SaveReport(ctx, sc.ID, rep); err != nil {
		t.Fatal(err)
	}
	if err := e.st.UpdateScanStatus(ctx, sc.ID, store.StatusDone, evil); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/targets", "/targets/" + itoa(tg.ID), "/scans/" + itoa(sc.ID), "/targets/" + itoa(tg.ID) + "/findings/" + f.Fingerprint} {
		rec := e.page(path)
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s = %d, want 200", path, rec.Code)
		}
		body := rec.Body.String()
		for _, raw := range []string{"<script>alert", "<img src=x"} {
			if strings.Contains(body, raw) {
				t.Errorf("GET %s contains raw %q: target text was not escaped", path, raw)
			}
		}
		if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("GET %s does not show the hostile text escaped", path)
		}
	}
}

func TestSSRFGuard(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name    string
		url     string
		resolve []string
		allow   bool
		wantErr bool
	}{
		{"public name", "https://api.example.com", []string{"93.184.216.34"}, false, false},
		{"public literal", "http://93.184.216.34:8080/v1", nil, false, false},
		{"loopback literal", "http://127.0.0.1:8080", nil, false, true},
		{"loopback v6", "http://[::1]/", nil, false, true},
		{"private literal", "http://10.0.0.5/", nil, false, true},
		{"cloud metadata", "http://169.254.169.254/latest/meta-data/", nil, false, true},
		{"v4-mapped loopback", "http://[::ffff:127.0.0.1]/", nil, false, true},
		{"carrier-grade NAT metadata", "http://100.100.100.200/", nil, false, true},
		{"name resolving private", "https://internal.example.com", []string{"192.168.1.10"}, false, true},
		{"name with one private address among public ones", "https://mixed.example.com", []string{"93.184.216.34", "10.1.2.3"}, false, true},
		{"unspecified", "http://0.0.0.0/", nil, false, true},
		{"not http", "file:///etc/passwd", nil, false, true},
		{"credentials in URL", "http://user:pw@93.184.216.34/", nil, false, true},
		{"loopback allowed by flag", "http://127.0.0.1:8080", nil, true, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &Server{private: tc.allow, lookup: fixedLookup(tc.resolve...)}
			_, err := s.checkURL(ctx, "target", tc.url)
			if (err != nil) != tc.wantErr {
				t.Errorf("checkURL(%q) error = %v, want error %v", tc.url, err, tc.wantErr)
			}
		})
	}

	// Through the API, for targets, specs and webhooks alike.
	e := newEnv(t, false)
	e.srv.lookup = fixedLookup("10.0.0.7")
	for _, tc := range []struct{ method, path, body string }{
		{"POST", "/api/targets", `{"url":"http://127.0.0.1:8080"}`},
		{"POST", "/api/targets", `{"url":"http://intranet.example.com"}`},
	} {
		if rec := e.api(tc.method, tc.path, tc.body); rec.Code != http.StatusForbidden || !strings.Contains(rec.Body.String(), "allow-private-targets") {
			t.Errorf("%s %s %s = %d %s, want 403 naming --allow-private-targets", tc.method, tc.path, tc.body, rec.Code, rec.Body.String())
		}
	}
	e.srv.lookup = fixedLookup("93.184.216.34")
	rec := e.api("POST", "/api/targets", `{"url":"https://api.example.com","spec":"/etc/passwd"}`)
	if rec.Code != http.StatusBadRequest {
		t.Errorf("POST target with a file path as spec = %d, want 400 (%s)", rec.Code, rec.Body.String())
	}
	rec = e.api("POST", "/api/targets", `{"url":"https://api.example.com"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST public target = %d, want 201 (%s)", rec.Code, rec.Body.String())
	}
	rec = e.api("PUT", "/api/targets/1/webhook", `{"url":"http://169.254.169.254/hook"}`)
	if rec.Code != http.StatusForbidden {
		t.Errorf("PUT webhook to metadata address = %d, want 403", rec.Code)
	}

	// The dialer refuses an internal address even after a name check passed.
	s := &Server{}
	for addr, wantErr := range map[string]bool{"127.0.0.1:80": true, "[fd00::1]:443": true, "169.254.169.254:80": true, "93.184.216.34:443": false} {
		if err := s.guardDial("tcp", addr, nil); (err != nil) != wantErr {
			t.Errorf("guardDial(%s) = %v, want error %v", addr, err, wantErr)
		}
	}
	if got := netguard.Blocked(netip.MustParseAddr("8.8.8.8")); got != "" {
		t.Errorf("Blocked(8.8.8.8) = %q, want allowed", got)
	}
}

func TestActiveScanNeedsVerification(t *testing.T) {
	e := newEnv(t, true)
	var served string // what the target serves at the verification path
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == VerificationPath && served != "" {
			_, _ = w.Write([]byte("# merlon\n" + served + "\n"))
			return
		}
		http.NotFound(w, r)
	}))
	defer target.Close()
	rec := e.api("POST", "/api/targets", `{"name":"mine","url":"`+target.URL+`"}`)
	if rec.Code != http.StatusCreated {
		t.Fatalf("create target = %d %s", rec.Code, rec.Body.String())
	}
	tg, err := e.st.GetTargetByURL(context.Background(), target.URL)
	if err != nil {
		t.Fatal(err)
	}
	host := strings.TrimPrefix(target.URL, "http://")
	tok := verificationToken(tg)
	if !strings.Contains(rec.Body.String(), tok) {
		t.Errorf("target JSON does not carry its verification token %q", tok)
	}

	steps := []struct {
		name   string
		serve  string
		body   string
		want   int
		marker string
	}{
		{"active without confirmation", tok, `{"targetId":1,"mode":"active"}`, http.StatusBadRequest, "type the target's host"},
		{"active, wrong host typed", tok, `{"targetId":1,"mode":"active","confirm":"example.com"}`, http.StatusBadRequest, "type the target's host"},
		{"active, token not served", "", `{"targetId":1,"mode":"active","confirm":"` + host + `"}`, http.StatusForbidden, "did not prove control"},
		{"active, another token served", "merlon-verification=0123", `{"targetId":1,"mode":"active","confirm":"` + host + `"}`, http.StatusForbidden, "does not contain"},
		{"active, verified", tok, `{"targetId":1,"mode":"active","confirm":"` + host + `"}`, http.StatusAccepted, `"active": true`},
	}
	for _, st := range steps {
		served = st.serve
		rec := e.api("POST", "/api/scans", st.body)
		if rec.Code != st.want || !strings.Contains(rec.Body.String(), st.marker) {
			t.Errorf("%s: POST /api/scans = %d %s, want %d with %q", st.name, rec.Code, rec.Body.String(), st.want, st.marker)
		}
	}
	served = tok
	if rec := e.api("POST", "/api/targets/1/verify", ""); rec.Code != http.StatusOK {
		t.Errorf("verify with the token served = %d %s, want 200", rec.Code, rec.Body.String())
	}
	served = ""
	if rec := e.post("/targets/1/verify", nil); rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), tok) {
		t.Errorf("verify page without the token = %d, want 200 showing the token to serve", rec.Code)
	}
	scans, err := e.st.ListScans(context.Background(), tg.ID, store.Page{})
	if err != nil || len(scans) != 1 || !scans[0].Active {
		t.Errorf("scans after the steps = %+v (%v), want exactly one active scan", scans, err)
	}
	e.runner.wg.Wait()
}

// TestVerificationFetchRefusesRedirect checks that a redirect elsewhere does
// not count as proof.
func TestVerificationFetchRefusesRedirect(t *testing.T) {
	e := newEnv(t, true)
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("anything")) }))
	defer other.Close()
	target := httptest.NewServer(http.RedirectHandler(other.URL+VerificationPath, http.StatusFound))
	defer target.Close()
	tg := &store.Target{URL: target.URL}
	if err := e.st.CreateTarget(context.Background(), tg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := e.srv.verifyTarget(ctx, tg)
	if !errors.Is(err, err) || err == nil || !strings.Contains(err.Error(), "302") {
		t.Errorf("verifyTarget through a redirect = %v, want a refusal naming 302", err)
	}
}
