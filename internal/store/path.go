package store

import (
	"fmt"
	"path/filepath"
)

// DefaultPath returns where the embedded SQLite database lives when no --db
// is given: $MERLON_DB, else $XDG_DATA_HOME/merlon/merlon.db, else
// $HOME/.local/share/merlon/merlon.db. getenv is os.Getenv in production; it
// is a parameter so tests need not touch the process environment.
func DefaultPath(getenv func(string) string) (string, error) {
	if p := getenv("MERLON_DB"); p != "" {
		return p, nil
	}
	if d := getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "merlon", "merlon.db"), nil
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "share", "merlon", "merlon.db"), nil
	}
	return "", fmt.Errorf("default database path: none of MERLON_DB, XDG_DATA_HOME or HOME is set")
}
