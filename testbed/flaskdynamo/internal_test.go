package flaskdynamo

import (
	"errors"
	"strings"
	"testing"
)

func TestStartUnknownVariant(t *testing.T) {
	if err := Available(); err != nil {
		t.Skip(err)
	}
	app, procs, err := start("nonesuch", Options{})
	if err == nil {
		for _, p := range procs {
			p.stop()
		}
		t.Fatalf("start(nonesuch) = %v, want an error", app)
	}
	if !errors.Is(err, errExited) {
		t.Errorf("start(nonesuch) error = %v, want it to wrap errExited", err)
	}
	// The app's own complaint must reach the failure message.
	if !strings.Contains(err.Error(), "unknown MERLON_VARIANT") {
		t.Errorf("start(nonesuch) error = %v, want the app's output naming the bad variant", err)
	}
}

func TestTailKeepsTheEnd(t *testing.T) {
	tests := []struct {
		name   string
		writes []string
		want   string
	}{
		{"under the limit", []string{"ab", "c"}, "abc"},
		{"at the limit", []string{"abcd"}, "abcd"},
		{"over the limit", []string{"abc", "def"}, "cdef"},
		{"one long write", []string{"abcdefgh"}, "efgh"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			w := &tail{max: 4}
			for _, s := range tc.writes {
				if n, err := w.Write([]byte(s)); n != len(s) || err != nil {
					t.Fatalf("Write(%q) = %d, %v, want %d, nil", s, n, err, len(s))
				}
			}
			if got := w.String(); got != tc.want {
				t.Errorf("tail after %q = %q, want %q", tc.writes, got, tc.want)
			}
		})
	}
}
