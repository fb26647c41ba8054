package authz_test

import (
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/authz"
	"github.com/merlonsec/merlon/internal/checks/checktest"
	"github.com/merlonsec/merlon/internal/scan"
)

// byOp indexes findings by operation.
func byOp(fs []scan.Finding) map[string]scan.Finding {
	m := make(map[string]scan.Finding)
	for _, f := range fs {
		m[f.Operation] = f
	}
	return m
}

func TestBOLA(t *testing.T) {
	tests := []struct {
		name   string
		mode   string
		active bool
		want   map[string]scan.Confidence
	}{
		{"vulnerable passive", "vulnerable", false, map[string]scan.Confidence{"GET /notes/{id}": scan.Confirmed}},
		{"vulnerable active", "vulnerable", true, map[string]scan.Confidence{
			"GET /notes/{id}": scan.Confirmed, "PATCH /notes/{id}": scan.Confirmed, "DELETE /notes/{id}": scan.Confirmed}},
		{"fixed passive", "fixed", false, nil},
		{"fixed active", "fixed", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := newNoteAPI(tt.mode)
			opts := []checktest.Option{checktest.WithOperations(noteOps()...),
				checktest.WithIdentities(ident("alice"), ident("bob"), ident("root"))}
			if tt.active {
				opts = append(opts, checktest.WithActive())
			}
			got := byOp(checktest.Run(t, authz.BOLA{}, api.Handler(), opts...))
			if len(got) != len(tt.want) {
				var have []string
				for op, f := range got {
					have = append(have, op+" "+f.Title)
				}
				t.Fatalf("BOLA findings = %q, want on %d operations", have, len(tt.want))
			}
			for op, conf := range tt.want {
				f, ok := got[op]
				if !ok {
					t.Errorf("no finding on %s", op)
					continue
				}
				if f.Confidence != conf {
					t.Errorf("%s: confidence = %v, want %v", op, f.Confidence, conf)
				}
				for _, ev := range f.Evidence {
					if ev.Request.Identity == "root" {
						t.Errorf("%s: evidence from the admin, whose reach is legitimate", op)
					}
				}
			}
			if _, ok := got["GET /items/{id}"]; ok {
				t.Errorf("public item reported as BOLA")
			}
			if n := api.count(); n != 3 && tt.active {
				t.Errorf("notes after the run = %d, want 3 (everything created deleted)", n)
			}
		})
	}
}

// The evidence of a confirmed read names both identities.
func TestBOLAEvidenceIdentities(t *testing.T) {
	fs := checktest.Run(t, authz.BOLA{}, newNoteAPI("vulnerable").Handler(),
		checktest.WithOperations(noteOps()...), checktest.WithIdentities(ident("alice"), ident("bob")))
	f := checktest.At(t, fs, "id")
	var who []string
	for _, ev := range f.Evidence {
		who = append(who, ev.Request.Identity)
	}
	if s := strings.Join(who, ","); !strings.Contains(s, "alice") || !strings.Contains(s, "bob") || !strings.Contains(s, scan.Anonymous) {
		t.Errorf("evidence identities = %s, want alice, bob and anonymous", s)
	}
}

func TestBOLANeedsTwoIdentities(t *testing.T) {
	var requests int
	fs := checktest.Run(t, authz.BOLA{}, newNoteAPI("vulnerable").Handler(),
		checktest.WithOperations(noteOps()...), checktest.WithIdentities(ident("alice")),
		checktest.WithObserver(func(*scan.Exchange) { requests++ }))
	checktest.None(t, fs)
	if requests != 0 {
		t.Errorf("requests with one identity = %d, want 0", requests)
	}
}

func TestBFLA(t *testing.T) {
	tests := []struct {
		name   string
		mode   string
		active bool
		want   []string // operations reported
	}{
		{"vulnerable passive", "vulnerable", false, []string{"GET /admin/users"}},
		{"vulnerable active", "vulnerable", true, []string{"GET /admin/users", "PUT /items/{id}"}},
		{"fixed active", "fixed", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []checktest.Option{checktest.WithOperations(noteOps()...),
				checktest.WithIdentities(ident("root"), ident("alice"))}
			if tt.active {
				opts = append(opts, checktest.WithActive())
			}
			fs := checktest.Run(t, authz.BFLA{}, newNoteAPI(tt.mode).Handler(), opts...)
			got := byOp(fs)
			if len(got) != len(tt.want) {
				t.Fatalf("BFLA findings on %d operations, want %q", len(got), tt.want)
			}
			for _, op := range tt.want {
				if _, ok := got[op]; !ok {
					t.Errorf("no finding on %s", op)
				}
			}
			if f, ok := got["GET /admin/users"]; ok {
				if f.Confidence != scan.Confirmed || !strings.Contains(f.Title, "alice") {
					t.Errorf("admin list finding = %s, want confirmed, open to alice", checktest.Describe(f))
				}
			}
		})
	}
}
