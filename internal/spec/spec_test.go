package spec

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/scan"
	"github.com/merlonsec/merlon/internal/spec/spectest"
)

var update = flag.Bool("update", false, "rewrite testdata/generated-1000.json")

func load(t *testing.T, name string) *Spec {
	t.Helper()
	s, err := LoadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	if err != nil {
		t.Fatalf("LoadFile(%s) error: %v", name, err)
	}
	return s
}

func opByID(t *testing.T, s *Spec, id string) *scan.Operation {
	t.Helper()
	for _, op := range s.Operations {
		if op.ID == id {
			return op
		}
	}
	t.Fatalf("no operation %q in %s", id, s.Info.Source)
	return nil
}

func param(t *testing.T, op *scan.Operation, name, in string) scan.Parameter {
	t.Helper()
	for _, p := range op.Parameters {
		if p.Name == name && p.In == in {
			return p
		}
	}
	t.Fatalf("%s: no parameter %s in %s", op.ID, name, in)
	return scan.Parameter{}
}

func ids(s *Spec) []string {
	var out []string
	for _, op := range s.Operations {
		out = append(out, op.Method+" "+op.Path)
	}
	return out
}

func f64(v float64) *float64 { return &v }
func i64(v int64) *int64     { return &v }
func bp(v bool) *bool        { return &v }

func check(t *testing.T, what string, got, want any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %#v, want %#v", what, got, want)
	}
}

func TestOpenAPI30(t *testing.T) {
	s := load(t, "petstore-3.0.yaml")
	check(t, "Info", s.Info, scan.SpecInfo{
		Source: "testdata/petstore-3.0.yaml", Version: "3.0.3", Title: "Petstore",
		Servers: []string{"https://api.example.test/v1", "/v1"},
	})
	check(t, "order", ids(s), []string{"GET /pets", "POST /pets", "GET /pets/{petId}", "PUT /pets/{petId}", "DELETE /pets/{petId}"})
	check(t, "SecuritySchemes", s.SecuritySchemes, map[string]SecurityScheme{
		"bearer": {Type: "http", Scheme: "bearer", BearerFormat: "JWT"},
		"apiKey": {Type: "apiKey", In: "header", Name: "X-API-Key"},
		"oauth":  {Type: "oauth2"},
	})

	list := opByID(t, s, "listPets")
	check(t, "listPets.Tags", list.Tags, []string{"pets"})
	check(t, "listPets.Pointer", list.Pointer, "/paths/~1pets/get")
	check(t, "listPets.Source", list.Source, "spec")
	check(t, "listPets.Security", list.Security, []map[string][]string{{"bearer": {}}})
	limit := param(t, list, "limit", "query")
	check(t, "limit.Example", limit.Example, int64(10))
	check(t, "limit.Schema", limit.Schema, &scan.Schema{Type: "integer", Minimum: f64(1), Maximum: f64(100), Default: int64(20), Example: int64(10)})
	check(t, "tag.Schema.Enum", param(t, list, "tag", "query").Schema.Enum, []any{"dog", "cat"})
	items := list.Responses["200"].Schema.Items
	check(t, "list item Ref", items.Ref, "Pet")

	create := opByID(t, s, "createPet")
	check(t, "createPet.Security", create.Security, []map[string][]string{{"bearer": {}}, {"apiKey": {}, "oauth": {"pets:write"}}})
	rb := create.RequestBody
	check(t, "createPet.RequestBody.ContentType", rb.ContentType, "application/json")
	check(t, "createPet.RequestBody.Required", rb.Required, true)
	check(t, "createPet.RequestBody.Example", rb.Example, map[string]any{"name": "Rex", "tag": "dog"})
	newPet := rb.Schema
	check(t, "NewPet.Ref", newPet.Ref, "NewPet")
	check(t, "NewPet.AdditionalProperties", newPet.AdditionalProperties, bp(false))
	check(t, "NewPet.Required", newPet.Required, []string{"name"})
	check(t, "NewPet.name", newPet.Properties["name"], &scan.Schema{
		Type: "string", MinLength: i64(1), MaxLength: i64(64), Pattern: "^[A-Za-z ]+$", Example: "Rex"})
	check(t, "NewPet.tag.Nullable", newPet.Properties["tag"].Nullable, true)
	check(t, "NewPet.isAdmin", newPet.Properties["isAdmin"], &scan.Schema{Type: "boolean", Default: false, WriteOnly: true})

	get := opByID(t, s, "getPet")
	check(t, "getPet.Summary", get.Summary, "Show one pet")
	check(t, "getPet.Parameters", len(get.Parameters), 2)
	check(t, "petId schema (path item)", param(t, get, "petId", "path").Schema.Type, "string")
	pet := get.Responses["200"].Schema
	check(t, "Pet.Ref", pet.Ref, "Pet")
	check(t, "Pet.Required (allOf)", pet.Required, []string{"name", "id"})
	check(t, "Pet.id.ReadOnly", pet.Properties["id"].ReadOnly, true)
	check(t, "Pet.owner.AdditionalProperties", pet.Properties["owner"].AdditionalProperties, bp(true))
	check(t, "Pet.AdditionalProperties (from allOf)", pet.AdditionalProperties, bp(false))
	check(t, "getPet default ref", get.Responses["default"].Schema.Ref, "Error")
	if _, ok := get.Responses["default"]; !ok {
		t.Errorf("getPet.Responses lacks default")
	}

	put := opByID(t, s, "updatePet")
	petID := param(t, put, "petId", "path")
	check(t, "petId overridden by operation", petID.Schema, &scan.Schema{Type: "integer", Format: "int64", Minimum: f64(1)})
	check(t, "petId.Example", petID.Example, int64(42))
	check(t, "put keeps path-item header", param(t, put, "X-Trace", "header").In, "header")
	check(t, "updatePet.RequestBody.Example", put.RequestBody.Example, map[string]any{"name": "Tom"})

	del := opByID(t, s, "DELETE /pets/{petId}")
	check(t, "delete.Deprecated", del.Deprecated, true)
	if del.Security == nil || len(del.Security) != 0 {
		t.Errorf("delete.Security = %#v, want empty non-nil (explicitly public)", del.Security)
	}
	check(t, "delete.Responses", del.Responses, map[string]*scan.Response{"204": {}})
	check(t, "delete.Pointer", del.Pointer, "/paths/~1pets~1{petId}/delete")
}

