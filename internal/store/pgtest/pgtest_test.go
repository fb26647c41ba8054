package pgtest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestNewestBinDir(t *testing.T) {
	tests := []struct {
		name string
		// dirs are version directories; those ending in "!" have no initdb
		// (a client-only package).
		dirs []string
		want string // version directory, or "" for an error
	}{
		{"one", []string{"15"}, "15"},
		{"newest major wins", []string{"13", "17", "15"}, "17"},
		{"numeric, not lexical", []string{"9.6", "10", "16"}, "16"},
		{"old style minor", []string{"9.5", "9.6"}, "9.6"},
		{"server over client-only", []string{"15", "17!"}, "15"},
		{"not versions ignored", []string{"15", "latest", "common"}, "15"},
		{"none", nil, ""},
		{"client only", []string{"16!"}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			for _, d := range tc.dirs {
				name, clientOnly := d, false
				if d[len(d)-1] == '!' {
					name, clientOnly = d[:len(d)-1], true
				}
				bin := filepath.Join(root, name, "bin")
				if err := os.MkdirAll(bin, 0o755); err != nil {
					t.Fatal(err)
				}
				if !clientOnly {
					if err := os.WriteFile(filepath.Join(bin, "initdb"), nil, 0o755); err != nil {
						t.Fatal(err)
					}
				}
			}
			got, err := newestBinDir(root)
			if tc.want == "" {
				if err == nil {
					t.Errorf("newestBinDir(%v) = %q, want an error", tc.dirs, got)
				}
				return
			}
			if want := filepath.Join(root, tc.want, "bin"); got != want || err != nil {
				t.Errorf("newestBinDir(%v) = %q, %v, want %q", tc.dirs, got, err, want)
			}
		})
	}
	if _, err := newestBinDir(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("newestBinDir(missing root) = nil error, want one")
	}
}
