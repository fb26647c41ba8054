package sarif_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/merlonsec/merlon/internal/report/reporttest"
	"github.com/merlonsec/merlon/internal/report/sarif"
	"github.com/merlonsec/merlon/internal/scan"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func render(t *testing.T, r sarif.Renderer, rep *scan.Report) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Render(&buf, rep); err != nil {
		t.Fatalf("Render: %v", err)
	}
	return buf.Bytes()
}

// log is the part of a SARIF log the tests read back.
type log struct {
	Version string `json:"version"`
	Runs    []struct {
		Tool struct {
			Driver struct {
				Name           string `json:"name"`
				Version        string `json:"version"`
				InformationURI string `json:"informationUri"`
				Rules          []struct {
					ID               string `json:"id"`
					Name             string `json:"name"`
					ShortDescription struct{ Text string }
					FullDescription  struct{ Text string }
					Help             struct{ Text, Markdown string }
					Default          struct{ Level string } `json:"defaultConfiguration"`
					Properties       map[string]any         `json:"properties"`
				} `json:"rules"`
			} `json:"driver"`
		} `json:"tool"`
		Invocations []struct {
			ExecutionSuccessful bool `json:"executionSuccessful"`
			Notifications       []struct {
				Level   string
				Message struct{ Text string }
			} `json:"toolExecutionNotifications"`
		} `json:"invocations"`
		Results []struct {
			RuleID    string `json:"ruleId"`
			RuleIndex int    `json:"ruleIndex"`
			Level     string `json:"level"`
			Message   struct{ Text string }
			Locations []struct {
				Physical struct {
					Artifact struct {
						URI       string `json:"uri"`
						URIBaseID string `json:"uriBaseId"`
					} `json:"artifactLocation"`
					Region struct {
						StartLine int `json:"startLine"`
					} `json:"region"`
				} `json:"physicalLocation"`
				Logical []struct {
					Name, FullyQualifiedName, Kind string
				} `json:"logicalLocations"`
			} `json:"locations"`
			PartialFingerprints map[string]string `json:"partialFingerprints"`
			Properties          map[string]any    `json:"properties"`
		} `json:"results"`
	} `json:"runs"`
}

func parse(t *testing.T, out []byte) log {
	t.Helper()
	var l log
	if err := json.Unmarshal(out, &l); err != nil {
		t.Fatalf("output is not JSON: %v", err)
	}
	if len(l.Runs) != 1 {
		t.Fatalf("output has %d runs, want 1", len(l.Runs))
	}
	return l
}

func TestGolden(t *testing.T) {
	for name, rep := range map[string]func() *scan.Report{
		"fixture":   reporttest.Fixture,
		"unreached": reporttest.Unreached,
	} {
		t.Run(name, func(t *testing.T) {
			got := render(t, sarif.Renderer{}, rep())
			reporttest.Golden(t, filepath.Join("testdata", name+".golden"), got, *update)
		})
	}
}

// schemaDir finds the OASIS schemas: ../shared/schemas beside the
// repository, reached from this package's directory or from the module
// root. It skips the test when the folder is absent, but never in CI.
func schemaDir(t *testing.T) string {
	t.Helper()
	candidates := []string{filepath.Join("..", "..", "..", "..", "shared", "schemas")}
	if dir, err := filepath.Abs("."); err == nil {
		for d := dir; filepath.Dir(d) != d; d = filepath.Dir(d) {
			if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
				candidates = append(candidates, filepath.Join(filepath.Dir(d), "shared", "schemas"))
				break
			}
		}
	}
	for _, c := range candidates {
		if _, err := os.Stat(filepath.Join(c, "sarif-schema-2.1.0.json")); err == nil {
			return c
		}
	}
	msg := "SARIF schema not found in " + strings.Join(candidates, " or ") + " (the shared/schemas folder beside the repository)"
	if os.Getenv("CI") == "true" || os.Getenv("MERLON_REQUIRE_TESTBED") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg + "; skipping schema validation")
	return ""
}

func compileSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	path := filepath.Join(schemaDir(t), "sarif-schema-2.1.0.json")
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("read schema: %v", err)
	}
	c := jsonschema.NewCompiler()
	c.AssertFormat()
	const id = "file:///sarif-schema-2.1.0.json"
	if err := c.AddResource(id, doc); err != nil {
		t.Fatalf("add schema: %v", err)
	}
	sch, err := c.Compile(id)
	if err != nil {
		t.Fatalf("compile schema: %v", err)
	}
	if sch.DraftVersion != 4 {
		t.Fatalf("schema compiled as draft %d, want draft-04", sch.DraftVersion)
	}
	return sch
}

