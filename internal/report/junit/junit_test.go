package junit_test

import (
	"bytes"
	"encoding/xml"
	"flag"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/report/junit"
	"github.com/merlonsec/merlon/internal/report/reporttest"
	"github.com/merlonsec/merlon/internal/scan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func render(t *testing.T, rep *scan.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := (junit.Renderer{}).Render(&buf, rep); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return buf.Bytes()
}

// The document as a CI system reads it back.
type (
	suites struct {
		XMLName  xml.Name `xml:"testsuites"`
		Tests    int      `xml:"tests,attr"`
		Failures int      `xml:"failures,attr"`
		Errors   int      `xml:"errors,attr"`
		Skipped  int      `xml:"skipped,attr"`
		Suites   []suite  `xml:"testsuite"`
	}
	suite struct {
		Name     string     `xml:"name,attr"`
		Tests    int        `xml:"tests,attr"`
		Failures int        `xml:"failures,attr"`
		Errors   int        `xml:"errors,attr"`
		Skipped  int        `xml:"skipped,attr"`
		Cases    []testcase `xml:"testcase"`
	}
	testcase struct {
		Name      string   `xml:"name,attr"`
		ClassName string   `xml:"classname,attr"`
		Failure   *outcome `xml:"failure"`
		Error     *outcome `xml:"error"`
		Skipped   *outcome `xml:"skipped"`
	}
	outcome struct {
		Message string `xml:"message,attr"`
		Type    string `xml:"type,attr"`
		Body    string `xml:",chardata"`
	}
)

// parse reads the output with a strict XML decoder, which rejects
// characters XML 1.0 does not allow.
func parse(t *testing.T, out []byte) suites {
	t.Helper()
	var s suites
	dec := xml.NewDecoder(bytes.NewReader(out))
	dec.Strict = true
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("output is not valid XML: %v", err)
	}
	return s
}

func TestGolden(t *testing.T) {
	for name, rep := range map[string]func() *scan.Report{
		"fixture":   reporttest.Fixture,
		"unreached": reporttest.Unreached,
	} {
		t.Run(name, func(t *testing.T) {
			reporttest.Golden(t, filepath.Join("testdata", name+".golden"), render(t, rep()), *update)
		})
	}
}

func TestParseBackAndCount(t *testing.T) {
	rep := reporttest.Fixture()
	// A second finding of the same check on the same operation joins the
	// first one's test case; one on another operation gets its own.
	extra := rep.Findings[2]
	extra.Title, extra.Location, extra.Severity = "Another user's order is deletable", "DELETE", scan.Critical
	other := rep.Findings[2]
	other.Operation = "GET /invoices/{id}"
	rep.Findings = append(rep.Findings, extra, other)

	s := parse(t, render(t, rep))
	// 9 checks: 6 ran with findings (7 failing check × operation cases,
	// and 5 passing ones on the other operations they tested), one
	// errored, one was skipped and one cancelled.
	if s.Tests != 15 || s.Failures != 7 || s.Errors != 1 || s.Skipped != 2 {
		t.Errorf("testsuites counts tests=%d failures=%d errors=%d skipped=%d, want 15 7 1 2", s.Tests, s.Failures, s.Errors, s.Skipped)
	}
	if len(s.Suites) != 9 {
		t.Fatalf("%d suites, want one per check (9)", len(s.Suites))
	}
	sum := 0
	cases := map[string]testcase{}
	for _, su := range s.Suites {
		if su.Tests != len(su.Cases) {
			t.Errorf("suite %s says tests=%d but has %d cases", su.Name, su.Tests, len(su.Cases))
		}
		sum += su.Tests
		for _, c := range su.Cases {
			if c.ClassName != su.Name {
				t.Errorf("case %s classname = %q, want %q", c.Name, c.ClassName, su.Name)
			}
			cases[su.Name+" / "+c.Name] = c
		}
	}
	if sum != s.Tests {
		t.Errorf("suites hold %d tests, testsuites says %d", sum, s.Tests)
	}

	bola := cases["authz.bola / GET /orders/{id}"]
	if bola.Failure == nil {
		t.Fatalf("authz.bola on GET /orders/{id} has no failure: %+v", cases)
	}
	if bola.Failure.Message != "Another user's order is deletable (and 1 more)" || bola.Failure.Type != "critical" {
		t.Errorf("failure message, type = %q, %q; want the worst finding first", bola.Failure.Message, bola.Failure.Type)
	}
	for _, want := range []string{
		"Identity bob read order 7, which belongs to alice.",
		"curl -X GET 'https://api.shop.test/v1/orders/7' -H 'Authorization: Bearer [REDACTED:bob]'",
		"Remediation: Check that the caller owns the object",
		"severity high, confidence confirmed, CWE-639, API1:2023 Broken Object Level Authorization",
		"Location: path parameter id",
		"Fingerprint: " + rep.Findings[2].Fingerprint,
	} {
		if !strings.Contains(bola.Failure.Body, want) {
			t.Errorf("failure body lacks %q:\n%s", want, bola.Failure.Body)
		}
	}
	if c := cases["authz.bola / GET /invoices/{id}"]; c.Failure == nil {
		t.Errorf("a finding on another operation has no case of its own")
	}
	if c := cases["misconfig.security-headers / "+junit.CaseTarget]; c.Failure == nil || c.Failure.Type != "low" {
		t.Errorf("whole-target finding case = %+v", c)
	}
	if c := cases["input.sqli / "+junit.CaseCheck]; c.Error == nil || !strings.Contains(c.Error.Body, "parse response of GET /v1/search") {
		t.Errorf("errored check case = %+v, want an error with the check's error", c)
	}
	if c := cases["ssrf.url-param / "+junit.CaseCheck]; c.Skipped == nil || c.Skipped.Message != "no operation takes a URL" {
		t.Errorf("skipped check case = %+v", c)
	}
	if c := cases["resource.rate-limit / "+junit.CaseCheck]; c.Skipped == nil {
		t.Errorf("cancelled check case = %+v, want skipped", c)
	}
}