func TestOpenAPI31(t *testing.T) {
	s := load(t, "petstore-3.1.json")
	check(t, "Version", s.Info.Version, "3.1.0")
	op := opByID(t, s, "GET /pets/{id}")
	check(t, "id.Example (examples)", param(t, op, "id", "path").Example, "8f1c")
	pet := op.Responses["200"].Schema
	tests := []struct {
		name string
		got  *scan.Schema
		want *scan.Schema
	}{
		{"nickname: type array with null", pet.Properties["nickname"], &scan.Schema{Type: "string", Nullable: true, Example: "Fluffy"}},
		{"age: null first", pet.Properties["age"], &scan.Schema{Type: "integer", Nullable: true}},
		{"owner: $ref with siblings", pet.Properties["owner"], &scan.Schema{Ref: "Owner", Type: "object", ReadOnly: true,
			Properties: map[string]*scan.Schema{"email": {Type: "string", Format: "email"}}}},
		{"extra: additionalProperties true", pet.Properties["extra"], &scan.Schema{Type: "object", AdditionalProperties: bp(true)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { check(t, tt.name, tt.got, tt.want) })
	}
	if pet.Properties["owner"].Ref != "Owner" {
		t.Errorf("Owner not kept")
	}
}

func TestSwagger20(t *testing.T) {
	t.Run("json", func(t *testing.T) {
		s := load(t, "swagger-2.0.json")
		check(t, "Info.Servers", s.Info.Servers, []string{"https://api.example.test/v2"})
		check(t, "Info.Version", s.Info.Version, "2.0")
		check(t, "SecuritySchemes", s.SecuritySchemes, map[string]SecurityScheme{
			"basic": {Type: "http", Scheme: "basic"},
			"key":   {Type: "apiKey", In: "header", Name: "X-Key"},
			"oauth": {Type: "oauth2"},
		})
		add := opByID(t, s, "addPet")
		check(t, "addPet.Security (global)", add.Security, []map[string][]string{{"key": {}}})
		check(t, "addPet.RequestBody.ContentType", add.RequestBody.ContentType, "application/json")
		check(t, "addPet.RequestBody.Required", add.RequestBody.Required, true)
		check(t, "addPet.RequestBody.Schema.Ref", add.RequestBody.Schema.Ref, "Pet")
		check(t, "addPet.RequestBody.Example", add.RequestBody.Example, nil)
		check(t, "Pet.note x-nullable", add.RequestBody.Schema.Properties["note"].Nullable, true)
		check(t, "addPet.Parameters", len(add.Parameters), 0)
		check(t, "addPet.Responses[200].ContentType", add.Responses["200"].ContentType, "application/json")

		find := opByID(t, s, "findPets")
		if find.Security == nil || len(find.Security) != 0 {
			t.Errorf("findPets.Security = %#v, want empty non-nil", find.Security)
		}
		limit := param(t, find, "limit", "query")
		check(t, "limit", limit, scan.Parameter{Name: "limit", In: "query", Schema: &scan.Schema{Type: "integer", Maximum: f64(50)}, Example: int64(5)})
		check(t, "status.Schema.Items.Enum", param(t, find, "status", "query").Schema.Items.Enum, []any{"available", "sold"})
		check(t, "findPets default", find.Responses["default"].Schema.Ref, "Error")

		up := opByID(t, s, "uploadPhoto")
		check(t, "uploadPhoto petId", param(t, up, "petId", "path").Schema, &scan.Schema{Type: "integer", Format: "int64"})
		check(t, "uploadPhoto.RequestBody", up.RequestBody, &scan.RequestBody{
			Required: true, ContentType: "multipart/form-data",
			Schema: &scan.Schema{Type: "object", Required: []string{"file"}, Properties: map[string]*scan.Schema{
				"caption": {Type: "string"}, "file": {Type: "file"}}},
		})
		check(t, "uploadPhoto.Responses", up.Responses, map[string]*scan.Response{"204": {}})
	})
	t.Run("yaml", func(t *testing.T) {
		s := load(t, "swagger-2.0.yaml")
		check(t, "Info.Servers", s.Info.Servers, []string{"//form.example.test/api"})
		login := opByID(t, s, "POST /login")
		check(t, "login.Security", login.Security, []map[string][]string(nil))
		check(t, "login.RequestBody.ContentType", login.RequestBody.ContentType, "application/x-www-form-urlencoded")
		check(t, "login.RequestBody.Schema.Required", login.RequestBody.Schema.Required, []string{"user", "password"})
		check(t, "login password format", login.RequestBody.Schema.Properties["password"].Format, "password")
		user := opByID(t, s, "GET /users/{id}")
		check(t, "users.Security", user.Security, []map[string][]string{{"basic": {}}})
		check(t, "users 200 roles", user.Responses["200"].Schema.Properties["roles"].Items, &scan.Schema{Type: "string"})
	})
}

func TestRefs(t *testing.T) {
	t.Run("chain A->B->C", func(t *testing.T) {
		s := load(t, "refchain.yaml")
		got := s.Operations[0].Responses["200"].Schema
		check(t, "schema", got, &scan.Schema{Ref: "A", Type: "object", Properties: map[string]*scan.Schema{"c": {Type: "string"}}})
	})
	t.Run("circular", func(t *testing.T) {
		s := load(t, "circular.yaml")
		node := opByID(t, s, "GET /nodes").Responses["200"].Schema
		check(t, "Node.Circular", node.Circular, false)
		check(t, "Node.children.items", node.Properties["children"].Items, &scan.Schema{Ref: "Node", Type: "object", Circular: true})
		ab := opByID(t, s, "POST /ab")
		a := ab.RequestBody.Schema
		check(t, "A.b.a", a.Properties["b"].Properties["a"], &scan.Schema{Ref: "A", Type: "object", Circular: true})
		b := ab.Responses["200"].Schema
		check(t, "B.Ref", b.Ref, "B")
		check(t, "B.a.b.a", b.Properties["a"].Properties["b"].Properties["a"], &scan.Schema{Ref: "A", Type: "object", Circular: true})
	})
	t.Run("composition", func(t *testing.T) {
		s := load(t, "composition.yaml")
		op := s.Operations[0]
		body := op.RequestBody.Schema
		check(t, "allOf Required", body.Required, []string{"name", "lives"})
		check(t, "allOf Type", body.Type, "object")
		check(t, "allOf kind", body.Properties["kind"], &scan.Schema{Type: "string", ReadOnly: true})
		check(t, "allOf lives", body.Properties["lives"], &scan.Schema{Type: "integer"})
		one := op.Responses["200"].Schema.OneOf
		var refs []string
		for _, o := range one {
			refs = append(refs, o.Ref+":"+o.Type)
		}
		check(t, "oneOf+anyOf", refs, []string{"Cat:object", "Dog:object", ":string"})
	})
	t.Run("external file", func(t *testing.T) {
		s := load(t, "external/main.yaml")
		op := s.Operations[0]
		check(t, "param from file", op.Parameters, []scan.Parameter{{Name: "id", In: "path", Required: true, Schema: &scan.Schema{Type: "string", Format: "uuid"}}})
		user := op.Responses["200"].Schema
		check(t, "User.Ref", user.Ref, "User")
		check(t, "User.address", user.Properties["address"], &scan.Schema{Ref: "address", Type: "object", Properties: map[string]*scan.Schema{"city": {Type: "string"}}})
		check(t, "User.manager", user.Properties["manager"], &scan.Schema{Ref: "User", Type: "object", Circular: true})
	})
	t.Run("external file without BaseDir", func(t *testing.T) {
		data, err := os.ReadFile("testdata/external/main.yaml")
		if err != nil {
			t.Fatal(err)
		}
		s, err := Parse(data, Options{Source: "main.yaml"})
		if err != nil {
			t.Fatalf("Parse without BaseDir error: %v", err)
		}
		check(t, "unfollowed ref", s.Operations[0].Responses["200"].Schema, &scan.Schema{Ref: "User"})
	})
	t.Run("path-item parameters", func(t *testing.T) {
		s := load(t, "pathparams.yaml")
		var got []string
		for _, p := range s.Operations[0].Parameters {
			got = append(got, p.In+":"+p.Name+":"+p.Schema.Type)
		}
		check(t, "params", got, []string{"path:org:string", "path:repo:integer", "query:verbose:boolean", "header:verbose:string"})
	})
	t.Run("no servers", func(t *testing.T) {
		s := load(t, "noservers.yaml")
		check(t, "Servers", s.Info.Servers, []string(nil))
		check(t, "ops", ids(s), []string{"GET /ping"})
	})
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name string
		data string
		file string
		want string
	}{
		{name: "dangling ref", file: "dangling.yaml",
			want: `parse spec dangling.yaml: unresolved $ref "#/components/schemas/Missing" at /paths/~1users/get/responses/200/content/application~1json/schema`},
		{name: "malformed yaml", file: "malformed.yaml", want: "parse spec malformed.yaml: malformed YAML: "},
		{name: "not openapi", data: "title: hello\nitems: [1, 2]\n",
			want: `parse spec api.yaml: not an OpenAPI or Swagger document (no "openapi" or "swagger" key)`},
		{name: "openapi 4", data: "openapi: 4.0.0\ninfo: {title: x, version: '1'}\npaths: {}\n",
			want: `parse spec api.yaml: unsupported OpenAPI version "4.0.0"`},
		{name: "swagger 1.2", data: "swagger: '1.2'\npaths: {}\n", want: `parse spec api.yaml: unsupported Swagger version "1.2"`},
		{name: "empty", data: "  \n", want: "parse spec api.yaml: empty document"},
		{name: "malformed json", data: "{\n  \"openapi\": \"3.0.0\",\n  \"paths\": {,}\n}\n", want: "parse spec api.yaml: malformed JSON: line 3"},
		{name: "bad param ref", data: "openapi: 3.0.0\ninfo: {title: x, version: '1'}\npaths:\n  /a:\n    get:\n      parameters:\n        - $ref: '#/components/parameters/Nope'\n      responses: {'200': {description: ok}}\n",
			want: `parse spec api.yaml: unresolved $ref "#/components/parameters/Nope" at /paths/~1a/get/parameters/0`},
		{name: "missing file", data: "openapi: 3.0.0\ninfo: {title: x, version: '1'}\npaths:\n  /a:\n    get:\n      responses: {'200': {$ref: 'nope.yaml#/R'}}\n",
			want: `parse spec api.yaml: unresolved $ref "nope.yaml#/R" at /paths/~1a/get/responses/200: open `},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.file != "" {
				data, rerr := os.ReadFile(filepath.Join("testdata", tt.file))
				if rerr != nil {
					t.Fatal(rerr)
				}
				_, err = Parse(data, Options{Source: tt.file, BaseDir: "testdata"})
			} else {
				_, err = Parse([]byte(tt.data), Options{Source: "api.yaml", BaseDir: t.TempDir()})
			}
			if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
				t.Fatalf("Parse(%s) error = %v, want prefix %q", tt.name, err, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("Parse(%s) error has several lines: %q", tt.name, err)
			}
		})
	}
}