func validate(sch *jsonschema.Schema, out []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(out))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

func TestSchemaValid(t *testing.T) {
	sch := compileSchema(t)
	interrupted := reporttest.Fixture()
	interrupted.Interrupted = true
	noSpec := reporttest.Fixture()
	noSpec.Spec = nil
	tests := []struct {
		name string
		r    sarif.Renderer
		rep  *scan.Report
	}{
		{"fixture", sarif.Renderer{}, reporttest.Fixture()},
		{"unreached", sarif.Renderer{}, reporttest.Unreached()},
		{"interrupted", sarif.Renderer{}, interrupted},
		{"no spec", sarif.Renderer{}, noSpec},
		{"with check metadata", sarif.Renderer{Checks: metas()}, reporttest.Fixture()},
		{"empty report", sarif.Renderer{}, &scan.Report{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := validate(sch, render(t, tt.r, tt.rep)); err != nil {
				t.Errorf("output is not valid SARIF 2.1.0: %v", err)
			}
		})
	}
}

// TestSchemaRejectsInvalid makes sure the validator is not a no-op: each
// mutation breaks a rule of the SARIF schema and must fail validation.
func TestSchemaRejectsInvalid(t *testing.T) {
	sch := compileSchema(t)
	out := render(t, sarif.Renderer{}, reporttest.Fixture())
	tests := []struct {
		name   string
		mutate func(m map[string]any)
	}{
		{"wrong version", func(m map[string]any) { m["version"] = "2.0.0" }},
		{"no runs", func(m map[string]any) { delete(m, "runs") }},
		{"unknown top-level property", func(m map[string]any) { m["extra"] = true }},
		{"bad level", func(m map[string]any) { result(m)["level"] = "fatal" }},
		{"message without text", func(m map[string]any) { result(m)["message"] = map[string]any{} }},
		{"start line 0", func(m map[string]any) {
			loc := result(m)["locations"].([]any)[0].(map[string]any)
			loc["physicalLocation"].(map[string]any)["region"].(map[string]any)["startLine"] = 0
		}},
		{"driver without name", func(m map[string]any) {
			delete(m["runs"].([]any)[0].(map[string]any)["tool"].(map[string]any)["driver"].(map[string]any), "name")
		}},
		{"bad start time", func(m map[string]any) {
			m["runs"].([]any)[0].(map[string]any)["invocations"].([]any)[0].(map[string]any)["startTimeUtc"] = "yesterday"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var m map[string]any
			if err := json.Unmarshal(out, &m); err != nil {
				t.Fatal(err)
			}
			tt.mutate(m)
			bad, err := json.Marshal(m)
			if err != nil {
				t.Fatal(err)
			}
			if err := validate(sch, bad); err == nil {
				t.Errorf("validate(SARIF with %s) = nil, want a schema error", tt.name)
			}
		})
	}
}

func result(m map[string]any) map[string]any {
	return m["runs"].([]any)[0].(map[string]any)["results"].([]any)[0].(map[string]any)
}

func metas() []scan.Meta {
	return []scan.Meta{
		{ID: "authz.bola", Title: "Broken object level authorization", Category: scan.API1BOLA, CWE: 639,
			Severity: scan.High, Description: "Reads objects by ID as another identity."},
		{ID: "misconfig.cors", Title: "Permissive CORS", Category: scan.API8Misconfiguration, CWE: 942,
			Severity: scan.High, Description: "Sends cross-origin requests and reads the CORS headers."},
	}
}