// TestCheckTimesOperation: a check that completed has a case on every
// operation it tested, failing where it found something; a check that did
// not complete, or that found something about the whole target, has no
// passing case, since it cannot vouch for an operation.
func TestCheckTimesOperation(t *testing.T) {
	rep := reporttest.Fixture()
	rep.Checks = append(rep.Checks, scan.CheckResult{ID: "authn.unauthenticated", Status: "ok",
		Operations: []string{"GET /orders/{id}", "GET /users/{id}", "PATCH /users/{id}"}})
	s := parse(t, render(t, rep))
	got := map[string][]string{}
	for _, su := range s.Suites {
		for _, c := range su.Cases {
			state := "pass"
			switch {
			case c.Failure != nil:
				state = "fail"
			case c.Error != nil:
				state = "error"
			case c.Skipped != nil:
				state = "skipped"
			}
			got[su.Name] = append(got[su.Name], state+" "+c.Name)
		}
	}
	want := map[string][]string{
		"authn.unauthenticated":      {"pass GET /orders/{id}", "pass GET /users/{id}", "pass PATCH /users/{id}"},
		"authz.bola":                 {"fail GET /orders/{id}", "pass GET /users/{id}"},
		"exposure.verbose-errors":    {"fail GET /products/{id}", "pass GET /orders/{id}"},
		"misconfig.cors":             {"fail GET /products", "pass GET /orders/{id}"},
		"misconfig.security-headers": {"fail " + junit.CaseTarget},
		"property.mass-assignment":   {"fail PATCH /users/{id}", "pass POST /orders"},
		"input.sqli":                 {"error " + junit.CaseCheck},
		"ssrf.url-param":             {"skipped " + junit.CaseCheck},
		"resource.rate-limit":        {"skipped " + junit.CaseCheck},
	}
	for id, w := range want {
		if !slices.Equal(got[id], w) {
			t.Errorf("suite %s cases = %q, want %q", id, got[id], w)
		}
	}
	if d := got["inventory.deprecated"]; len(d) != 2 || !strings.HasPrefix(d[0], "fail GET /legacy/") || d[1] != "pass GET /products" {
		t.Errorf("suite inventory.deprecated cases = %q, want the deprecated operation failing and GET /products passing", d)
	}
}

func TestCleanCheckPasses(t *testing.T) {
	rep := reporttest.Fixture()
	rep.Checks = append(rep.Checks, scan.CheckResult{ID: "authn.jwt-none", Status: "ok"})
	s := parse(t, render(t, rep))
	last := s.Suites[len(s.Suites)-1]
	if last.Name != "authn.jwt-none" || len(last.Cases) != 1 || last.Cases[0].Name != junit.CaseClean ||
		last.Cases[0].Failure != nil || last.Cases[0].Error != nil || last.Cases[0].Skipped != nil {
		t.Errorf("clean check suite = %+v, want one passing %q case", last, junit.CaseClean)
	}
}

