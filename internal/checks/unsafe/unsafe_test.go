package unsafe

import "testing"

func TestRedirectsTo(t *testing.T) {
	tests := []struct {
		loc  string
		want bool
	}{
		{"https://merlon-redirect-probe.invalid/", true},
		{"//merlon-redirect-probe.invalid/x", true},
		{`/\merlon-redirect-probe.invalid`, true},
		{"/home?next=https://merlon-redirect-probe.invalid/", false},
		{"https://example.com/merlon-redirect-probe.invalid", false},
	}
	for _, tt := range tests {
		if got := RedirectsTo(tt.loc, redirectHost); got != tt.want {
			t.Errorf("RedirectsTo(%q) = %v, want %v", tt.loc, got, tt.want)
		}
	}
}
