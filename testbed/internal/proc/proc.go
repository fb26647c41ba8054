// Package proc starts and stops the real processes behind Merlon's testbed
// harnesses (Flask apps, Node apps, emulators, databases), so that every
// harness waits, tears down and reports failures the same way.
//
// Each child lives in its own process group, which Stop kills whole, and
// on Linux the kernel kills it if the test binary dies first (a timed-out
// test runs no cleanups).
package proc

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// ErrExited is wrapped by WaitFor when the process ended before it was
// ready, which usually means a lost race for a free port: callers retry.
var ErrExited = errors.New("process exited")

// Process is one started child and the end of what it wrote.
type Process struct {
	Name    string
	cmd     *exec.Cmd
	out     *Tail
	done    chan struct{} // closed when the process has been waited for
	waitErr error         // set before done is closed
	once    sync.Once
}

// Launch starts cmd, capturing the last 64 KiB of its output.
func Launch(name string, cmd *exec.Cmd) (*Process, error) {
	p := &Process{Name: name, cmd: cmd, out: &Tail{Max: 64 << 10}, done: make(chan struct{})}
	cmd.Stdout = p.out
	cmd.Stderr = p.out
	cmd.SysProcAttr = sysProcAttr()
	// Output pipes stay open while any child holds them; do not let Wait
	// hang on them once the process itself is gone.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Stop kills the process's whole group and waits (a bounded time) for it.
func (p *Process) Stop() {
	p.once.Do(func() {
		killGroup(p.cmd)
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
		}
	})
}

// Output returns the end of what the process wrote, for failure messages.
func (p *Process) Output() string { return p.out.String() }

// Done is closed once the process has exited and been waited for.
func (p *Process) Done() <-chan struct{} { return p.done }

// ExitErr is the process's Wait error; valid once Done is closed.
func (p *Process) ExitErr() error { return p.waitErr }

// WithOutput appends each process's name and output to err, for a
// failure message that shows why a start failed.
func WithOutput(err error, procs ...*Process) error {
	for _, p := range procs {
		err = fmt.Errorf("%w\n--- %s output ---\n%s", err, p.Name, p.Output())
	}
	return err
}

// WaitFor polls ready every 50 ms until it holds, p exits (ErrExited) or
// the deadline passes.
func WaitFor(p *Process, deadline time.Time, ready func() bool) error {
	start := time.Now()
	for {
		if ready() {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%w: %v", ErrExited, p.waitErr)
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not ready after %v", time.Since(start).Round(time.Second))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// HTTPOK returns a readiness probe: GET url answers 200.
func HTTPOK(url string) func() bool {
	client := &http.Client{Timeout: 2 * time.Second}
	return func() bool {
		resp, err := client.Get(url)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.StatusCode == http.StatusOK
	}
}

// Dialable returns a readiness probe: a TCP connection to addr succeeds.
func Dialable(addr string) func() bool {
	return func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
		}
		return err == nil
	}
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// Require skips t when a testbed is not installed (err != nil), or fails
// it when the environment says the testbed must run (CI or
// MERLON_REQUIRE_TESTBED set): a skipped test in CI proves nothing.
func Require(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	if os.Getenv("CI") != "" || os.Getenv("MERLON_REQUIRE_TESTBED") != "" {
		t.Fatal(err)
	}
	t.Skip(err)
}

// Tail keeps the last Max bytes written to it.
type Tail struct {
	Max int
	mu  sync.Mutex
	buf []byte
}

func (w *Tail) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, b...)
	if over := len(w.buf) - w.Max; over > 0 {
		w.buf = append(w.buf[:0], w.buf[over:]...)
	}
	return len(b), nil
}

func (w *Tail) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.buf)
}