func TestUnreachedIsNotGreen(t *testing.T) {
	s := parse(t, render(t, reporttest.Unreached()))
	if s.Errors != 1 {
		t.Errorf("unreached scan has %d errors, want 1", s.Errors)
	}
	var found bool
	for _, su := range s.Suites {
		if su.Name == junit.SuiteCoverage {
			found = true
			if c := su.Cases[0]; c.Error == nil || !strings.Contains(c.Error.Message, "NOT a clean result") ||
				!strings.Contains(c.Error.Body, "reached 0 of 14 operations") {
				t.Errorf("coverage case = %+v", c)
			}
		}
	}
	if !found {
		t.Errorf("no %s suite in an unreached scan", junit.SuiteCoverage)
	}
	if s := parse(t, render(t, reporttest.Fixture())); s.Suites[len(s.Suites)-1].Name == junit.SuiteCoverage {
		t.Errorf("a conclusive scan has a failing coverage suite")
	}
}

// TestHostileText plants every character XML 1.0 forbids, and markup, in
// the fields the target controls; the output must still parse strictly.
func TestHostileText(t *testing.T) {
	rep := reporttest.Fixture()
	var ctl strings.Builder
	for r := rune(0); r < 0x20; r++ {
		ctl.WriteRune(r)
	}
	evil := ctl.String() + "\x7f\ufffe\uffff]]></failure><script>x</script>\"'&" + reporttest.HostileBytes
	for i := range rep.Findings {
		f := &rep.Findings[i]
		f.Title += evil
		f.Operation += evil
		f.Location += evil
		f.Description += evil
		f.Remediation += evil
		for j := range f.Evidence {
			f.Evidence[j].Curl += evil
		}
	}
	rep.Checks = append(rep.Checks, scan.CheckResult{ID: "x" + evil, Status: "error", Error: evil})
	rep.Target += evil
	out := render(t, rep)
	s := parse(t, out)
	if s.Failures != 6 {
		t.Errorf("hostile report parsed back with %d failures, want 6", s.Failures)
	}
	for _, bad := range []string{"\x00", "\x1b", "\x07", "\ufffe", "\u202e", "\u009b", "<script>", "]]></failure>"} {
		if bytes.Contains(out, []byte(bad)) {
			t.Errorf("output carries %q raw", bad)
		}
	}
	var body string
	for _, su := range s.Suites {
		for _, c := range su.Cases {
			if c.Failure != nil {
				body += c.Failure.Message + c.Failure.Body
			}
		}
	}
	for _, want := range []string{`\x00\x01`, `\x1b`, `\x7f\ufffe\uffff]]></failure><script>`, `\xff\xfe\u009b2J`} {
		if !strings.Contains(body, want) {
			t.Errorf("parsed failures lack the visible escape %q", want)
		}
	}
}

func TestNil(t *testing.T) {
	if err := (junit.Renderer{}).Render(&bytes.Buffer{}, nil); err == nil {
		t.Errorf("Render(nil) = nil, want an error")
	}
}

// TestEvidenceIdentity: each reproduced request in a failure is preceded
// by the identity that sent it; one sent with only the global headers is
// not.
func TestEvidenceIdentity(t *testing.T) {
	s := parse(t, render(t, reporttest.Fixture()))
	bodies := map[string]string{}
	for _, su := range s.Suites {
		for _, c := range su.Cases {
			if c.Failure != nil {
				bodies[su.Name] = c.Failure.Body
			}
		}
	}
	for check, want := range map[string]string{
		"authz.bola": "  # sent as alice\n  curl -X GET 'https://api.shop.test/v1/orders/7' -H 'Authorization: Bearer [REDACTED:alice]'\n" +
			"  # sent as bob\n  curl -X GET 'https://api.shop.test/v1/orders/7' -H 'Authorization: Bearer [REDACTED:bob]'\n",
		"exposure.verbose-errors":  "  # sent as anonymous (no credentials)\n  curl -X GET 'https://api.shop.test/v1/products/%27'",
		"property.mass-assignment": "Evidence (reproduce; fill in redacted secrets first):\n  curl -X PATCH",
	} {
		if !strings.Contains(bodies[check], want) {
			t.Errorf("%s failure lacks %q:\n%s", check, want, bodies[check])
		}
	}
}
