package report_test

import (
	"bytes"
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/report"
	"github.com/merlonsec/merlon/internal/report/reporttest"
	"github.com/merlonsec/merlon/internal/scan"
)

func TestNew(t *testing.T) {
	tests := []struct {
		format  string
		wantErr string
	}{
		{"text", ""},
		{"json", ""},
		{" JSON ", ""},
		{"xml", `unknown format "xml" (want one of text, json, sarif, junit, markdown, html, pdf)`},
		{"", `unknown format "" (want one of text, json, sarif, junit, markdown, html, pdf)`},
	}
	for _, tt := range tests {
		r, err := report.New(tt.format, report.Options{})
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("New(%q) error = %v, want %q", tt.format, err, tt.wantErr)
			}
			continue
		}
		if err != nil || r == nil {
			t.Errorf("New(%q) = %v, %v; want a renderer", tt.format, r, err)
		}
	}
}

func TestFormatsAllWork(t *testing.T) {
	fs := report.Formats()
	if !slices.Equal(fs, []string{"text", "json", "sarif", "junit", "markdown", "html", "pdf"}) {
		t.Errorf("Formats() = %q, want all seven formats", fs)
	}
	fs[0] = "changed"
	if report.Formats()[0] != "text" {
		t.Errorf("Formats() shares its slice with the caller")
	}
	for _, f := range report.Formats() {
		r, err := report.New(f, report.Options{Color: true, Verbose: true})
		if err != nil {
			t.Fatalf("New(%q): %v", f, err)
		}
		var buf bytes.Buffer
		if err := r.Render(&buf, reporttest.Fixture()); err != nil {
			t.Errorf("%s: Render: %v", f, err)
		}
		if !strings.Contains(buf.String(), reporttest.Target) {
			t.Errorf("%s: output does not name the target", f)
		}
	}
}

func TestOptionsReachText(t *testing.T) {
	r, err := report.New("text", report.Options{Color: true})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.Render(&buf, reporttest.Fixture()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "\x1b[1;31mGRADE F") {
		t.Errorf("Options.Color did not reach the text renderer")
	}
}

// validUTF8 replaces invalid UTF-8 in every string of v, as JSON encoding
// does: the one way a report changes on its trip through JSON.
func validUTF8(v reflect.Value) {
	switch v.Kind() {
	case reflect.String:
		if v.CanSet() {
			v.SetString(replaceInvalid(v.String()))
		}
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			validUTF8(v.Elem())
		}
	case reflect.Struct:
		for i := range v.NumField() {
			validUTF8(v.Field(i))
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			validUTF8(v.Index(i))
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			e := reflect.New(v.Type().Elem()).Elem()
			e.Set(v.MapIndex(k))
			validUTF8(e)
			v.SetMapIndex(k, e)
		}
	}
}

// replaceInvalid turns each byte of invalid UTF-8 into U+FFFD.
func replaceInvalid(s string) string {
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r) // ranging yields utf8.RuneError per invalid byte
	}
	return b.String()
}

