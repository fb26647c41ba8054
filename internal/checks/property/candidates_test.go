package property_test

import (
	"slices"
	"testing"

	"github.com/merlonsec/merlon/internal/checks/property"
	"github.com/merlonsec/merlon/internal/scan"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		name string
		want property.Class
		ok   bool
	}{
		{"is_admin", property.Privilege, true},
		{"isAdmin", property.Privilege, true},
		{"profile.settings.role", property.Privilege, true},
		{"owner_id", property.Ownership, true},
		{"credits", property.Billing, true},
		{"email_verified", property.Verification, true},
		{"status", property.Workflow, true},
		{"createdAt", property.Metadata, true},
		{"_rev", property.Metadata, true},
		{"internal_note", property.Metadata, true},
		{"email", "", false},
		{"display_name", "", false},
		{"_id", "", false},
	}
	for _, tt := range tests {
		got, ok := property.Classify(tt.name)
		if got != tt.want || ok != tt.ok {
			t.Errorf("Classify(%q) = %q, %v, want %q, %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

func TestResourcesAndCandidates(t *testing.T) {
	rs := property.Resources(userOps())
	if len(rs) != 1 {
		t.Fatalf("Resources(userOps) = %d resources, want 1 (/admin/stats is not writable)", len(rs))
	}
	r := rs[0]
	if r.Collection != "/users" || r.Item != "/users/{username}" || r.Param != "username" ||
		r.Create == nil || r.Read == nil || r.Update == nil || r.Delete == nil || r.List == nil {
		t.Fatalf("resource = %+v, want /users with all five operations", r)
	}
	seen := map[string]any{"username": "a", "email": "a@example.com", "nickname": "x",
		"profile": map[string]any{"settings": map[string]any{"role": "user", "theme": "dark"}}}
	var got []string
	for _, c := range property.Candidates(r, seen) {
		got = append(got, c.Path+"="+string(c.Class))
	}
	want := []string{"credits=billing", "is_admin=privilege", "profile.settings.role=privilege", "role=privilege",
		"nickname=read-only", "profile.settings.theme=read-only"}
	if !slices.Equal(got, want) {
		t.Errorf("Candidates = %q, want %q", got, want)
	}
	// Discovered writes declare everything reads return: only names count.
	for _, op := range []*scan.Operation{r.Create, r.Update} {
		op.Source = "discovered"
	}
	got = nil
	for _, c := range property.Candidates(r, seen) {
		got = append(got, c.Path)
	}
	if want := []string{"credits", "is_admin", "profile.settings.role", "role"}; !slices.Equal(got, want) {
		t.Errorf("Candidates(discovered) = %q, want %q", got, want)
	}
}