func TestMalformedYAMLNamesLine(t *testing.T) {
	_, err := LoadFile("testdata/malformed.yaml")
	if err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Fatalf("LoadFile(malformed.yaml) error = %v, want it to name line 4", err)
	}
}

func TestSniff(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"openapi yaml", "openapi: 3.0.0\ninfo: {}\n", true},
		{"swagger yaml after comment", "# api\nswagger: \"2.0\"\n", true},
		{"quoted key", "'openapi': 3.1.0\n", true},
		{"openapi json", `{"info": {"openapi": "no"}, "openapi": "3.1.0"}`, true},
		{"swagger json", ` {"swagger":"2.0"}`, true},
		{"nested key only", `{"info": {"openapi": "3.0.0"}}`, false},
		{"indented yaml key", "info:\n  openapi: 3.0.0\n", false},
		{"html", "<!doctype html><html></html>", false},
		{"json array", `["openapi"]`, false},
		{"empty", "", false},
		{"broken json", `{"openapi"`, false},
	}
	for _, tt := range tests {
		if got := Sniff([]byte(tt.in)); got != tt.want {
			t.Errorf("Sniff(%s) = %v, want %v", tt.name, got, tt.want)
		}
	}
	for _, f := range []string{"petstore-3.0.yaml", "petstore-3.1.json", "swagger-2.0.json", "swagger-2.0.yaml", "generated-1000.json"} {
		data, err := os.ReadFile(filepath.Join("testdata", f))
		if err != nil {
			t.Fatal(err)
		}
		if !Sniff(data) {
			t.Errorf("Sniff(%s) = false, want true", f)
		}
	}
}

func TestGenerated(t *testing.T) {
	got := spectest.Generate(1000)
	golden := filepath.Join("testdata", "generated-1000.json")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if string(got) != string(want) {
		t.Fatalf("Generate(1000) differs from %s; run go test ./internal/spec -run TestGenerated -update", golden)
	}
	s, err := Parse(got, Options{Source: "generated"})
	if err != nil {
		t.Fatalf("Parse(Generate(1000)) error: %v", err)
	}
	if len(s.Operations) != 1000 {
		t.Fatalf("Parse(Generate(1000)) has %d operations, want 1000", len(s.Operations))
	}
	for _, n := range []int{0, 1, 7} {
		s, err := Parse(spectest.Generate(n), Options{Source: "generated"})
		if err != nil {
			t.Fatalf("Parse(Generate(%d)) error: %v", n, err)
		}
		if len(s.Operations) != n {
			t.Errorf("Parse(Generate(%d)) has %d operations, want %d", n, len(s.Operations), n)
		}
	}
}

func BenchmarkParse1000(b *testing.B) {
	data := spectest.Generate(1000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, Options{Source: "generated"}); err != nil {
			b.Fatal(err)
		}
	}
}
