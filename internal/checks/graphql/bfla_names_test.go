package graphql

import "testing"

func TestPrivilegedNames(t *testing.T) {
	tests := []struct {
		name            string
		query, mutation bool
	}{
		{"adminStats", true, true},
		{"allUsers", true, true},
		{"internalMetrics", true, true},
		{"auditLog", true, true},
		{"users", false, false},
		{"me", false, false},
		{"deleteUser", false, true},
		{"removeMember", false, true},
		{"banAccount", false, true},
		{"promoteUser", false, true},
		{"setRole", false, true},
		{"setUserRole", false, true},
		{"updatePermissions", false, true},
		{"updateProfile", false, false},
		{"createUser", false, false},
		{"setName", false, false},
	}
	for _, tt := range tests {
		if got := privilegedQuery(tt.name); got != tt.query {
			t.Errorf("privilegedQuery(%q) = %v, want %v", tt.name, got, tt.query)
		}
		if got := privilegedMutation(tt.name); got != tt.mutation {
			t.Errorf("privilegedMutation(%q) = %v, want %v", tt.name, got, tt.mutation)
		}
	}
}
