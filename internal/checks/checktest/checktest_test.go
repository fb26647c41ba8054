package checktest_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/checks/probe"
	"github.com/merlonsec/merlon/internal/scan"
)

var meta = scan.Meta{ID: "demo.echo", Family: "demo", Title: "Echo", Category: scan.API8Misconfiguration, CWE: 200, Severity: scan.Medium}

// echoCheck requests each GET operation and reports the X-Echo header it
// finds, which exercises the target, the options and the engine together.
type echoCheck struct{}

func (echoCheck) Meta() scan.Meta { return meta }

func (echoCheck) Run(ctx context.Context, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	var out []scan.Finding
	for _, op := range probe.Gets(t, 0) {
		req := probe.Get(t, op)
		if len(t.Identities) > 0 {
			req.Identity = t.Identities[0].Name
		}
		ex, err := h.Do(ctx, req)
		if err != nil {
			return nil, err
		}
		if v := ex.Response.Header.Get("X-Echo"); v != "" {
			f := probe.Finding(meta, t, probe.Name(op), "X-Echo")
			f.Description = "echo " + v
			f.Evidence = []scan.Evidence{probe.Evidence(ex, "", v)}
			out = append(out, f)
		}
	}
	return out, nil
}

func TestRun(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			http.Error(w, "https only", http.StatusBadRequest)
			return
		}
		w.Header().Set("X-Echo", r.URL.Path+" "+r.Header.Get("X-User"))
	})
	var seen []string
	fs := checktest.Run(t, echoCheck{}, h,
		checktest.WithTLS(),
		checktest.WithOperations(checktest.Op("GET", "/users/{id}"), checktest.Op("POST", "/users")),
		checktest.WithValues(map[string]string{"id": "u7"}),
		checktest.WithIdentities(scan.Identity{Name: "alice", Headers: http.Header{"X-User": {"alice"}}}),
		checktest.WithObserver(func(ex *scan.Exchange) { seen = append(seen, ex.Request.Method+" "+ex.Request.URL) }),
	)
	f := checktest.At(t, checktest.Only(t, fs, "demo.echo"), "X-Echo")
	if f.Description != "echo /users/u7 alice" || f.Operation != "GET /users/{id}" {
		t.Errorf("finding = %s %q, want the harvested ID and alice's header over TLS", checktest.Describe(f), f.Description)
	}
	if len(seen) != 1 || !strings.HasPrefix(seen[0], "GET https://127.0.0.1:") {
		t.Errorf("observed %q, want one GET to https://127.0.0.1", seen)
	}
}

func TestOp(t *testing.T) {
	op := checktest.Op("get", "/orgs/{org}/users/{id}", scan.Parameter{Name: "id", In: "path", Example: 3}, scan.Parameter{Name: "q", In: "query"})
	var got []string
	for _, p := range op.Parameters {
		got = append(got, p.In+":"+p.Name)
	}
	if op.Method != "GET" || strings.Join(got, ",") != "path:org,path:id,query:q" {
		t.Errorf("Op = %s with %q, want GET with path:org,path:id,query:q", op.Method, got)
	}
}

func TestValidate(t *testing.T) {
	good := func() scan.Finding {
		f := scan.FromMeta(meta)
		f.Description = "d"
		f.Fingerprint = "fp"
		f.Evidence = []scan.Evidence{{Exchange: scan.Exchange{Request: scan.RecordedRequest{URL: "http://127.0.0.1/"}}}}
		return f
	}
	tests := []struct {
		name   string
		change func(*scan.Finding)
		want   string // substring of the complaint; "" for none
	}{
		{"valid", func(*scan.Finding) {}, ""},
		{"wrong check", func(f *scan.Finding) { f.CheckID = "other" }, "CheckID"},
		{"wrong category", func(f *scan.Finding) { f.Category = scan.API1BOLA }, "Category"},
		{"wrong cwe", func(f *scan.Finding) { f.CWE = 1 }, "CWE"},
		{"severity above meta", func(f *scan.Finding) { f.Severity = scan.Critical }, "Severity"},
		{"no description", func(f *scan.Finding) { f.Description = "" }, "description"},
		{"no fingerprint", func(f *scan.Finding) { f.Fingerprint = "" }, "fingerprint"},
		{"no evidence", func(f *scan.Finding) { f.Evidence = nil }, "evidence"},
	}
	for _, tt := range tests {
		f := good()
		tt.change(&f)
		bad := checktest.Validate(meta, []scan.Finding{f})
		switch {
		case tt.want == "" && len(bad) > 0:
			t.Errorf("Validate(%s) = %q, want nothing", tt.name, bad)
		case tt.want != "" && (len(bad) != 1 || !strings.Contains(bad[0], tt.want)):
			t.Errorf("Validate(%s) = %q, want a complaint about %s", tt.name, bad, tt.want)
		}
	}
	if bad := checktest.Validate(meta, []scan.Finding{good(), good()}); len(bad) != 1 || !strings.Contains(bad[0], "repeated") {
		t.Errorf("Validate(two alike) = %q, want a repeated fingerprint", bad)
	}
}
