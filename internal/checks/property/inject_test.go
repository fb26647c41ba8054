package property_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/checks/property"
	"github.com/merlonsec/merlon/internal/scan"
)

func byOpLoc(fs []scan.Finding) map[string]scan.Finding {
	m := make(map[string]scan.Finding)
	for _, f := range fs {
		m[f.Operation+" @ "+f.Location] = f
	}
	return m
}

func TestMassAssignmentVulnerable(t *testing.T) {
	api := newUserAPI("vulnerable")
	fs := checktest.Run(t, property.MassAssignment{}, api.Handler(), checktest.WithActive(), checktest.WithOperations(userOps()...))
	got := byOpLoc(fs)
	tests := []struct {
		key  string
		sev  scan.Severity
		conf scan.Confidence
	}{
		{"PATCH /users/{username} @ is_admin", scan.High, scan.Confirmed},
		{"PATCH /users/{username} @ role", scan.High, scan.Confirmed},
		{"PATCH /users/{username} @ credits", scan.High, scan.Confirmed},
		{"POST /users @ is_admin", scan.High, scan.Confirmed},
		{"PATCH /users/{username} @ merlon_canary_* (unknown attribute)", scan.Medium, scan.Confirmed},
		{"POST /users @ merlon_canary_* (unknown attribute)", scan.Medium, scan.Confirmed},
		{"GET /admin/stats @ X-User via PATCH /users/{username}", scan.Critical, scan.Confirmed},
	}
	for _, tt := range tests {
		f, ok := got[tt.key]
		if !ok {
			t.Errorf("no finding %q; have %v", tt.key, checktest.Locations(fs))
			continue
		}
		if f.Severity != tt.sev || f.Confidence != tt.conf {
			t.Errorf("%s = %v/%v, want %v/%v", tt.key, f.Severity, f.Confidence, tt.sev, tt.conf)
		}
	}
	// The escalation's evidence is the whole sequence, in order.
	esc := got["GET /admin/stats @ X-User via PATCH /users/{username}"]
	var seq []string
	for _, e := range esc.Evidence {
		seq = append(seq, e.Request.Method+" "+strings.SplitN(e.Request.URL, "/", 4)[3]+" "+http.StatusText(e.Response.Status))
	}
	want := []string{"POST users Created", "GET users/merlon-", "GET admin/stats Forbidden", "PATCH users/merlon-", "GET users/merlon-", "GET admin/stats OK"}
	if len(seq) != len(want) {
		t.Fatalf("escalation evidence = %q, want %d exchanges like %q", seq, len(want), want)
	}
	for i := range want {
		if !strings.HasPrefix(seq[i], want[i]) {
			t.Errorf("escalation evidence[%d] = %q, want %q…", i, seq[i], want[i])
		}
	}
	if n := api.count(); n != 1 {
		t.Errorf("users left after the check = %d, want 1 (only the seeded alice)", n)
	}
}

// TestMassAssignmentCleanTwins: APIs that do not store what they should
// not give no finding, whether they drop, reject, or merely echo extras.
func TestMassAssignmentCleanTwins(t *testing.T) {
	for _, mode := range []string{"fixed", "strict", "echo"} {
		t.Run(mode, func(t *testing.T) {
			api := newUserAPI(mode)
			fs := checktest.Run(t, property.MassAssignment{}, api.Handler(), checktest.WithActive(), checktest.WithOperations(userOps()...))
			checktest.None(t, fs)
			if n := api.count(); n != 1 {
				t.Errorf("users left after the check = %d, want 1", n)
			}
		})
	}
}

// TestMassAssignmentBudget counts what the check sends: fixed costs per
// resource plus a bounded number per probed field, as docs/checks.md says.
func TestMassAssignmentBudget(t *testing.T) {
	tests := []struct {
		mode string
		max  int
	}{
		// vulnerable: create, read, admin, 2×(update, read), admin, 2×(key update)…,
		// 2×(create, read), deletes: independent of the number of fields.
		{"vulnerable", 20},
		// strict: every grouped write is refused, so one field per write,
		// at most 8 updates and 4 creates.
		{"strict", 30},
		{"fixed", 14},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			var n, writes atomic.Int64
			obs := func(ex *scan.Exchange) {
				n.Add(1)
				if ex.Request.Method != http.MethodGet {
					writes.Add(1)
				}
			}
			checktest.Run(t, property.MassAssignment{}, newUserAPI(tt.mode).Handler(), checktest.WithActive(),
				checktest.WithOperations(userOps()...), checktest.WithObserver(obs))
			t.Logf("%s: %d requests, %d writes", tt.mode, n.Load(), writes.Load())
			if got := int(n.Load()); got > tt.max || got < 4 {
				t.Errorf("requests = %d, want between 4 and %d", got, tt.max)
			}
		})
	}
}