func TestContent(t *testing.T) {
	rep := reporttest.Fixture()
	l := parse(t, render(t, sarif.Renderer{}, rep))
	if l.Version != "2.1.0" {
		t.Errorf("version = %q, want 2.1.0", l.Version)
	}
	run := l.Runs[0]
	d := run.Tool.Driver
	if d.Name != "merlon" || d.Version != "0.0.0-test" || d.InformationURI == "" {
		t.Errorf("driver = %q %q %q, want merlon 0.0.0-test and an informationUri", d.Name, d.Version, d.InformationURI)
	}
	// One rule per check that ran or found something: the six that ran
	// ok; not the errored, skipped or cancelled ones.
	var ids []string
	for _, r := range d.Rules {
		ids = append(ids, r.ID)
	}
	if want := "authz.bola exposure.verbose-errors inventory.deprecated misconfig.cors misconfig.security-headers property.mass-assignment"; strings.Join(ids, " ") != want {
		t.Errorf("rule IDs = %s, want %s", strings.Join(ids, " "), want)
	}
	rules := map[string]int{}
	for i, r := range d.Rules {
		rules[r.ID] = i
	}
	mass := d.Rules[rules["property.mass-assignment"]]
	if mass.Name != "PropertyMassAssignment" || mass.ShortDescription.Text != "Mass assignment of isAdmin" {
		t.Errorf("mass assignment rule name, title = %q, %q", mass.Name, mass.ShortDescription.Text)
	}
	if got := mass.Properties["security-severity"]; got != "9.5" {
		t.Errorf("critical rule security-severity = %v, want 9.5", got)
	}
	if got := mass.Properties["precision"]; got != "medium" {
		t.Errorf("possible-only rule precision = %v, want medium", got)
	}
	if got := mass.Default.Level; got != "error" {
		t.Errorf("critical rule level = %q, want error", got)
	}
	tags, _ := mass.Properties["tags"].([]any)
	if len(tags) != 4 || tags[0] != "security" || tags[1] != "CWE-915" || tags[2] != "external/cwe/cwe-915" || tags[3] != "OWASP-API3:2023" {
		t.Errorf("tags = %v, want security, CWE-915, external/cwe/cwe-915, OWASP-API3:2023", tags)
	}
	if !strings.Contains(mass.Help.Text, "Remediation: Bind request bodies") || !strings.Contains(mass.Help.Markdown, "**Remediation:** Bind request bodies") {
		t.Errorf("help lacks the remediation: %+v", mass.Help)
	}
	for _, want := range []string{"CWE-915", "API3:2023 Broken Object Property Level Authorization"} {
		if !strings.Contains(mass.Help.Markdown, want) {
			t.Errorf("help markdown lacks %q", want)
		}
	}
	sevs := map[string]string{}
	for _, r := range d.Rules {
		sevs[r.ID] = r.Properties["security-severity"].(string) + " " + r.Default.Level
	}
	for id, want := range map[string]string{
		"authz.bola":                 "8.0 error",
		"exposure.verbose-errors":    "5.5 warning",
		"misconfig.cors":             "3.0 note",
		"inventory.deprecated":       "0.0 note",
		"misconfig.security-headers": "3.0 note",
	} {
		if sevs[id] != want {
			t.Errorf("rule %s severity, level = %s, want %s", id, sevs[id], want)
		}
	}

	if len(run.Results) != len(rep.Findings) {
		t.Fatalf("%d results, want one per finding (%d)", len(run.Results), len(rep.Findings))
	}
	for i, res := range run.Results {
		f := rep.Findings[i]
		if res.RuleID != f.CheckID || d.Rules[res.RuleIndex].ID != f.CheckID {
			t.Errorf("result %d rule = %s (index %d), want %s", i, res.RuleID, res.RuleIndex, f.CheckID)
		}
		if got := res.PartialFingerprints[sarif.FingerprintKey]; got != f.Fingerprint || len(got) != 32 {
			t.Errorf("result %d fingerprint = %q, want %q", i, got, f.Fingerprint)
		}
		if res.Properties["confidence"] != f.Confidence.String() {
			t.Errorf("result %d confidence = %v, want %s", i, res.Properties["confidence"], f.Confidence)
		}
		if len(res.Locations) != 1 {
			t.Fatalf("result %d has %d locations, want 1", i, len(res.Locations))
		}
		loc := res.Locations[0]
		if loc.Physical.Artifact.URI != "testdata/shop.yaml" || loc.Physical.Artifact.URIBaseID != "%SRCROOT%" {
			t.Errorf("result %d artifact = %+v, want testdata/shop.yaml on %%SRCROOT%%", i, loc.Physical.Artifact)
		}
	}
	bola := run.Results[2]
	if bola.Level != "error" || !strings.HasPrefix(bola.Message.Text, "Another user's order is readable (GET /orders/{id}, path parameter id): Identity bob") {
		t.Errorf("BOLA result level, message = %q, %q", bola.Level, bola.Message.Text)
	}
	if bola.Properties["owasp"] != "API1:2023" || bola.Properties["cwe"] != "CWE-639" || bola.Properties["operation"] != "GET /orders/{id}" {
		t.Errorf("BOLA result properties = %v", bola.Properties)
	}
	if curls, _ := bola.Properties["curl"].([]any); len(curls) != 2 || !strings.Contains(curls[1].(string), "REDACTED:bob") {
		t.Errorf("BOLA result curl = %v, want both evidence curls", bola.Properties["curl"])
	}
	// Each request names who sent it, in the properties and in the
	// message that code scanning shows.
	var sent []string
	reqs, _ := bola.Properties["requests"].([]any)
	for _, r := range reqs {
		m, _ := r.(map[string]any)
		sent = append(sent, fmt.Sprintf("%v as %v: %v", m["request"], m["identity"], m["status"]))
	}
	if want := []string{
		"GET https://api.shop.test/v1/orders/7 as alice: 200",
		"GET https://api.shop.test/v1/orders/7 as bob: 200",
	}; !slices.Equal(sent, want) {
		t.Errorf("BOLA result requests = %q, want %q", sent, want)
	}
	if want := "Evidence: GET https://api.shop.test/v1/orders/7 sent as alice; GET https://api.shop.test/v1/orders/7 sent as bob."; !strings.HasSuffix(bola.Message.Text, want) {
		t.Errorf("BOLA message = %q, want it to end with %q", bola.Message.Text, want)
	}
	verbose := run.Results[3]
	if reqs, _ := verbose.Properties["requests"].([]any); verbose.RuleID != "exposure.verbose-errors" || len(reqs) != 1 || reqs[0].(map[string]any)["identity"] != scan.Anonymous {
		t.Errorf("verbose errors requests = %v, want one sent as anonymous", verbose.Properties["requests"])
	}
	massRes := run.Results[1]
	if reqs, _ := massRes.Properties["requests"].([]any); massRes.RuleID != "property.mass-assignment" || len(reqs) != 1 || reqs[0].(map[string]any)["identity"] != nil {
		t.Errorf("mass assignment requests = %v, want one without an identity (only global headers)", massRes.Properties["requests"])
	}
	if strings.Contains(massRes.Message.Text, "sent as") {
		t.Errorf("mass assignment message = %q names an identity, want none", massRes.Message.Text)
	}
	if lg := bola.Locations[0].Logical; len(lg) != 1 || lg[0].FullyQualifiedName != reporttest.Target+" GET /orders/{id}" {
		t.Errorf("BOLA logical location = %+v", lg)
	}

	inv := run.Invocations
	if len(inv) != 1 || !inv[0].ExecutionSuccessful {
		t.Fatalf("invocations = %+v, want one that succeeded", inv)
	}
	var notes []string
	for _, n := range inv[0].Notifications {
		notes = append(notes, n.Level+": "+n.Message.Text)
	}
	joined := strings.Join(notes, "\n")
	for _, want := range []string{"error: check input.sqli errored", "warning: check resource.rate-limit was cancelled", "warning: 2 requests failed"} {
		if !strings.Contains(joined, want) {
			t.Errorf("notifications lack %q:\n%s", want, joined)
		}
	}
}

