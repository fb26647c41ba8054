package servecmd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/merlonsec/merlon/internal/cli/cmdutil"
	"github.com/merlonsec/merlon/internal/store"
	"github.com/merlonsec/merlon/internal/store/open"
	"github.com/merlonsec/merlon/internal/web"
)

// UserOptions are the flag values and streams of one `merlon serve user`
// command.
type UserOptions struct {
	IO *cmdutil.IO

	// Action is "add", "list" or "remove".
	Action string
	// Email names the account to add or remove.
	Email string
	DB    string

	// Getenv finds the default database path; nil means os.Getenv.
	Getenv func(string) string
}

// NewUserCmd builds `merlon serve user` and its add, list and remove
// subcommands. runF, when non-nil, replaces RunUser so that tests can check
// parsing alone.
func NewUserCmd(ios *cmdutil.IO, runF func(context.Context, *UserOptions) error) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "user",
		Short: "Add, list and remove the accounts that sign in to the dashboard",
		Long: `Manage the accounts of 'merlon serve' in its database, whether or not the
server runs. Signed-in users can do the same on the dashboard's Users page.

'add' reads the new account's password from the first line of standard
input, so that it shows in no process list or shell history. Passwords
need at least 12 characters. The last account cannot be removed.`,
		Example: `  printf '%s\n' "$PASSWORD" | merlon serve user add ana@example.com
  merlon serve user list --db postgres://merlon@db/merlon
  merlon serve user remove bob@example.com`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return cmdutil.Usagef("unknown command %q for merlon serve user: use add, list or remove", args[0])
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	sub := func(action, use, short string, nargs int) *cobra.Command {
		opts := &UserOptions{IO: ios, Action: action}
		c := &cobra.Command{
			Use:   use,
			Short: short,
			Args: func(cmd *cobra.Command, args []string) error {
				if len(args) != nargs {
					return cmdutil.Usagef("merlon serve user %s takes %d argument(s), got %d", action, nargs, len(args))
				}
				return nil
			},
			RunE: func(cmd *cobra.Command, args []string) error {
				if nargs > 0 {
					opts.Email = args[0]
				}
				if runF != nil {
					return runF(cmd.Context(), opts)
				}
				return RunUser(cmd.Context(), opts)
			},
		}
		c.Flags().StringVar(&opts.DB, "db", "", "database: an SQLite file path or a postgres:// URL (default: the embedded file, as for serve)")
		return c
	}
	cmd.AddCommand(
		sub("add", "add EMAIL", "Add an account; the password is read from standard input", 1),
		sub("list", "list", "List the accounts", 0),
		sub("remove", "remove EMAIL", "Remove an account with its sessions and API tokens", 1),
	)
	return cmd
}

// RunUser carries out one user command on the store o.DB names.
func RunUser(ctx context.Context, o *UserOptions) error {
	if ctx == nil {
		ctx = context.Background()
	}
	dsn, err := storeDSN(o.DB, o.Getenv)
	if err != nil {
		return err
	}
	var password string
	if o.Action == "add" {
		// Read before opening the database, so that a missing password
		// leaves no new database file behind.
		var err error
		if password, err = readPassword(o.IO, o.Email); err != nil {
			return err
		}
	}
	st, err := open.Open(ctx, dsn)
	if err != nil {
		return fmt.Errorf("serve user: %w", err)
	}
	defer st.Close()
	switch o.Action {
	case "add":
		u, err := web.AddUser(ctx, st, o.Email, password)
		if err != nil {
			return userErr("add user", err)
		}
		fmt.Fprintf(o.IO.Out, "added %s\n", u.Email)
	case "list":
		users, err := st.ListUsers(ctx)
		if err != nil {
			return fmt.Errorf("serve user: %w", err)
		}
		for _, u := range users {
			fmt.Fprintf(o.IO.Out, "%s\tadded %s\n", u.Email, u.CreatedAt.Format("2006-01-02 15:04 UTC"))
		}
	case "remove":
		u, err := st.GetUserByEmail(ctx, o.Email)
		if errors.Is(err, store.ErrNotFound) {
			return userErr("remove user", fmt.Errorf("no account %q: %w", o.Email, err))
		}
		if err != nil {
			return fmt.Errorf("remove user: %w", err)
		}
		if err := st.DeleteUser(ctx, u.ID); err != nil {
			if errors.Is(err, store.ErrConflict) {
				return &cmdutil.UsageError{Err: fmt.Errorf("remove user: %s is the last account; add another first", u.Email), NoHint: true}
			}
			return userErr("remove user", err)
		}
		fmt.Fprintf(o.IO.Out, "removed %s\n", u.Email)
	default:
		return cmdutil.Usagef("unknown user action %q", o.Action)
	}
	return nil
}

// userErr makes what the person can fix (a bad or taken email, a short
// password, an unknown or last account) a usage error, exit code 2.
func userErr(what string, err error) error {
	if errors.Is(err, store.ErrInvalid) || errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return &cmdutil.UsageError{Err: fmt.Errorf("%s: %w", what, err), NoHint: true}
	}
	return fmt.Errorf("%s: %w", what, err)
}

// readPassword reads the first line of standard input. On a terminal it
// asks first, and says that the typing shows: piping the password in
// avoids that.
func readPassword(ios *cmdutil.IO, email string) (string, error) {
	if ios.In == nil {
		return "", cmdutil.Usagef("merlon serve user add reads the password from standard input")
	}
	if f, ok := ios.In.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			fmt.Fprintf(ios.ErrOut, "Password for %s (at least %d characters; it shows as you type, pipe it in to avoid that): ", email, web.MinPassword)
		}
	}
	line, err := bufio.NewReader(ios.In).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read password: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", &cmdutil.UsageError{Err: fmt.Errorf("no password on standard input: printf '%%s\\n' \"$PASSWORD\" | merlon serve user add %s", email), NoHint: true}
	}
	return line, nil
}
