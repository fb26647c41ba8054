package report_test

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/report"
	"github.com/merlonsec/merlon/internal/report/reporttest"
	"github.com/merlonsec/merlon/internal/scan"
)

const jsonDoc = "../../docs/json-report.md"

// TestDocExample keeps the example of docs/json-report.md readable by the
// code it documents.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile(jsonDoc)
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```json\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatalf("%s has no ```json example", jsonDoc)
	}
	rep, err := report.ReadJSON(strings.NewReader(example))
	if err != nil {
		t.Fatalf("ReadJSON(doc example): %v", err)
	}
	f := rep.Findings[0]
	if want := scan.Fingerprint(f.CheckID, rep.Target, f.Operation, f.Location); f.Fingerprint != want {
		t.Errorf("example fingerprint = %s, want %s", f.Fingerprint, want)
	}
	if rep.Score.Overall != 69 || rep.Score.Grade != "D" {
		t.Errorf("example score = %d %s, want 69 D (one confirmed high, capped)", rep.Score.Overall, rep.Score.Grade)
	}
}

// TestDocCoversEveryField fails when the report gains a JSON field that
// docs/json-report.md does not mention.
func TestDocCoversEveryField(t *testing.T) {
	doc, err := os.ReadFile(jsonDoc)
	if err != nil {
		t.Fatal(err)
	}
	rep := reporttest.Fixture()
	rep.Interrupted = true
	rep.Coverage.BudgetExhausted = true
	rep.Findings[0].Evidence[0].Response.Truncated = true
	r, _ := report.New("json", report.Options{})
	var buf bytes.Buffer
	if err := r.Render(&buf, rep); err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				keys[k] = true
				if k != "headers" { // header names are data, not fields
					walk(e)
				}
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	for k := range keys {
		if !strings.Contains(string(doc), "`"+k+"`") {
			t.Errorf("%s does not document field %q", jsonDoc, k)
		}
	}
	if len(keys) < 50 {
		t.Errorf("walked only %d field names; the fixture lost fields", len(keys))
	}
}