func roundTrip(t *testing.T, rep *scan.Report) *scan.Report {
	t.Helper()
	r, err := report.New("json", report.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := r.Render(&buf, rep); err != nil {
		t.Fatalf("Render: %v", err)
	}
	got, err := report.ReadJSON(&buf)
	if err != nil {
		t.Fatalf("ReadJSON: %v", err)
	}
	return got
}

func TestJSONRoundTrip(t *testing.T) {
	for name, fixture := range map[string]func() *scan.Report{
		"fixture":   reporttest.Fixture,
		"unreached": reporttest.Unreached,
	} {
		t.Run(name, func(t *testing.T) {
			got := roundTrip(t, fixture())
			want := fixture()
			validUTF8(reflect.ValueOf(want))
			if !reflect.DeepEqual(got, want) {
				for i := range min(len(got.Findings), len(want.Findings)) {
					if !reflect.DeepEqual(got.Findings[i], want.Findings[i]) {
						t.Errorf("finding %d:\n got  %+v\n want %+v", i, got.Findings[i], want.Findings[i])
					}
				}
				got.Findings, want.Findings = nil, nil
				t.Errorf("ReadJSON(Render(%s)) differs from the input:\n got  %+v\n want %+v", name, got, want)
			}
			if again := roundTrip(t, got); !reflect.DeepEqual(again, got) {
				t.Errorf("a second round trip changed the report")
			}
		})
	}
}

func TestReadJSONEmptyFindings(t *testing.T) {
	got, err := report.ReadJSON(strings.NewReader(`{"schemaVersion":"1"}`))
	if err != nil {
		t.Fatalf("ReadJSON: %v", err)
	}
	if got.Findings == nil {
		t.Errorf("ReadJSON without findings gives nil Findings, want an empty slice")
	}
}

func TestReadJSONVersions(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr error
		msg     string
	}{
		{"current", `{"schemaVersion":"1","target":"https://a.test"}`, nil, ""},
		{"newer minor with new fields", `{"schemaVersion":"1.4","target":"https://a.test","futureField":{"x":1}}`, nil, ""},
		{"next major", `{"schemaVersion":"2","target":"https://a.test"}`, report.ErrSchemaVersion,
			`read json report: unsupported report schemaVersion "2": this Merlon reads version 1.x`},
		{"old major", `{"schemaVersion":"0.9"}`, report.ErrSchemaVersion, `"0.9"`},
		{"missing", `{"target":"https://a.test"}`, report.ErrNotReport, "no schemaVersion"},
		{"empty", `{"schemaVersion":""}`, report.ErrNotReport, "no schemaVersion"},
		{"not json", `<html>`, nil, "read json report: invalid character"},
		{"bad severity", `{"schemaVersion":"1","findings":[{"severity":"severe"}]}`, nil, `unknown severity "severe"`},
		{"trailing garbage", `{"schemaVersion":"1"} {}`, nil, "read json report"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := report.ReadJSON(strings.NewReader(tt.in))
			if tt.msg == "" {
				if err != nil || got.Target != "https://a.test" {
					t.Errorf("ReadJSON(%s) = %+v, %v; want the report", tt.in, got, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("ReadJSON(%s) = nil error, want one containing %q", tt.in, tt.msg)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("ReadJSON(%s) error = %q, want it to contain %q", tt.in, err, tt.msg)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Errorf("ReadJSON(%s) error = %v, want errors.Is %v", tt.in, err, tt.wantErr)
			}
		})
	}
}

func FuzzReadJSON(f *testing.F) {
	var buf bytes.Buffer
	r, _ := report.New("json", report.Options{})
	if err := r.Render(&buf, reporttest.Fixture()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`{"schemaVersion":"1","findings":null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep, err := report.ReadJSON(bytes.NewReader(data))
		if err != nil {
			return
		}
		// Whatever ReadJSON accepts, Merlon can write and read back the same.
		once := roundTrip(t, rep)
		if twice := roundTrip(t, once); !reflect.DeepEqual(once, twice) {
			t.Fatalf("round trip is not stable for %q", data)
		}
	})
}

// TestHiddenRunesEscapedEverywhere: a zero-width space, a soft hyphen, a
// byte order mark and a bidi override in target text reach no
// human-readable format raw (JSON keeps data as it is; PDF has its own
// test).
func TestHiddenRunesEscapedEverywhere(t *testing.T) {
	const hidden = "\u200b\u00ad\ufeff\u202e"
	rep := reporttest.Fixture()
	rep.Findings[0].Title = "Mass assignment" + hidden
	rep.Findings[0].Description += hidden
	for _, f := range []string{"text", "markdown", "html", "sarif", "junit"} {
		t.Run(f, func(t *testing.T) {
			r, err := report.New(f, report.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var b bytes.Buffer
			if err := r.Render(&b, rep); err != nil {
				t.Fatal(err)
			}
			for _, c := range hidden {
				if strings.ContainsRune(b.String(), c) {
					t.Errorf("%s output holds U+%04X raw", f, c)
				}
			}
		})
	}
}
