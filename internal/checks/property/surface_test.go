package property_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/checks/property"
	"github.com/merlonsec/merlon/internal/scan"
)

type contextT = context.Context

func TestSurface(t *testing.T) {
	var writes int
	obs := func(ex *scan.Exchange) {
		if ex.Request.Method != http.MethodGet {
			writes++
		}
	}
	fs := checktest.Run(t, property.MassAssignmentSurface{}, newUserAPI("vulnerable").Handler(),
		checktest.WithOperations(userOps()...), checktest.WithValues(map[string]string{"username": "alice"}), checktest.WithObserver(obs))
	if writes != 0 {
		t.Errorf("surface check sent %d write requests, want none", writes)
	}
	got := byOpLoc(fs)
	for _, key := range []string{
		"GET /users/{username} @ credits, is_admin, role",
		"POST /users @ additionalProperties",
		"PATCH /users/{username} @ additionalProperties",
	} {
		if _, ok := got[key]; !ok {
			t.Errorf("no finding %q; have %v", key, checktest.Locations(fs))
		}
	}
	for _, f := range fs {
		if f.Confidence > scan.Likely || f.Severity > scan.Low {
			t.Errorf("%s: %v/%v, want at most low/likely", checktest.Describe(f), f.Severity, f.Confidence)
		}
	}
	if f := got["GET /users/{username} @ credits, is_admin, role"]; f.Severity != scan.Low || len(f.Evidence) == 0 || f.Evidence[0].Response.Status != 200 {
		t.Errorf("server-owned finding = %s with evidence %v, want low with the read that showed them", checktest.Describe(f), f.Evidence)
	}
}

func TestSurfaceSpecAnalysis(t *testing.T) {
	ops := userOps()
	closed := false
	for _, op := range ops {
		if op.RequestBody != nil {
			op.RequestBody.Schema.AdditionalProperties = &closed
			if op.Method == "POST" {
				op.RequestBody.Schema.Properties["role"] = &scan.Schema{Type: "string"}
				op.RequestBody.Schema.Properties["credits"] = &scan.Schema{Type: "integer", ReadOnly: true}
			}
		}
	}
	fs := checktest.Run(t, property.MassAssignmentSurface{}, newUserAPI("fixed").Handler(), checktest.WithOperations(ops...))
	got := byOpLoc(fs)
	if f, ok := got["POST /users @ credits, role"]; !ok || f.Confidence != scan.Likely {
		t.Errorf("privileged properties in the create schema: got %v, want a likely finding at credits, role", checktest.Locations(fs))
	}
	if _, ok := got["POST /users @ credits"]; !ok {
		t.Errorf("readOnly property in a write schema: no finding at credits; have %v", checktest.Locations(fs))
	}
	if _, ok := got["POST /users @ additionalProperties"]; ok {
		t.Errorf("additionalProperties: false still reported")
	}
}

// TestSurfaceReadOnlyWithoutWrites: a resource nobody can write has no
// mass-assignment surface, however many server-owned properties it shows.
func TestSurfaceReadOnlyWithoutWrites(t *testing.T) {
	var ops []*scan.Operation
	for _, op := range userOps() {
		if op.Method == http.MethodGet {
			ops = append(ops, op)
		}
	}
	fs := checktest.Run(t, property.MassAssignmentSurface{}, newUserAPI("vulnerable").Handler(), checktest.WithOperations(ops...))
	checktest.None(t, fs)
}

// TestSurfaceClosedContract: when every write schema forbids undeclared
// properties and lists none of the server-owned ones, what reads return is
// only a note (info) until an active scan proves the server enforces it.
func TestSurfaceClosedContract(t *testing.T) {
	ops := userOps()
	closed := false
	for _, op := range ops {
		if op.RequestBody != nil {
			op.RequestBody.Schema.AdditionalProperties = &closed
		}
	}
	fs := checktest.Run(t, property.MassAssignmentSurface{}, newUserAPI("fixed").Handler(),
		checktest.WithOperations(ops...), checktest.WithValues(map[string]string{"username": "alice"}))
	f, ok := byOpLoc(fs)["GET /users/{username} @ credits, is_admin, role"]
	if !ok {
		t.Fatalf("no server-owned note; have %v", checktest.Locations(fs))
	}
	if f.Severity != scan.Info {
		t.Errorf("server-owned properties under a closed contract = %v, want info", f.Severity)
	}
	for _, f := range fs {
		if f.Severity > scan.Info {
			t.Errorf("%s above info on a closed contract", checktest.Describe(f))
		}
	}
}
