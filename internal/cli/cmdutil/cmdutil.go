// Package cmdutil holds what every merlon command shares: the IO streams,
// the typed errors that become exit codes, and the version.
package cmdutil

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Exit codes, documented in README.md. Main is the only place that turns
// errors into them.
const (
	ExitOK          = 0   // scan finished, nothing at or above --fail-on
	ExitFindings    = 1   // findings at or above --fail-on
	ExitUsage       = 2   // bad flags, arguments or input
	ExitRuntime     = 3   // the scanner could not do its job
	ExitInterrupted = 130 // stopped by Ctrl-C
)

// Version is set at build time with -ldflags "-X …/cmdutil.Version=v1.2.3".
var Version = "dev"

// IO holds a command's streams. Results go to Out, progress and errors to
// ErrOut; colour and progress bars only when the stream is a terminal.
type IO struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// OutTTY and ErrTTY say whether Out and ErrOut are terminals.
	OutTTY bool
	ErrTTY bool
}

// NewIO wraps the given streams, detecting terminals on *os.File streams.
func NewIO(in io.Reader, out, errOut io.Writer) *IO {
	return &IO{In: in, Out: out, ErrOut: errOut, OutTTY: isTerminal(out), ErrTTY: isTerminal(errOut)}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	if os.Getenv("TERM") == "dumb" {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// UsageError is a mistake in how merlon was called or in what it was given
// (a spec, a config file): exit code 2. Input errors set NoHint, since
// pointing at --help does not help fix a broken spec.
type UsageError struct {
	Err    error
	NoHint bool
}

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// Usagef returns a UsageError with a formatted message.
func Usagef(format string, args ...any) error {
	return &UsageError{Err: fmt.Errorf(format, args...)}
}

// ErrFindings signals that the scan worked and found something at or above
// the --fail-on threshold: exit code 1. The report has already been written.
var ErrFindings = errors.New("findings at or above the --fail-on threshold")

// ErrInterrupted signals that the user stopped the run: exit code 130. What
// was found until then has already been reported.
var ErrInterrupted = errors.New("interrupted")

// ExitCode maps an error returned by a command to the process exit code.
func ExitCode(err error) int {
	var ue *UsageError
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ErrFindings):
		return ExitFindings
	case errors.Is(err, ErrInterrupted):
		return ExitInterrupted
	case errors.As(err, &ue):
		return ExitUsage
	default:
		return ExitRuntime
	}
}

// WriteFile writes what render produces to path. A regular file (or a new
// one) is written whole or not at all: render goes to a temporary file in
// the same directory, which is then renamed over path, so a failed run
// never leaves half a report behind. Anything else that already exists at
// path — /dev/null, a named pipe, /dev/stdout — is written in place, since
// renaming over it would replace the device or pipe with a plain file.
func WriteFile(path string, render func(io.Writer) error) error {
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		f, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		if err := render(f); err != nil {
			f.Close()
			return fmt.Errorf("render report: %w", err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("write report: %w", err)
		}
		return nil
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".merlon-report-*")
	if err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := render(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("render report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
