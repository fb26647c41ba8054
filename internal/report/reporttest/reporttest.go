// Package reporttest holds what every report format's tests share: one
// canonical report, a report of a scan that reached nothing, and golden
// file comparison. Every renderer renders the same fixture, so a field that
// one format forgets shows up as a difference between them.
package reporttest

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/score"
)

// Hostile strings the fixture plants in target-controlled fields. Tests
// assert that no renderer lets them through raw.
const (
	// HostileANSI clears the screen, colours text and retitles the window.
	HostileANSI = "\x1b[2J\x1b[31mOWNED\x1b[0m\x1b]0;pwned\x07"
	// HostileHTML would run in a browser that rendered it unescaped.
	HostileHTML = `<script>alert("xss")</script><img src=x onerror=alert(1)>`
	// HostileBytes is invalid UTF-8, a C1 control (8-bit CSI), a carriage
	// return that would overwrite the line, and a bidi override.
	HostileBytes = "\xff\xfe\u009b2J\rfake\u202eesrever"
)

var (
	started  = time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC)
	finished = started.Add(87*time.Second + 500*time.Millisecond)
)

// Target is the fixture's base URL.
const Target = "https://api.shop.test/v1"

// Identities the fixture's evidence names as senders, beside
// scan.Anonymous. Evidence sent with only the global -H headers names none.
const (
	Alice = "alice"
	Bob   = "bob"
)

// Fixture returns the canonical report: six findings over every severity,
// confidence and several categories, evidence with headers, bodies, notes
// and matches (some hostile, see the Hostile constants) sent as Alice, Bob,
// scan.Anonymous or with only the global headers, a detected stack,
// partial coverage with transport errors, the operations each check tested,
// an errored, a skipped and a cancelled check, and warnings. Its score is
// computed by the rubric. Each call returns a new report that the caller
// may modify.
func Fixture() *scan.Report {
	r := base()
	r.Findings = []scan.Finding{
		finding("misconfig.security-headers", "Security headers missing", scan.Low, scan.Confirmed, 693,
			scan.API8Misconfiguration, "", "Strict-Transport-Security",
			"Responses lack Strict-Transport-Security, so a client that once used plain HTTP can be downgraded.",
			"Send Strict-Transport-Security: max-age=31536000; includeSubDomains on every response.",
			scan.Evidence{
				Exchange: exchange("GET", "/v1/products", nil, "", 200,
					http.Header{"Content-Type": {"application/json"}, "Server": {"gunicorn/21.2"}},
					`[{"id":1,"name":"Lamp"}]`),
				Note: "no Strict-Transport-Security header",
			}),
		finding("property.mass-assignment", "Mass assignment of isAdmin", scan.Critical, scan.Possible, 915,
			scan.API3PropertyAuthorization, "PATCH /users/{id}", "body property isAdmin",
			"The operation accepts isAdmin in its body although the schema marks it read-only; the server answered 200 but the value could not be read back.",
			"Bind request bodies to an explicit allow-list of writable properties.",
			scan.Evidence{
				Exchange: exchange("PATCH", "/v1/users/41", http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer [REDACTED]"}},
					`{"isAdmin":true}`, 200, http.Header{"Content-Type": {"application/json"}}, `{"id":41,"name":"eve"}`),
				Note: "write accepted",
			}),
		finding("authz.bola", "Another user's order is readable", scan.High, scan.Confirmed, 639,
			scan.API1BOLA, "GET /orders/{id}", "path parameter id",
			"Identity bob read order 7, which belongs to alice.",
			"Check that the caller owns the object on every request that names one by ID.",
			scan.Evidence{
				Exchange: sentAs(Alice, exchange("GET", "/v1/orders/7", http.Header{"Authorization": {"Bearer [REDACTED:alice]"}}, "",
					200, http.Header{"Content-Type": {"application/json"}}, `{"id":7,"owner":"alice","total":"129.00"}`)),
				Note: "baseline: the owner reads her order",
			},
			scan.Evidence{
				Exchange: sentAs(Bob, exchange("GET", "/v1/orders/7", http.Header{"Authorization": {"Bearer [REDACTED:bob]"}}, "",
					200, http.Header{"Content-Type": {"application/json"}}, `{"id":7,"owner":"alice","total":"129.00"}`)),
				Note:    "another identity reads the same order",
				Matched: `"owner":"alice"`,
			}),
		finding("exposure.verbose-errors", "Stack trace in error response", scan.Medium, scan.Likely, 209,
			scan.API8Misconfiguration, "GET /products/{id}", "path parameter id",
			"A malformed ID makes the server answer with a stack trace naming files and the database driver.",
			"Return a generic error body and log the details on the server.",
			scan.Evidence{
				Exchange: sentAs(scan.Anonymous, exchange("GET", "/v1/products/%27", nil, "", 500,
					http.Header{"Content-Type": {"text/html"}, "X-Debug": {HostileANSI}},
					"Traceback (most recent call last):\n  File \"/app/shop/views.py\", line 42, in product\n"+
						"    row = db.execute(q)\npsycopg2.errors.SyntaxError: "+HostileHTML+"\n"+
						HostileANSI+"\n"+HostileBytes+"\nline 7\nline 8\nline 9\nline 10")),
				Matched: "Traceback (most recent call last):" + HostileANSI,
			}),
		finding("misconfig.cors", "CORS reflects any origin", scan.Low, scan.Possible, 942,
			scan.API8Misconfiguration, "GET /products", "Access-Control-Allow-Origin",
			"The Origin header is echoed back, but credentials are not allowed, so only public data is exposed.",
			"Allow only the origins that need access.",
			scan.Evidence{
				Exchange: exchange("GET", "/v1/products", http.Header{"Origin": {"https://evil.test"}}, "",
					200, http.Header{"Access-Control-Allow-Origin": {"https://evil.test"}}, `[]`),
				Matched: "Access-Control-Allow-Origin: https://evil.test",
			}),
		finding("inventory.deprecated", "Deprecated operation still served", scan.Info, scan.Confirmed, 1059,
			scan.API9Inventory, "GET /legacy/"+HostileBytes, "",
			"The spec marks the operation deprecated "+HostileANSI+" but it still answers 200.",
			"Retire deprecated operations on a published date.",
		),
	}
	r.Score = score.Compute(r.Findings, r.Coverage)
	return r
}

