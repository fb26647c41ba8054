package json_test

import (
	"bytes"
	stdjson "encoding/json"
	"flag"
	"path/filepath"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/report/json"
	"github.com/merlonsec/merlon/internal/report/reporttest"
	"github.com/merlonsec/merlon/internal/scan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func render(t *testing.T, rep *scan.Report) string {
	t.Helper()
	var buf bytes.Buffer
	if err := (json.Renderer{}).Render(&buf, rep); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return buf.String()
}

func TestGolden(t *testing.T) {
	for name, rep := range map[string]func() *scan.Report{
		"fixture":   reporttest.Fixture,
		"unreached": reporttest.Unreached,
	} {
		t.Run(name, func(t *testing.T) {
			got := render(t, rep())
			reporttest.Golden(t, filepath.Join("testdata", name+".golden"), []byte(got), *update)
		})
	}
}

func TestShape(t *testing.T) {
	out := render(t, reporttest.Fixture())
	if want := "{\n  \"schemaVersion\": \"1\",\n  \"tool\": {"; !strings.HasPrefix(out, want) {
		t.Errorf("output starts %q, want %q", out[:min(len(out), 40)], want)
	}
	if !strings.HasSuffix(out, "}\n") {
		t.Errorf("output does not end with a newline after the object")
	}
	for _, want := range []string{
		`"severity": "critical"`,
		`"confidence": "possible"`,
		`"owasp": "API3:2023"`,
		`"grade": "F"`,
		`"overall": 50`,
		`"durationNs": 42000000`,
		`"startedAt": "2025-03-14T09:26:53Z"`,
		`"X-Debug": [`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %s", want)
		}
	}
	// Target HTML stays inert, even if the file is served as a web page.
	if strings.Contains(out, "<script>") {
		t.Errorf("output carries a raw <script> tag")
	}
	if !strings.Contains(out, `\u003cscript\u003e`) {
		t.Errorf("output lacks the escaped script tag")
	}
	var v map[string]any
	if err := stdjson.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
}

func TestEmptyListsAreArrays(t *testing.T) {
	out := render(t, &scan.Report{})
	for _, want := range []string{`"schemaVersion": "1"`, `"findings": []`, `"checks": []`, `"categories": []`} {
		if !strings.Contains(out, want) {
			t.Errorf("Render(empty report) lacks %s:\n%s", want, out)
		}
	}
	if strings.Contains(out, "null") {
		t.Errorf("Render(empty report) writes null:\n%s", out)
	}
}

func TestDoesNotModifyInput(t *testing.T) {
	rep := &scan.Report{}
	render(t, rep)
	if rep.SchemaVersion != "" || rep.Findings != nil {
		t.Errorf("Render modified its input: %+v", rep)
	}
}

func TestStable(t *testing.T) {
	a, b := render(t, reporttest.Fixture()), render(t, reporttest.Fixture())
	if a != b {
		t.Errorf("two renders of the same report differ")
	}
}

func TestNil(t *testing.T) {
	if err := (json.Renderer{}).Render(&bytes.Buffer{}, nil); err == nil {
		t.Errorf("Render(nil) = nil, want an error")
	}
}

// TestEvidenceIdentity: each recorded request keeps who sent it, and the
// per-check operations survive a round trip.
func TestEvidenceIdentity(t *testing.T) {
	var rep scan.Report
	if err := stdjson.Unmarshal([]byte(render(t, reporttest.Fixture())), &rep); err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, f := range rep.Findings {
		for _, ev := range f.Evidence {
			got[f.CheckID] = append(got[f.CheckID], ev.Request.Identity)
		}
	}
	for check, want := range map[string][]string{
		"authz.bola":                 {reporttest.Alice, reporttest.Bob},
		"exposure.verbose-errors":    {scan.Anonymous},
		"property.mass-assignment":   {""},
		"misconfig.security-headers": {""},
	} {
		if strings.Join(got[check], ",") != strings.Join(want, ",") {
			t.Errorf("%s evidence identities = %q, want %q", check, got[check], want)
		}
	}
	if ops := rep.Checks[0].Operations; rep.Checks[0].ID != "authz.bola" || strings.Join(ops, ",") != "GET /orders/{id},GET /users/{id}" {
		t.Errorf("checks[0] = %s operations %q, want authz.bola with its two operations", rep.Checks[0].ID, ops)
	}
}
