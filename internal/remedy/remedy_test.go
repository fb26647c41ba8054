package remedy_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/checks"
	"github.com/merlonsec/merlon/internal/fingerprint"
	"github.com/merlonsec/merlon/internal/remedy"
	"github.com/merlonsec/merlon/internal/scan"
)

// text reads a remediation file as For returns it.
func text(t *testing.T, id, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("texts", id, name+".md"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// TestEveryCheckHasGenericText fails when a check is registered without
// remediation, so a new check cannot ship without one.
func TestEveryCheckHasGenericText(t *testing.T) {
	for _, c := range checks.All() {
		id := c.Meta().ID
		if got := remedy.For(id, scan.Stack{}); got == "" {
			t.Errorf("For(%q, no stack) = \"\", want texts/%s/generic.md", id, id)
		}
		if got, want := remedy.For(id, scan.Stack{Framework: "no-such-framework"}), text(t, id, "generic"); got != want {
			t.Errorf("For(%q, unknown framework) is not the generic text", id)
		}
	}
}

func TestForFallback(t *testing.T) {
	const errs = "exposure.error-disclosure"
	tests := []struct {
		name  string
		id    string
		stack scan.Stack
		want  string // file under texts/<id>/, "" for no text
	}{
		{"framework and datastore", errs, scan.Stack{Framework: "express", Datastore: "mongodb"}, "express-mongodb"},
		{"names in any case", errs, scan.Stack{Framework: "Express", Datastore: "MongoDB"}, "express-mongodb"},
		{"framework when no pair text", errs, scan.Stack{Framework: "express", Datastore: "postgresql"}, "express"},
		{"framework alone", errs, scan.Stack{Framework: "flask"}, "flask"},
		{"generic for unknown framework", errs, scan.Stack{Framework: "phoenix", Datastore: "mongodb"}, "generic"},
		{"generic for datastore alone", errs, scan.Stack{Datastore: "mongodb"}, "generic"},
		{"datastore alone", "inject.sql", scan.Stack{Datastore: "mysql"}, "mysql"},
		{"datastore when the framework has no text", "inject.sql", scan.Stack{Framework: "phoenix", Datastore: "PostgreSQL"}, "postgresql"},
		{"framework before datastore when no pair text", "inject.sql", scan.Stack{Framework: "flask", Datastore: "mysql"}, "flask"},
		{"framework before datastore", "inject.sql", scan.Stack{Framework: "django", Datastore: "postgresql"}, "django"},
		{"pair before both", "inject.sql", scan.Stack{Framework: "flask", Datastore: "sqlite"}, "flask-sqlite"},
		{"no escape through the datastore", "misconfig.cors", scan.Stack{Datastore: "../inject.sql/mysql"}, "generic"},
		{"generic for empty stack", "misconfig.cors", scan.Stack{}, "generic"},
		{"unknown check", "nosuch.check", scan.Stack{Framework: "flask"}, ""},
		{"empty check", "", scan.Stack{}, ""},
		{"no escape through the check ID", "../remedy", scan.Stack{}, ""},
		{"no escape through the framework", "misconfig.cors", scan.Stack{Framework: "../misconfig.cors/flask"}, "generic"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := ""
			if tt.want != "" {
				want = text(t, tt.id, tt.want)
			}
			if got := remedy.For(tt.id, tt.stack); got != want {
				t.Errorf("For(%q, %+v) = %.50q…, want texts/%s/%s.md", tt.id, tt.stack, got, tt.id, tt.want)
			}
		})
	}
}

// TestInjectTextsPerFramework holds the injection checks to a text of
// their own for every framework the fingerprinter names, and inject.sql
// to one for every SQL datastore it names, so that no detected stack gets
// only the generic advice.
func TestInjectTextsPerFramework(t *testing.T) {
	frameworks := []string{fingerprint.Flask, fingerprint.FastAPI, fingerprint.Django, fingerprint.Express,
		fingerprint.Rails, fingerprint.Spring, fingerprint.ASPNET, fingerprint.Go}
	for _, id := range []string{"inject.sql", "inject.command", "inject.template"} {
		generic := text(t, id, "generic")
		for _, fw := range frameworks {
			if got := remedy.For(id, scan.Stack{Framework: fw}); got == generic || got == "" {
				t.Errorf("For(%q, %s) = the generic text, want texts/%s/%s.md", id, fw, id, fw)
			}
		}
	}
	generic := text(t, "inject.sql", "generic")
	for _, ds := range []string{fingerprint.SQLite, fingerprint.PostgreSQL, fingerprint.MySQL, fingerprint.MSSQL, fingerprint.Oracle} {
		if got := remedy.For("inject.sql", scan.Stack{Datastore: ds}); got == generic || got == "" {
			t.Errorf("For(inject.sql, datastore %s) = the generic text, want texts/inject.sql/%s.md", ds, ds)
		}
	}
	if got := remedy.For("inject.nosql", scan.Stack{Framework: fingerprint.Django, Datastore: fingerprint.MongoDB}); got != text(t, "inject.nosql", "mongodb") {
		t.Errorf("For(inject.nosql, django+mongodb) is not the MongoDB text")
	}
}

// TestTextsBelongToChecks catches a text directory whose check was renamed
// or removed, which For would never reach.
func TestTextsBelongToChecks(t *testing.T) {
	known := make(map[string]bool)
	for _, c := range checks.All() {
		known[c.Meta().ID] = true
	}
	dirs, err := os.ReadDir("texts")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		if !known[d.Name()] {
			t.Errorf("texts/%s matches no registered check", d.Name())
		}
	}
}

// TestFixedRoutesCopy keeps one source for the Flask + DynamoDB fix: the
// embedded copy must be the testbed's fixed_routes.py byte for byte (run
// go generate ./internal/remedy after changing it), and the remediation
// must quote it whole.
func TestFixedRoutesCopy(t *testing.T) {
	const id = "property.mass-assignment"
	src, err := os.ReadFile(filepath.Join("..", "..", "testbed", "flask-dynamodb", "fixed_routes.py"))
	if err != nil {
		t.Fatal(err)
	}
	copied, err := os.ReadFile(filepath.Join("texts", id, "fixed_routes.py"))
	if err != nil {
		t.Fatal(err)
	}
	if string(copied) != string(src) {
		t.Fatalf("texts/%s/fixed_routes.py differs from testbed/flask-dynamodb/fixed_routes.py; run go generate ./internal/remedy", id)
	}
	got := remedy.For(id, scan.Stack{Framework: "flask", Datastore: "dynamodb"})
	if !strings.Contains(got, strings.TrimRight(string(src), "\n")) {
		t.Errorf("For(%q, flask+dynamodb) does not quote fixed_routes.py whole", id)
	}
	if strings.Contains(got, "{{include") {
		t.Errorf("For(%q, flask+dynamodb) left an include line unexpanded", id)
	}
	for _, want := range []string{"ExpressionAttributeNames", "ExpressionAttributeValues", "<username>", "attribute_not_exists"} {
		if !strings.Contains(got, want) {
			t.Errorf("For(%q, flask+dynamodb) lacks %q", id, want)
		}
	}
	if flask := remedy.For(id, scan.Stack{Framework: "flask"}); strings.Contains(flask, "put_item") {
		t.Errorf("For(%q, flask) = the DynamoDB text, want the plain Flask one", id)
	}
}