// Unreached returns the report of a scan that knew 14 operations and
// reached none: every request failed at the transport level. It has no
// findings and must be ungraded; a renderer that shows it as clean is wrong.
func Unreached() *scan.Report {
	r := base()
	r.Coverage = scan.Coverage{Operations: 14, Requests: 28, TransportError: 28}
	r.Findings = []scan.Finding{}
	r.Checks = []scan.CheckResult{{ID: "authz.bola", Status: "ok"}, {ID: "misconfig.cors", Status: "ok"}}
	r.Warnings = []string{"dial tcp 127.0.0.1:9: connect: connection refused"}
	r.Score = score.Compute(r.Findings, r.Coverage)
	return r
}

func base() *scan.Report {
	return &scan.Report{
		SchemaVersion: scan.SchemaVersion,
		Tool:          scan.Tool{Name: "merlon", Version: "0.0.0-test"},
		Target:        Target,
		Spec: &scan.SpecInfo{
			Source:  "testdata/shop.yaml",
			Version: "3.0.3",
			Title:   "Shop API",
			Servers: []string{"https://api.shop.test/v1"},
		},
		Profile:    scan.Standard,
		Active:     true,
		StartedAt:  started,
		FinishedAt: finished,
		Stack: scan.Stack{
			Framework: "flask",
			Datastore: "postgresql",
			Server:    "gunicorn/21.2",
			Signals:   []string{"Server: gunicorn/21.2", "psycopg2 in an error body"},
		},
		Coverage: scan.Coverage{Operations: 14, Reached: 12, Succeeded: 9, Requests: 318, TransportError: 2},
		Checks: []scan.CheckResult{
			{ID: "authz.bola", Findings: 1, Status: "ok", Operations: []string{"GET /orders/{id}", "GET /users/{id}"}},
			{ID: "exposure.verbose-errors", Findings: 1, Status: "ok", Operations: []string{"GET /orders/{id}", "GET /products/{id}"}},
			{ID: "inventory.deprecated", Findings: 1, Status: "ok", Operations: []string{"GET /legacy/" + HostileBytes, "GET /products"}},
			{ID: "misconfig.cors", Findings: 1, Status: "ok", Operations: []string{"GET /orders/{id}", "GET /products"}},
			{ID: "misconfig.security-headers", Findings: 1, Status: "ok", Operations: []string{"GET /products"}},
			{ID: "property.mass-assignment", Findings: 1, Status: "ok", Operations: []string{"PATCH /users/{id}", "POST /orders"}},
			{ID: "input.sqli", Status: "error", Error: "parse response of GET /v1/search: invalid character '" + HostileANSI + "'",
				Operations: []string{"GET /search"}},
			{ID: "ssrf.url-param", Status: "skipped", Reason: "no operation takes a URL"},
			{ID: "resource.rate-limit", Status: "cancelled"},
		},
		Warnings: []string{
			"spec server https://staging.shop.test/v1 differs from the target; using the target",
			"2 requests failed: read tcp: connection reset by peer",
		},
	}
}