// TestOperationLines checks that results point at the operation's line in
// testdata/shop.yaml, and at line 1 when the operation is not in it.
func TestOperationLines(t *testing.T) {
	l := parse(t, render(t, sarif.Renderer{}, reporttest.Fixture()))
	want := map[string]int{
		"misconfig.security-headers": 1,  // whole target
		"property.mass-assignment":   44, // PATCH /users/{id}
		"authz.bola":                 27, // GET /orders/{id}
		"exposure.verbose-errors":    21, // GET /products/{id}
		"misconfig.cors":             9,  // GET /products
		"inventory.deprecated":       1,  // not in the spec
	}
	for _, res := range l.Runs[0].Results {
		if got := res.Locations[0].Physical.Region.StartLine; got != want[res.RuleID] {
			t.Errorf("%s startLine = %d, want %d", res.RuleID, got, want[res.RuleID])
		}
	}
}

func TestPlaceholderLocation(t *testing.T) {
	remote := reporttest.Fixture()
	remote.Spec.Source = "https://api.shop.test/openapi.json"
	outside := reporttest.Fixture()
	outside.Spec.Source = "../../elsewhere/shop.yaml"
	noSpec := reporttest.Fixture()
	noSpec.Spec = nil
	for name, rep := range map[string]*scan.Report{"remote spec": remote, "spec outside root": outside, "no spec": noSpec} {
		t.Run(name, func(t *testing.T) {
			l := parse(t, render(t, sarif.Renderer{}, rep))
			for _, res := range l.Runs[0].Results {
				loc := res.Locations[0]
				if a := loc.Physical.Artifact; a.URI != sarif.TargetArtifact || a.URIBaseID != "" || loc.Physical.Region.StartLine != 1 {
					t.Errorf("%s physical location = %+v line %d, want %s line 1", res.RuleID, a, loc.Physical.Region.StartLine, sarif.TargetArtifact)
				}
				if lg := loc.Logical; len(lg) != 1 || !strings.HasPrefix(lg[0].FullyQualifiedName, reporttest.Target) {
					t.Errorf("%s logical location = %+v, want the target URL", res.RuleID, lg)
				}
			}
		})
	}
}