// TestMassAssignmentCleanupNote: with no DELETE, every created object is
// named in a note.
func TestMassAssignmentCleanupNote(t *testing.T) {
	var ops []*scan.Operation
	for _, op := range userOps() {
		if op.Method != http.MethodDelete {
			ops = append(ops, op)
		}
	}
	api := newUserAPI("fixed")
	notes := &scan.Notes{}
	checktest.Run(t, noteCheck{notes}, api.Handler(), checktest.WithActive(), checktest.WithOperations(ops...))
	left := api.count() - 1
	if got := len(notes.All()); left == 0 || got != left {
		t.Errorf("notes = %q for %d objects left, want one per object", notes.All(), left)
	}
	for _, n := range notes.All() {
		if !strings.Contains(n, "/users/merlon-") || !strings.Contains(n, "POST /users") {
			t.Errorf("note %q does not name the object and how it was created", n)
		}
	}
}

// noteCheck runs MassAssignment with a target that collects notes.
type noteCheck struct{ notes *scan.Notes }

func (c noteCheck) Meta() scan.Meta { return property.MassAssignment{}.Meta() }
func (c noteCheck) Run(ctx contextT, t *scan.Target, h scan.Requester) ([]scan.Finding, error) {
	t.Notes = c.notes
	return property.MassAssignment{}.Run(ctx, t, h)
}

// TestMassAssignmentSecondValue: an API that stores an extra field's first
// value but ignores later writes of it shows the attribute is client
// writable once, not that the client controls it; only findings whose
// second, different value was read back too are confirmed.
func TestMassAssignmentSecondValue(t *testing.T) {
	api := newUserAPI("writeonce")
	fs := checktest.Run(t, property.MassAssignment{}, api.Handler(), checktest.WithActive(), checktest.WithOperations(userOps()...))
	got := byOpLoc(fs)
	tests := []struct {
		key  string
		conf scan.Confidence
	}{
		// Each update writes the same object twice: the second value
		// never sticks.
		{"PATCH /users/{username} @ is_admin", scan.Likely},
		{"PATCH /users/{username} @ role", scan.Likely},
		{"PATCH /users/{username} @ merlon_canary_* (unknown attribute)", scan.Likely},
		// Each create is a new object, so both values stick.
		{"POST /users @ is_admin", scan.Confirmed},
	}
	for _, tt := range tests {
		f, ok := got[tt.key]
		if !ok {
			t.Errorf("no finding %q; have %v", tt.key, checktest.Locations(fs))
			continue
		}
		if f.Confidence != tt.conf {
			t.Errorf("%s confidence = %v, want %v", tt.key, f.Confidence, tt.conf)
		}
		if tt.conf == scan.Likely && !strings.Contains(f.Description, "not read back") {
			t.Errorf("%s description does not say the second value was not read back: %s", tt.key, f.Description)
		}
	}
}

// TestMassAssignmentSelfEscalation: where the caller is named by a token,
// the chain runs on the identity's own record (/me), and the record gets
// its original values back.
func TestMassAssignmentSelfEscalation(t *testing.T) {
	alice := scan.Identity{Name: "alice", Role: "user", Headers: http.Header{"Authorization": {"Bearer tok-alice"}}}
	ops := append(userOps(), meOps()...)
	t.Run("vulnerable", func(t *testing.T) {
		api := newUserAPI("vulnerable")
		fs := checktest.Run(t, property.MassAssignment{}, api.Handler(), checktest.WithActive(),
			checktest.WithOperations(ops...), checktest.WithIdentities(alice))
		f, found := byOpLoc(fs)["GET /admin/stats @ alice via PATCH /me"]
		if !found {
			t.Fatalf("no self escalation; have %v", checktest.Locations(fs))
		}
		if f.Severity != scan.Critical || f.Confidence != scan.Confirmed {
			t.Errorf("self escalation = %v/%v, want critical/confirmed", f.Severity, f.Confidence)
		}
		var seq []string
		for _, e := range f.Evidence {
			seq = append(seq, fmt.Sprintf("%s %s %d as %s", e.Request.Method, e.Request.URL[strings.LastIndex(e.Request.URL, "/"):], e.Response.Status, e.Request.Identity))
		}
		want := []string{"GET /stats 403 as alice", "GET /me 200 as alice", "PATCH /me 200 as alice", "GET /me 200 as alice", "GET /stats 200 as alice"}
		if !slices.Equal(seq, want) {
			t.Errorf("evidence = %q, want %q", seq, want)
		}
		if u := api.user("alice"); u["is_admin"] != false || u["role"] != "user" {
			t.Errorf("alice after the check = %v, want is_admin false and role user restored", u)
		}
	})
	t.Run("fixed", func(t *testing.T) {
		api := newUserAPI("fixed")
		fs := checktest.Run(t, property.MassAssignment{}, api.Handler(), checktest.WithActive(),
			checktest.WithOperations(ops...), checktest.WithIdentities(alice))
		checktest.None(t, fs)
	})
}
