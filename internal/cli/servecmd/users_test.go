package servecmd

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/merlonsec/merlon/internal/cli/cmdutil"
	"github.com/merlonsec/merlon/internal/store"
	"github.com/merlonsec/merlon/internal/store/sqlite"
)

func TestUserCmdParsing(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    UserOptions
		wantErr bool
	}{
		{"add", []string{"user", "add", "ana@example.com", "--db", "x.db"}, UserOptions{Action: "add", Email: "ana@example.com", DB: "x.db"}, false},
		{"list", []string{"user", "list"}, UserOptions{Action: "list"}, false},
		{"remove", []string{"user", "remove", "bob@example.com"}, UserOptions{Action: "remove", Email: "bob@example.com"}, false},
		{"add without email", []string{"user", "add"}, UserOptions{}, true},
		{"list with argument", []string{"user", "list", "extra"}, UserOptions{}, true},
		{"unknown action", []string{"user", "promote", "ana@example.com"}, UserOptions{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got *UserOptions
			ios := cmdutil.NewIO(nil, &bytes.Buffer{}, &bytes.Buffer{})
			cmd := NewCmd(ios, func(context.Context, *Options) error { t.Error("serve ran instead of user"); return nil })
			// NewCmd wires the real RunUser; swap in a recorder.
			for _, c := range cmd.Commands() {
				if c.Name() == "user" {
					cmd.RemoveCommand(c)
				}
			}
			cmd.AddCommand(NewUserCmd(ios, func(_ context.Context, o *UserOptions) error { got = o; return nil }))
			cmd.SetArgs(tt.args)
			cmd.SilenceErrors, cmd.SilenceUsage = true, true
			err := cmd.Execute()
			if tt.wantErr {
				if err == nil || got != nil {
					t.Errorf("serve %v = %v (ran %v), want an error and no run", tt.args, err, got)
				}
				return
			}
			if err != nil || got == nil {
				t.Fatalf("serve %v = %v, ran %v", tt.args, err, got)
			}
			if got.Action != tt.want.Action || got.Email != tt.want.Email || got.DB != tt.want.DB {
				t.Errorf("serve %v = %+v, want %+v", tt.args, *got, tt.want)
			}
		})
	}
}

// TestRunUser adds, lists and removes accounts in a real SQLite store and
// checks that the password read from stdin signs in.
func TestRunUser(t *testing.T) {
	db := filepath.Join(t.TempDir(), "merlon.db")
	run := func(action, email, stdin string) (string, error) {
		t.Helper()
		var out bytes.Buffer
		err := RunUser(context.Background(), &UserOptions{
			IO: cmdutil.NewIO(strings.NewReader(stdin), &out, &bytes.Buffer{}), Action: action, Email: email, DB: db,
		})
		return out.String(), err
	}
	usage := func(what string, err error) {
		t.Helper()
		var ue *cmdutil.UsageError
		if !errors.As(err, &ue) {
			t.Errorf("%s = %v, want a usage error (exit 2)", what, err)
		}
	}
	if out, err := run("add", "Ana@Example.com", "a long enough password\n"); err != nil || out != "added ana@example.com\n" {
		t.Fatalf("user add = %q, %v; want added ana@example.com", out, err)
	}
	_, err := run("add", "bob@example.com", "short\n")
	usage("user add (short password)", err)
	_, err = run("add", "bob@example.com", "")
	usage("user add (no password)", err)
	_, err = run("add", "not an email", "a long enough password\n")
	usage("user add (bad email)", err)
	_, err = run("add", "ana@example.com", "another long password\n")
	usage("user add (taken email)", err)
	if _, err := run("add", "bob@example.com", "bob's long password\r\nignored"); err != nil {
		t.Fatalf("user add bob = %v", err)
	}
	out, err := run("list", "", "")
	if err != nil || !strings.HasPrefix(out, "ana@example.com\t") || !strings.Contains(out, "\nbob@example.com\t") {
		t.Errorf("user list = %q, %v; want ana then bob", out, err)
	}

	st, err := sqlite.Open(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	bob, err := st.GetUserByEmail(context.Background(), "bob@example.com")
	if err != nil || !store.CheckPassword(bob.PasswordHash, "bob's long password") {
		t.Errorf("bob = %+v, %v; want the password from the first line of stdin", bob, err)
	}
	st.Close()

	if out, err := run("remove", "bob@example.com", ""); err != nil || out != "removed bob@example.com\n" {
		t.Errorf("user remove bob = %q, %v", out, err)
	}
	_, err = run("remove", "bob@example.com", "")
	usage("user remove (unknown)", err)
	_, err = run("remove", "ana@example.com", "")
	usage("user remove (last account)", err)
	if out, _ := run("list", "", ""); !strings.HasPrefix(out, "ana@example.com\t") || strings.Contains(out, "bob") {
		t.Errorf("user list after removals = %q, want ana alone", out)
	}
}