func TestRoot(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "api", "specs")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	spec := "openapi: 3.0.3\npaths:\n  /orders/{id}:\n    get: {}\n"
	if err := os.WriteFile(filepath.Join(dir, "shop yaml.yml"), []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := reporttest.Fixture()
	rep.Spec.Source = filepath.Join(dir, "shop yaml.yml")
	l := parse(t, render(t, sarif.Renderer{Root: root}, rep))
	res := l.Runs[0].Results[2]
	if a := res.Locations[0].Physical.Artifact; a.URI != "api/specs/shop%20yaml.yml" || a.URIBaseID != "%SRCROOT%" {
		t.Errorf("artifact = %+v, want api/specs/shop%%20yaml.yml on %%SRCROOT%%", a)
	}
	if got := res.Locations[0].Physical.Region.StartLine; got != 4 {
		t.Errorf("startLine = %d, want 4", got)
	}
}

func TestCheckMetadata(t *testing.T) {
	l := parse(t, render(t, sarif.Renderer{Checks: metas()}, reporttest.Fixture()))
	for _, r := range l.Runs[0].Tool.Driver.Rules {
		switch r.ID {
		case "authz.bola":
			if r.ShortDescription.Text != "Broken object level authorization" || r.FullDescription.Text != "Reads objects by ID as another identity." {
				t.Errorf("bola rule = %q / %q, want the check's metadata", r.ShortDescription.Text, r.FullDescription.Text)
			}
		case "misconfig.cors":
			// The scan saw only a low finding: the rule is rated by it,
			// not by the worst the check could report.
			if r.Properties["security-severity"] != "3.0" {
				t.Errorf("cors security-severity = %v, want 3.0", r.Properties["security-severity"])
			}
		}
	}
}

func TestInterrupted(t *testing.T) {
	rep := reporttest.Fixture()
	rep.Interrupted = true
	l := parse(t, render(t, sarif.Renderer{}, rep))
	if l.Runs[0].Invocations[0].ExecutionSuccessful {
		t.Errorf("executionSuccessful = true for an interrupted scan, want false")
	}
}

// TestFingerprintStable checks that what changes between two scans of the
// same API (times, evidence, ports in curl lines) leaves the fingerprints
// alone.
func TestFingerprintStable(t *testing.T) {
	a := reporttest.Fixture()
	b := reporttest.Fixture()
	b.StartedAt = b.StartedAt.Add(24 * 3600e9)
	for i := range b.Findings {
		b.Findings[i].Evidence = nil
		b.Findings[i].Description = "reworded"
	}
	la, lb := parse(t, render(t, sarif.Renderer{}, a)), parse(t, render(t, sarif.Renderer{}, b))
	for i := range la.Runs[0].Results {
		fa := la.Runs[0].Results[i].PartialFingerprints[sarif.FingerprintKey]
		fb := lb.Runs[0].Results[i].PartialFingerprints[sarif.FingerprintKey]
		if fa != fb {
			t.Errorf("result %d fingerprint changed between scans: %s, %s", i, fa, fb)
		}
	}
}

func TestHostileText(t *testing.T) {
	out := string(render(t, sarif.Renderer{}, reporttest.Fixture()))
	for _, bad := range []string{"<script", `\u001b`, `\u0007`, `\r`, "\u202e", "\u009b"} {
		if strings.Contains(out, bad) {
			t.Errorf("output carries %q", bad)
		}
	}
	if !strings.Contains(out, `deprecated \\x1b[2J`) {
		t.Errorf("target escape sequences are not shown as visible escapes")
	}
}

func TestNil(t *testing.T) {
	if err := (sarif.Renderer{}).Render(&bytes.Buffer{}, nil); err == nil {
		t.Errorf("Render(nil) = nil, want an error")
	}
}
