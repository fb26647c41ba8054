package store_test

import (
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/store"
)

func TestDefaultPath(t *testing.T) {
	cases := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"MERLON_DB wins", map[string]string{"MERLON_DB": "/srv/m.db", "XDG_DATA_HOME": "/x", "HOME": "/h"}, "/srv/m.db"},
		{"XDG data home", map[string]string{"XDG_DATA_HOME": "/x", "HOME": "/h"}, "/x/merlon/merlon.db"},
		{"home", map[string]string{"HOME": "/h"}, "/h/.local/share/merlon/merlon.db"},
	}
	for _, tc := range cases {
		got, err := store.DefaultPath(func(k string) string { return tc.env[k] })
		if err != nil || got != tc.want {
			t.Errorf("%s: DefaultPath = %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	if _, err := store.DefaultPath(func(string) string { return "" }); err == nil {
		t.Error("DefaultPath(no env) = nil error, want one")
	}
}

func TestTokens(t *testing.T) {
	a, err := store.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	b, _ := store.NewToken()
	if a == b || !strings.HasPrefix(a, "mln_") || len(a) != 4+43 {
		t.Errorf("NewToken() = %q, %q; want two different mln_ tokens of 47 characters", a, b)
	}
	if store.HashToken(a) == store.HashToken(b) || store.HashToken(a) != store.HashToken(a) {
		t.Error("HashToken is not a stable, distinct hash")
	}
	if _, err := store.HashPassword(""); err == nil {
		t.Error("HashPassword(\"\") = nil error, want ErrInvalid")
	}
}
