package scan

import "testing"

func TestRoleRank(t *testing.T) {
	tests := []struct {
		role string
		want int
	}{
		{Anonymous, 0},
		{"user", 1},
		{"", 1},
		{"support", 1},
		{"admin", 2},
		{"Tenant-Admin", 2},
		{"root", 2},
		{"superuser", 2},
		{"staff", 2},
		{"owner", 2},
	}
	for _, tt := range tests {
		if got := RoleRank(tt.role); got != tt.want {
			t.Errorf("RoleRank(%q) = %d, want %d", tt.role, got, tt.want)
		}
	}
}
