package text_test

import (
	"bytes"
	"errors"
	"flag"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/merlonsec/merlon/internal/report/reporttest"
	"github.com/merlonsec/merlon/internal/report/text"
	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/score"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func render(t *testing.T, r *text.Renderer, rep *scan.Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Render(&buf, rep); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return buf.String()
}

func TestGolden(t *testing.T) {
	tests := []struct {
		name   string
		r      text.Renderer
		report func() *scan.Report
	}{
		{"fixture", text.Renderer{}, reporttest.Fixture},
		{"fixture-color", text.Renderer{Color: true}, reporttest.Fixture},
		{"fixture-verbose", text.Renderer{Verbose: true}, reporttest.Fixture},
		{"unreached", text.Renderer{}, reporttest.Unreached},
		{"unreached-color", text.Renderer{Color: true}, reporttest.Unreached},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(t, &tt.r, tt.report())
			reporttest.Golden(t, filepath.Join("testdata", tt.name+".golden"), []byte(got), *update)
		})
	}
}

func TestGrade(t *testing.T) {
	out := render(t, &text.Renderer{}, reporttest.Fixture())
	if !strings.Contains(out, "GRADE F   score 50/100") {
		t.Errorf("output lacks the grade line %q:\n%s", "GRADE F   score 50/100", out)
	}
	if strings.Contains(out, "proves nothing") {
		t.Errorf("a scan that reached 12 operations carries the unreached warning")
	}
	for _, want := range []string{
		"6 findings: 1 critical, 1 high, 1 medium, 2 low, 1 info",
		"  API8:2023   90  Security Misconfiguration (3 findings)",
		"  other categories: 100",
		"Coverage: 14 operations parsed, 12 reached, 9 answered 2xx, 318 requests (2 transport errors)",
		"Profile   standard",
		"Active    yes",
		"took 1m27.5s",
		"Spec      testdata/shop.yaml (OpenAPI 3.0.3, Shop API)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// Categories without findings are folded into the "other" line.
	if strings.Contains(out, "API7:2023") {
		t.Errorf("output lists API7:2023, which has no findings")
	}
}

func TestSeverityOrder(t *testing.T) {
	out := render(t, &text.Renderer{}, reporttest.Fixture())
	// The fixture lists findings out of order; the report must not.
	inOrder := []string{
		"\nCRITICAL\n", "[1] Mass assignment of isAdmin",
		"\nHIGH\n", "[2] Another user's order is readable",
		"\nMEDIUM\n", "[3] Stack trace in error response",
		"\nLOW\n", "[4] Security headers missing", "[5] CORS reflects any origin", // confirmed before possible
		"\nINFO\n", "[6] Deprecated operation still served",
		"Coverage:",
	}
	last := -1
	for _, s := range inOrder {
		i := strings.Index(out, s)
		if i < 0 {
			t.Fatalf("output lacks %q", s)
		}
		if i < last {
			t.Errorf("%q appears before what precedes it in %q", s, inOrder)
		}
		last = i
	}
}

func TestFindingDetails(t *testing.T) {
	out := render(t, &text.Renderer{}, reporttest.Fixture())
	for _, want := range []string{
		"high, confirmed · CWE-639 · API1:2023 Broken Object Level Authorization",
		"Where   GET /orders/{id}, path parameter id",
		"Evidence 2/2: another identity reads the same order",
		"> GET https://api.shop.test/v1/orders/7",
		"< 200 OK",
		`matched: "owner":"alice"`,
		"$ curl -X GET 'https://api.shop.test/v1/orders/7' -H 'Authorization: Bearer [REDACTED:bob]'",
		"Fix: Check that the caller owns the object",
		">   {\"isAdmin\":true}",
		"< 500 Internal Server Error",
		"… 6 more lines",
		"Where   Strict-Transport-Security",
		"Checks: 9 (6 ok, 1 errored, 1 skipped, 1 cancelled)",
		"  - input.sqli: parse response of GET /v1/search",
		"  - ssrf.url-param (skipped: no operation takes a URL)",
		"  - 2 requests failed: read tcp: connection reset by peer",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out, "X-Debug") {
		t.Errorf("non-verbose output shows response headers")
	}
}

func TestVerbose(t *testing.T) {
	out := render(t, &text.Renderer{Verbose: true}, reporttest.Fixture())
	for _, want := range []string{
		`< X-Debug: \x1b[2J`,
		"> Authorization: Bearer [REDACTED:bob]",
		"<   line 10",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("verbose output lacks %q", want)
		}
	}
	if strings.Contains(out, "more lines") {
		t.Errorf("verbose output cuts a body")
	}
}

