package scancmd

import (
	"strings"
	"testing"
)

func TestParseIdentities(t *testing.T) {
	ids, err := parseIdentities([]string{
		"alice:user:Authorization: Bearer a:b",
		"admin:admin:X-Api-Key: k1",
		"alice:user:Cookie: sid=1",
	})
	if err != nil {
		t.Fatalf("parseIdentities = %v", err)
	}
	if len(ids) != 2 {
		t.Fatalf("parseIdentities gave %d identities, want 2", len(ids))
	}
	if got := ids[0].Headers.Get("Authorization"); got != "Bearer a:b" || ids[0].Headers.Get("Cookie") != "sid=1" || ids[0].Role != "user" {
		t.Errorf("alice = %+v, want Authorization %q and Cookie sid=1", ids[0], "Bearer a:b")
	}
	if ids[1].Name != "admin" || ids[1].Headers.Get("X-Api-Key") != "k1" {
		t.Errorf("admin = %+v", ids[1])
	}

	for _, bad := range []struct{ in, want string }{
		{"alice", "want 'name:role:Header: value'"},
		{":user:A: b", "want 'name:role:Header: value'"},
		{"anonymous:none:A: b", "implicit identity"},
		{"alice:user:no colon here", "invalid header"},
	} {
		if _, err := parseIdentities([]string{bad.in}); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("parseIdentities(%q) error = %v, want %q", bad.in, err, bad.want)
		}
	}
	if _, err := parseIdentities([]string{"a:user:A: 1", "a:admin:B: 2"}); err == nil {
		t.Errorf("parseIdentities with two roles for one name = nil error")
	}
}
