package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/merlonsec/merlon/internal/spec"
	"github.com/merlonsec/merlon/internal/spec/spectest"
)

// result is one size's measurement.
type result struct {
	wall, cpu time.Duration
	rss       int64
	requests  int
	floor     time.Duration
}

func (r result) overhead() float64 {
	if r.floor <= 0 {
		return 0
	}
	return float64(r.wall) / float64(r.floor)
}

// call is one request as the server saw it.
type call struct {
	method, uri string
	header      http.Header
	body        []byte
}

// recorder logs every request before handing it to the synthetic API.
type recorder struct {
	next  http.Handler
	mu    sync.Mutex
	calls []call
	on    bool
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	rec.mu.Lock()
	if rec.on {
		rec.calls = append(rec.calls, call{method: r.Method, uri: r.RequestURI, header: r.Header.Clone(), body: body})
	}
	rec.mu.Unlock()
	rec.next.ServeHTTP(w, r)
}

func (rec *recorder) set(on bool) []call {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	rec.on = on
	calls := rec.calls
	rec.calls = nil
	return calls
}

// measure scans the N-operation API with merlon, then replays what it sent.
func measure(ctx context.Context, o options, n int, tmp string) (result, error) {
	rec := &recorder{next: spectest.Server(n, o.latency)}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return result{}, err
	}
	srv := &http.Server{Handler: rec, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	defer srv.Close()
	base := "http://" + ln.Addr().String()

	rec.set(true)
	out := filepath.Join(tmp, fmt.Sprintf("scan-%d.json", n))
	cmd := exec.CommandContext(ctx, o.merlon, "scan", base, "--spec", base+"/openapi.json",
		"--rate", "0", "--concurrency", fmt.Sprint(o.concurrency),
		"--max-requests", "1000000", "--max-time", "30m", "--format", "json", "-o", out, "-q")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	peak, err := runWatched(cmd)
	wall := time.Since(start)
	calls := rec.set(false)
	if err != nil {
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 {
			return result{}, fmt.Errorf("merlon: %v\n%s", err, stderr.Bytes())
		}
	}
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	r := result{wall: wall, requests: len(calls)}
	if ru != nil {
		r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	r.rss = peak
	if len(calls) == 0 {
		return r, errNoRequests
	}
	r.floor, err = replay(ctx, base, calls, o.concurrency)
	return r, err
}

// replay sends calls with a plain net/http client and concurrency workers,
// reading each body in full, and returns how long it took: the least time
// those requests can take against this server.
func replay(ctx context.Context, base string, calls []call, concurrency int) (time.Duration, error) {
	client := &http.Client{
		Transport: &http.Transport{MaxIdleConns: concurrency * 2, MaxIdleConnsPerHost: concurrency},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	defer client.CloseIdleConnections()
	work := make(chan call)
	errs := make(chan error, concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			for c := range work {
				req, err := http.NewRequestWithContext(ctx, c.method, base+c.uri, bytes.NewReader(c.body))
				if err != nil {
					errs <- err
					return
				}
				req.Header = c.header
				resp, err := client.Do(req)
				if err != nil {
					continue // the scan saw the same failures
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	for _, c := range calls {
		work <- c
	}
	close(work)
	wg.Wait()
	took := time.Since(start)
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return took, nil
}

// specResult is the cost of loading one generated spec.
type specResult struct {
	ops, bytes int
	wall, cpu  time.Duration
	rss        int64
}

// measureSpec writes Generate(ops) to a file and loads it in a child
// process (this binary with -load-spec), so the peak RSS is the loader's.
func measureSpec(ctx context.Context, ops int, tmp string) (specResult, error) {
	doc := spectest.Generate(ops)
	path := filepath.Join(tmp, "spec.json")
	if err := os.WriteFile(path, doc, 0o600); err != nil {
		return specResult{}, err
	}
	self, err := os.Executable()
	if err != nil {
		return specResult{}, err
	}
	cmd := exec.CommandContext(ctx, self, "-load-spec", path)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	peak, err := runWatched(cmd)
	if err != nil {
		return specResult{}, fmt.Errorf("load spec child: %w", err)
	}
	var ns, hwm int64
	var got int
	if _, err := fmt.Sscan(out.String(), &ns, &got, &hwm); err != nil {
		return specResult{}, fmt.Errorf("load spec child said %q: %w", out.String(), err)
	}
	if got != ops {
		return specResult{}, fmt.Errorf("loaded %d operations, want %d", got, ops)
	}
	r := specResult{ops: ops, bytes: len(doc), wall: time.Duration(ns)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	r.rss = max(peak, hwm)
	return r, nil
}

// loadSpecChild loads path as merlon does and prints the nanoseconds it
// took (file read included), the operation count and its peak RSS.
func loadSpecChild(path string, w io.Writer) error {
	start := time.Now()
	s, err := spec.LoadFile(path)
	if err != nil {
		return err
	}
	took := time.Since(start)
	// The peak as the child itself last saw it, in case it came after the
	// parent's last reading.
	hwm, _ := vmHWM("/proc/self/status")
	_, err = fmt.Fprintln(w, took.Nanoseconds(), len(s.Operations), hwm)
	return err
}

// runWatched runs cmd and returns the child's peak resident memory: its
// VmHWM, read from /proc every few milliseconds while it runs. Rusage's
// maxrss cannot serve: Go starts children with vfork semantics (the child
// shares the harness's memory until exec), and Linux then counts the
// harness's own peak as the child's. VmHWM belongs to the child's memory
// after exec and only grows, so any reading after the peak holds it; a
// peak in the last few milliseconds before exit would be missed.
func runWatched(cmd *exec.Cmd) (int64, error) {
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	status := fmt.Sprintf("/proc/%d/status", cmd.Process.Pid)
	var peak int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			if v, ok := vmHWM(status); ok && v > peak {
				peak = v
			}
			select {
			case <-stop:
				return
			case <-tick.C:
			}
		}
	})
	err := cmd.Wait()
	close(stop)
	wg.Wait()
	return peak, err
}

// vmHWM reads the VmHWM line of a /proc/<pid>/status file, in bytes.
func vmHWM(path string) (int64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb * 1024, err == nil
		}
	}
	return 0, false
}