func TestEvidenceLimit(t *testing.T) {
	rep := reporttest.Fixture()
	ev := rep.Findings[0].Evidence[0]
	rep.Findings[0].Evidence = []scan.Evidence{ev, ev, ev, ev, ev}
	out := render(t, &text.Renderer{}, rep)
	if !strings.Contains(out, "Evidence 3/5") || strings.Contains(out, "Evidence 4/5") {
		t.Errorf("non-verbose output should show exchanges 1–3 of 5")
	}
	if !strings.Contains(out, "… and 2 more exchanges; verbose output shows all") {
		t.Errorf("output does not say 2 exchanges were left out")
	}
	out = render(t, &text.Renderer{Verbose: true}, rep)
	if !strings.Contains(out, "Evidence 5/5") {
		t.Errorf("verbose output lacks Evidence 5/5")
	}
}

func TestUnreached(t *testing.T) {
	for _, color := range []bool{false, true} {
		out := render(t, &text.Renderer{Color: color}, reporttest.Unreached())
		plain := stripSGR(out)
		for _, want := range []string{
			"WARNING: this scan proves nothing — it is NOT a clean result.",
			"None of the 14 operations got an HTTP answer; check the URL, --base-url",
			"GRADE N/A",
			"No findings, but nothing was tested.",
			"Coverage: 14 operations parsed, 0 reached, 0 answered 2xx, 28 requests (28 transport errors)",
		} {
			if !strings.Contains(plain, want) {
				t.Errorf("color=%v: output lacks %q", color, want)
			}
		}
		for _, bad := range []string{"score 0/100", "GRADE F", "other categories: 100", "No findings."} {
			if strings.Contains(plain, bad) {
				t.Errorf("color=%v: unreached output contains %q, which reads as a result", color, bad)
			}
		}
	}
}

func TestNoRequestsIsUngraded(t *testing.T) {
	// A report whose score says graded but whose coverage shows no request
	// was sent (an old or hand-made report) still gets the warning.
	rep := reporttest.Fixture()
	rep.Coverage = scan.Coverage{}
	out := render(t, &text.Renderer{}, rep)
	if !strings.Contains(out, "WARNING: this scan proves nothing") || !strings.Contains(out, "GRADE N/A") {
		t.Errorf("zero-request report lacks the warning or the N/A grade:\n%s", out)
	}
}

// TestNothingAnswered2xx covers scans that reached the API but proved
// nothing: every operation answered 404 or 401, or the inventory was empty.
// Each must read as ungraded, with the cause named, and never as a grade.
func TestNothingAnswered2xx(t *testing.T) {
	tests := []struct {
		name string
		cov  scan.Coverage
		want string
	}{
		{"every path 404", scan.Coverage{Operations: 5, Reached: 2, Requests: 40}, "None of the 5 operations answered 2xx (2 answered with other statuses); check --base-url"},
		{"no operation", scan.Coverage{Operations: 0, Requests: 30}, "The scan found no operation to test; pass the API's spec with --spec"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := reporttest.Fixture()
			rep.Findings = []scan.Finding{}
			rep.Coverage = tt.cov
			rep.Score = score.Compute(rep.Findings, rep.Coverage)
			rep.Warnings = []string{"not graded: " + score.Inconclusive(tt.cov)}
			out := render(t, &text.Renderer{}, rep)
			flat := strings.Join(strings.Fields(out), " ")
			for _, want := range []string{"GRADE N/A", "WARNING: this scan proves nothing — it is NOT a clean result.", tt.want} {
				if !strings.Contains(flat, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			for _, bad := range []string{"GRADE A", "No findings.", "Warnings"} {
				if strings.Contains(out, bad) {
					t.Errorf("output contains %q:\n%s", bad, out)
				}
			}
		})
	}
}

func TestPartial(t *testing.T) {
	tests := []struct {
		name        string
		interrupted bool
		budget      bool
		want        string
	}{
		{"time budget", true, false, "INTERRUPTED: the scan stopped before every check finished;"},
		{"request budget", false, true, "PARTIAL: the request budget ran out before every check finished;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep := reporttest.Fixture()
			rep.Findings = []scan.Finding{}
			rep.Score = scan.Score{Overall: 100, Grade: "A", Partial: true}
			rep.Interrupted = tt.interrupted
			rep.Coverage.BudgetExhausted = tt.budget
			out := render(t, &text.Renderer{}, rep)
			for _, want := range []string{"GRADE A (partial)   score 100/100 at best: the scan did not finish", tt.want, "the score is not final"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "GRADE A   score") {
				t.Errorf("partial scan shows a plain grade:\n%s", out)
			}
		})
	}
}