func finding(id, title string, sev scan.Severity, conf scan.Confidence, cwe int, cat scan.Category,
	op, loc, desc, fix string, ev ...scan.Evidence) scan.Finding {
	return scan.Finding{
		CheckID:     id,
		Title:       title,
		Severity:    sev,
		Confidence:  conf,
		CWE:         cwe,
		Category:    cat,
		Operation:   op,
		Location:    loc,
		Description: desc,
		Remediation: fix,
		Evidence:    ev,
		Fingerprint: scan.Fingerprint(id, Target, op, loc),
	}
}

func exchange(method, path string, reqHeader http.Header, reqBody string, status int, respHeader http.Header, respBody string) scan.Exchange {
	url := "https://api.shop.test" + path
	curl := "curl -X " + method + " '" + url + "'"
	for _, k := range slices.Sorted(maps.Keys(reqHeader)) {
		for _, v := range reqHeader[k] {
			curl += " -H '" + k + ": " + v + "'"
		}
	}
	if reqBody != "" {
		curl += " --data-raw '" + reqBody + "'"
	}
	return scan.Exchange{
		Request: scan.RecordedRequest{Method: method, URL: url, Header: reqHeader, Body: reqBody},
		Response: scan.RecordedResponse{
			Status:   status,
			Header:   respHeader,
			Body:     respBody,
			Duration: 42 * time.Millisecond,
		},
		Curl: curl,
	}
}

// sentAs records id as the identity that sent ex's request.
func sentAs(id string, ex scan.Exchange) scan.Exchange {
	ex.Request.Identity = id
	return ex
}

// Golden compares got with the golden file at path. With update set it
// writes got there instead, so a reviewed change is one `go test -update`
// away. On a mismatch it reports the first differing line.
func Golden(t testing.TB, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatalf("update golden: %v", err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update to create it): %v", err)
	}
	if bytes.Equal(got, want) {
		return
	}
	t.Errorf("output differs from %s (run go test -update if the change is intended):\n%s", path, firstDiff(got, want))
}

func firstDiff(got, want []byte) string {
	g := strings.Split(string(got), "\n")
	w := strings.Split(string(want), "\n")
	for i := 0; i < max(len(g), len(w)); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl || i >= len(g) || i >= len(w) {
			return fmt.Sprintf("line %d:\n got  %q\n want %q", i+1, gl, wl)
		}
	}
	return "no line differs (line endings?)"
}