func TestInterrupted(t *testing.T) {
	rep := reporttest.Fixture()
	if out := render(t, &text.Renderer{}, rep); strings.Contains(out, "INTERRUPTED") {
		t.Errorf("complete scan says INTERRUPTED")
	}
	rep.Interrupted = true
	rep.Coverage.BudgetExhausted = true
	out := render(t, &text.Renderer{}, rep)
	for _, want := range []string{"INTERRUPTED: the scan stopped before every check finished;", "The request budget ran out"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

func TestNoFindings(t *testing.T) {
	rep := reporttest.Fixture()
	rep.Findings = nil
	rep.Score = scan.Score{Overall: 100, Grade: "A"}
	out := render(t, &text.Renderer{}, rep)
	for _, want := range []string{"GRADE A   score 100/100", "all categories: 100", "No findings."} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

var sgr = regexp.MustCompile(`\x1b\[[0-9;]*m`)

func stripSGR(s string) string { return sgr.ReplaceAllString(s, "") }

func TestHostileTargetText(t *testing.T) {
	for _, r := range []text.Renderer{{}, {Color: true}, {Verbose: true}, {Color: true, Verbose: true}} {
		out := render(t, &r, reporttest.Fixture())
		// With colour on, the only escapes left are Merlon's own SGR codes.
		plain := stripSGR(out)
		if r.Color && plain == out {
			t.Errorf("%+v: no colour in the output", r)
		}
		if !r.Color && plain != out {
			t.Errorf("%+v: colour codes without Color", r)
		}
		if i := strings.IndexFunc(plain, func(c rune) bool {
			return c != '\n' && (c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) || c == 0x202e)
		}); i >= 0 {
			t.Errorf("%+v: control character %q reaches the terminal at byte %d: %q", r, plain[i], i, plain[max(0, i-40):i+10])
		}
		if !utf8.ValidString(out) {
			t.Errorf("%+v: output is not valid UTF-8", r)
		}
		for _, want := range []string{`\x1b[2J\x1b[31mOWNED\x1b[0m\x1b]0;pwned\x07`, `\xff\xfe\u009b2J\x0dfake\u202eesrever`} {
			if !strings.Contains(out, want) {
				t.Errorf("%+v: output does not show the escaped hostile text %q", r, want)
			}
		}
	}
}

func TestColor(t *testing.T) {
	out := render(t, &text.Renderer{Color: true}, reporttest.Fixture())
	for _, want := range []string{"\x1b[1;31mGRADE F\x1b[0m", "\x1b[1;35mCRITICAL\x1b[0m", "\x1b[33mMEDIUM\x1b[0m"} {
		if !strings.Contains(out, want) {
			t.Errorf("color output lacks %q", want)
		}
	}
	rep := reporttest.Fixture()
	rep.Score = scan.Score{Overall: 93, Grade: "A"}
	if out := render(t, &text.Renderer{Color: true}, rep); !strings.Contains(out, "\x1b[1;32mGRADE A\x1b[0m") {
		t.Errorf("grade A is not bold green")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestRenderErrors(t *testing.T) {
	r := &text.Renderer{}
	if err := r.Render(failWriter{}, reporttest.Fixture()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Render(failing writer) = %v, want an error wrapping disk full", err)
	}
	if err := r.Render(&bytes.Buffer{}, nil); err == nil {
		t.Errorf("Render(nil report) = nil, want an error")
	}
}

// TestRepeatedFixPrintedOnce: many findings of one check share a long fix;
// the text report prints it once and points back to it.
func TestRepeatedFixPrintedOnce(t *testing.T) {
	rep := reporttest.Fixture()
	fix := "Allowlist the fields each operation may write.\nSecond line of a long fix."
	for i := range rep.Findings {
		rep.Findings[i].Remediation = fix
	}
	var buf bytes.Buffer
	if err := (&text.Renderer{}).Render(&buf, rep); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if n := strings.Count(out, "Second line of a long fix."); n != 1 {
		t.Errorf("fix printed %d times, want once", n)
	}
	if want := len(rep.Findings) - 1; strings.Count(out, "Fix: same as finding [1]") != want {
		t.Errorf("want %d back-references to finding [1]:\n%s", want, out)
	}
}
